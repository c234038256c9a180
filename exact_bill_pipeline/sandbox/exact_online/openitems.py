"""Outstanding payables: what each invoice still owes once the payments matched to it by OurRef are taken off.

Rules and sources: docs/ap-documents.md, "Matching a payment to the invoice it pays". An item is opened by the
accounts payable line of a purchase entry (line 0), or by a payment line that names no invoice; a bank or general
journal line on accounts payable whose InvoiceNumber (its OurRef) names an invoice of the same supplier is a part
payment of that invoice. Items are worked out from the transaction lines every time, so deleting an entry gives
back what it matched. They are served as read/financial/PayablesList (what is open) and cashflow/Payments (the
payment terms: the parts matched, status 50, and what is still open, status 20).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from exact_bill_pipeline.sandbox.exact_online.currency import money
from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore, Row, Table

AP_TYPE = 22
PURCHASE_TYPES = frozenset({30, 31})
MATCHED, OPEN = 50, 20
CENT = 0.005
_IDS = uuid.UUID("7f1c2a52-0f41-4c1e-9d7e-5b3a8c6e1d20")  # namespace of the sandbox's payment term IDs


@dataclass
class Part:
    """What one payment line took off an item, in the item's currency and the division's."""

    line: Row
    fc: float
    dc: float


@dataclass
class Item:
    """One outstanding item: an invoice or credit note with its matched parts, or a payment no invoice claims."""

    opening: Row
    entry: Row | None
    parts: list[Part] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.opening["Currency"]

    @property
    def owed_fc(self) -> float:
        # Accounts payable is credited by what is owed, so what the item owes is minus its line's amount.
        return -self.opening["AmountFC"]

    @property
    def owed_dc(self) -> float:
        return -self.opening["AmountDC"]

    @property
    def open_fc(self) -> float:
        return money(self.owed_fc - sum(p.fc for p in self.parts))

    @property
    def open_dc(self) -> float:
        return money(self.owed_dc - sum(p.dc for p in self.parts))

    @property
    def is_open(self) -> bool:
        return abs(self.open_fc) >= CENT or abs(self.open_dc) >= CENT

    def take(self, line: Row) -> None:
        if line["Currency"] == self.currency:
            self.parts.append(Part(line, line["AmountFC"], line["AmountDC"]))
            return
        # A payment in another currency than the invoice's is matched on AmountDC ("Payments are matched on this
        # amount", cashflow/Payments); its share in the invoice's currency follows the invoice's own rate.
        rate = self.owed_dc / self.owed_fc if self.owed_fc else 1.0
        self.parts.append(Part(line, money(line["AmountDC"] / rate), line["AmountDC"]))


def exchange_difference(item: Item | None, line_fc: float, line_dc: float, line_currency: str, base: str) -> float:
    """The realized difference, in the division's currency, when a payment at its own rate settles (part of) an
    invoice in the same foreign currency; positive when the payment cost more than the invoice was booked at."""
    if item is None or line_currency != item.currency or item.currency == base or not line_fc:
        return 0.0
    open_fc, open_dc = item.open_fc, item.open_dc
    if abs(open_fc) < CENT or (line_fc > 0) != (open_fc > 0):
        return 0.0
    matched = line_fc if abs(line_fc) <= abs(open_fc) else open_fc
    invoice_dc = open_dc if matched == open_fc else money(open_dc * matched / open_fc)
    payment_dc = line_dc if matched == line_fc else money(line_dc * matched / line_fc)
    return money(payment_dc - invoice_dc)


class OpenItems:
    """The outstanding items of every supplier, from the transaction lines on accounts payable accounts."""

    def __init__(self, store: DivisionStore) -> None:
        self.store = store

    def items(self, account: str | None = None) -> list[Item]:
        ap_ids = {gl["ID"] for gl in self.store.table("GLAccounts").rows.values() if gl["Type"] == AP_TYPE}
        rows = (self.store.table("TransactionLines").rows.values() if account is None
                else self.store.find("TransactionLines", "Account", account))
        lines = sorted((r for r in rows if r.get("GLAccount") in ap_ids and r.get("Account")),
                       key=lambda r: r["Timestamp"])
        invoices: dict[tuple[str, int], Item] = {}
        loose: list[Item] = []
        for line in lines:
            if line.get("Type") in PURCHASE_TYPES and line.get("LineNumber") == 0:
                entry = self.store.get("PurchaseEntries", line["EntryID"])
                invoices[(line["Account"], line["InvoiceNumber"])] = Item(line, entry)
                continue
            target = invoices.get((line["Account"], line.get("InvoiceNumber")))
            if target is None:
                loose.append(Item(line, None))
            else:
                target.take(line)
        return [*invoices.values(), *loose]

    def item_for(self, account: str, invoice_number: int) -> Item | None:
        return next((i for i in self.items(account) if i.entry is not None
                     and i.opening["InvoiceNumber"] == invoice_number), None)

    # ----- the two read endpoints ------------------------------------------------------------------------------
    def payables_view(self) -> Table:
        table = Table("HID")
        for item in self.items():
            if item.is_open:
                row = self._payables_row(item)
                table.put({**row, "Timestamp": row["HID"]})
        return table

    def payments_view(self) -> Table:
        table = Table("ID")
        stamp = 0
        for item in self.items():
            for row in self._payment_rows(item):
                stamp += 1
                table.put({**row, "Timestamp": stamp})
        return table

    def _payables_row(self, item: Item) -> Row:
        opening, entry = item.opening, item.entry or {}
        return {
            **self._account_fields(opening["Account"]),
            # HID, the "human readable ID", is the row version of the line that opened the item: unique and stable.
            "HID": opening["Timestamp"], "Amount": item.open_fc, "AmountInTransit": 0.0, "ApprovalStatus": None,
            "CurrencyCode": item.currency, "Description": entry.get("Description") or opening.get("Description"),
            "DueDate": entry.get("DueDate") or opening.get("Date"), "EntryNumber": opening["EntryNumber"],
            "Id": None, "InvoiceDate": entry.get("EntryDate") or opening.get("Date"),
            "InvoiceNumber": opening.get("InvoiceNumber"), "JournalCode": opening["JournalCode"],
            "JournalDescription": opening["JournalDescription"],
            # "Purchase invoice Your Reference number. Will be null if it is a cashflow entry."
            "YourRef": entry.get("YourRef"),
        }

    def _payment_rows(self, item: Item) -> list[Row]:
        rows = []
        for part in _merged(item.parts):
            rows.append(self._payment_row(item, part.line, part.fc, part.dc, MATCHED))
        if item.is_open:
            rows.append(self._payment_row(item, None, item.open_fc, item.open_dc, OPEN))
        return rows

    def _payment_row(self, item: Item, paid_by: Row | None, fc: float, dc: float, status: int) -> Row:
        opening, entry = item.opening, item.entry or {}
        term_id = str(uuid.uuid5(_IDS, f"{opening['ID']}/{paid_by['ID'] if paid_by else 'open'}"))
        when = paid_by or opening
        return {
            **{k: v for k, v in self._account_fields(opening["Account"]).items() if k != "AccountId"},
            "ID": term_id, "EntryID": term_id, "Account": opening["Account"], "AmountFC": fc, "AmountDC": dc,
            "AmountDiscountFC": 0.0, "AmountDiscountDC": 0.0, "Currency": item.currency,
            "RateFC": round(dc / fc, 6) if fc else opening.get("ExchangeRate"), "Status": status,
            "Description": entry.get("Description") or opening.get("Description"),
            "DueDate": entry.get("DueDate") or opening.get("Date"), "EntryDate": when.get("Date"),
            "EndDate": paid_by and paid_by.get("Date"), "EndYear": paid_by and paid_by.get("FinancialYear"),
            "EndPeriod": paid_by and paid_by.get("FinancialPeriod"), "EntryNumber": opening["EntryNumber"],
            "GLAccount": opening["GLAccount"], "GLAccountCode": opening["GLAccountCode"],
            "GLAccountDescription": opening["GLAccountDescription"],
            "InvoiceDate": entry.get("EntryDate") or opening.get("Date"),
            "InvoiceNumber": opening.get("InvoiceNumber"), "IsBatchBooking": 0, "Journal": opening["JournalCode"],
            "JournalDescription": opening["JournalDescription"], "PaymentMethod": "B",
            "PaymentCondition": entry.get("PaymentCondition"),
            "PaymentConditionDescription": entry.get("PaymentConditionDescription"), "Source": 1,
            "TransactionAmountFC": item.owed_fc, "TransactionAmountDC": item.owed_dc,
            "TransactionDueDate": entry.get("DueDate") or opening.get("Date"),
            "TransactionEntryID": opening["EntryID"], "TransactionID": opening["ID"],
            "TransactionIsReversal": bool(entry.get("Reversal")),
            "TransactionReportingYear": opening.get("FinancialYear"),
            "TransactionReportingPeriod": opening.get("FinancialPeriod"), "TransactionStatus": opening.get("Status"),
            "TransactionType": opening.get("Type"), "YourRef": entry.get("YourRef"),
            "Created": opening.get("Created"), "Modified": when.get("Modified"),
        }

    def _account_fields(self, account_id: str) -> Row:
        account = self.store.get("Accounts", account_id) or {}
        return {"AccountId": account_id, "AccountCode": account.get("Code"), "AccountName": account.get("Name")}


def _merged(parts: list[Part]) -> list[Part]:
    """Parts as payment terms: an exchange-difference line (no amount in the item's currency) joins the payment
    of its entry, so each matched term shows what it took off the invoice in both currencies."""
    out: list[Part] = []
    for part in parts:
        if out and not part.fc and part.line["EntryID"] == out[-1].line["EntryID"]:
            out[-1] = Part(out[-1].line, out[-1].fc, money(out[-1].dc + part.dc))
        else:
            out.append(part)
    return out
