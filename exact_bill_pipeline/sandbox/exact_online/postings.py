"""Business writes: booking purchase, general journal and bank entries with their TransactionLines, crm Accounts.

Validation is checks.py (nothing is stored when any problem exists); the division's currencies, VAT codes, closed
periods and the matching of payments to invoices have modules of their own. The sign of each amount, and its
source, is in docs/ap-documents.md ("Signs").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from exact_bill_pipeline.sandbox.exact_online.checks import PAYMENT_CONDITIONS, Checker, LineRefs, Rules
from exact_bill_pipeline.sandbox.exact_online.closing import PeriodLocks
from exact_bill_pipeline.sandbox.exact_online.currency import Currencies, money, to_dc
from exact_bill_pipeline.sandbox.exact_online.edm import DAY_MS, iso_date, start_of_day_ms
from exact_bill_pipeline.sandbox.exact_online.entities import ACCOUNT_CODE_WIDTH, ENTITY_SETS, EntitySet
from exact_bill_pipeline.sandbox.exact_online.errors import ValidationFailed, not_found
from exact_bill_pipeline.sandbox.exact_online.openitems import Item, OpenItems, exchange_difference
from exact_bill_pipeline.sandbox.exact_online.store import ChangeEvent, DivisionStore, Row
from exact_bill_pipeline.sandbox.exact_online.vat import LineVat, VatCodes
from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings

AP_TYPE = 22
AR_TYPE = 20
PURCHASE_JOURNAL = 22
BANK_JOURNAL = 12
GENERAL_JOURNAL = 90
GL_TYPES = {
    10: "Cash", 12: "Bank", 14: "Credit card", 16: "Payment services", 20: "Accounts receivable",
    21: "Prepayment accounts receivable", 22: "Accounts payable", 24: "VAT", 25: "Employees payable",
    26: "Prepaid expenses", 27: "Accrued expenses", 29: "Income taxes payable", 30: "Fixed assets",
    32: "Other assets", 35: "Accumulated depreciation", 40: "Inventory", 50: "Capital stock",
    52: "Retained earnings", 55: "Long term debt", 60: "Current portion of debt", 90: "General",
    100: "Tax payable", 110: "Revenue", 111: "Cost of goods", 120: "Other costs",
    121: "Sales, general administrative expenses", 122: "Depreciation costs", 123: "Research and development",
    125: "Employee costs", 126: "Employment costs", 130: "Exceptional costs", 140: "Exceptional income",
    150: "Income taxes", 160: "Interest income",
}
ENTRY_STATUS = {5: "Rejected", 20: "Open", 50: "Processed"}
ENTRY_TYPES = {30: "Purchase entry", 31: "Purchase credit note", 40: "Cash flow", 90: "Other"}
DEFAULT_PAYMENT_DAYS = 30
EXCHANGE_DIFFERENCE = "Exchange rate difference"
# VATType of a purchase's transaction lines (the VATType list of GeneralJournalEntryLines): purchase basis and VAT
# to claim, or their credit-note twins; S is "No VAT".
VAT_TYPES = {(30, "base"): "I", (30, "vat"): "O", (31, "base"): "W", (31, "vat"): "Q"}


@dataclass(frozen=True)
class Amounts:
    """One transaction line's amounts: in the entry's currency, in the division's, and the rate between them."""

    fc: float
    dc: float
    currency: str
    rate: float

    def negated(self) -> Amounts:
        return Amounts(-self.fc, -self.dc, self.currency, self.rate)


@dataclass
class Difference:
    """A realized exchange rate difference to book for one matched payment line."""

    line: Row
    refs: LineRefs
    currency: str
    amount_dc: float


class Postings:
    """Creates entries, their lines and TransactionLines, and crm Accounts, in one division."""

    def __init__(self, store: DivisionStore, settings: ExactSandboxSettings) -> None:
        self.store = store
        self.settings = settings
        self.currencies = Currencies(store, settings.currency)
        self.locks = PeriodLocks(store)
        self.vat = VatCodes(store)
        self.open_items = OpenItems(store)
        self.rules = Rules(self.currencies, self.locks, self.vat)
        self._entry_numbers: dict[str, int] = {}
        # The last bank entry's closing balance per journal, so a posting does not scan every earlier entry.
        self._closing: dict[str, float] = {}

    @property
    def currency(self) -> str:
        return self.currencies.base

    def checker(self) -> Checker:
        return Checker(self.store, self.rules)

    def today_ms(self) -> int:
        return start_of_day_ms(self.store.clock.now_ms())

    # ----- purchase entries -------------------------------------------------------------------------------------
    def create_purchase_entry(self, values: Row, lines: list[Row]) -> Row:
        check = self.checker()
        entry_set = ENTITY_SETS["purchaseentry/PurchaseEntries"]
        check.client_keys(values, {"EntryID": "PurchaseEntries"}, self.settings.accept_client_entry_id)
        journal = check.journal(values.get("Journal"), PURCHASE_JOURNAL, "purchase")
        supplier = check.relationship(values.get("Supplier"), mandatory=True, supplier=True)
        entry_ms = start_of_day_ms(values.get("EntryDate") or self.today_ms())
        period = self._reporting_period(check, values, entry_ms)
        check.open_period(journal, period)
        currency = check.entry_currency(values.get("Currency"), journal)
        rate = check.rate(currency, journal, values.get("Rate"), "Rate", entry_ms)
        check.payment_condition(values.get("PaymentCondition"))
        check.unkept_references(values, entry_set)
        self._check_entry_number(check, journal, values.get("EntryNumber"))
        self._check_your_ref(check, values)
        refs = self._check_lines(check, lines, entry_ms, ENTITY_SETS["purchaseentry/PurchaseEntryLines"])
        for line, ref in zip(lines, refs, strict=True):
            ref.vat_code = check.purchase_vat(line, ref.gl)
        check.fail_if_any()
        assert journal is not None
        assert supplier is not None
        assert period is not None
        entry = self.book_purchase_entry({**values, "Currency": currency, "Rate": rate}, lines, refs, journal,
                                         supplier, period, entry_ms)
        self.store.emit(ChangeEvent("PurchaseEntries", "Create", entry["EntryID"], entry_set.path))
        return entry

    def _reporting_period(self, check: Checker, values: Row, entry_ms: int) -> Row | None:
        if values.get("ReportingYear") is None and values.get("ReportingPeriod") is None:
            return check.period_of_date(entry_ms)
        return check.period(values.get("ReportingYear"), values.get("ReportingPeriod"),
                            "Reporting year", "Reporting period")

    def _check_entry_number(self, check: Checker, journal: Row | None, number: int | None) -> None:
        if number is None or journal is None:
            return
        for table in ("PurchaseEntries", "GeneralJournalEntries", "BankEntries"):
            for entry in self.store.find(table, "EntryNumber", number):
                if entry.get("Journal", entry.get("JournalCode")) == journal["Code"]:
                    check.add(f"Entry number already exists: {number}")
                    return

    def _check_your_ref(self, check: Checker, values: Row) -> None:
        your_ref = values.get("YourRef")
        if not self.settings.unique_your_ref or not your_ref:
            return
        for entry in self.store.find("PurchaseEntries", "YourRef", your_ref):
            if entry["Supplier"] == values.get("Supplier"):
                check.add(f"Your reference already exists for this relationship: {your_ref}")
                return

    def _check_lines(self, check: Checker, lines: list[Row], on_ms: int, line_set: EntitySet) -> list[LineRefs]:
        if not lines:
            check.add("Mandatory: Lines")
        refs = []
        for line in lines:
            check.client_keys(line, {"ID": line_set.table, "EntryID": None}, self.settings.accept_client_entry_id)
            gl = check.gl_account(line.get("GLAccount"))
            if line.get("AmountFC") is None:
                check.add("Mandatory: Amount")
            line_ms = start_of_day_ms(line.get("Date") or on_ms)
            center = check.cost_center(line.get("CostCenter"), gl, line_ms)
            unit = check.cost_unit(line.get("CostUnit"), gl, line_ms)
            check.unkept_references(line, line_set)
            refs.append(LineRefs(gl, center, unit))
        return refs

    def book_purchase_entry(
        self, values: Row, lines: list[Row], refs: list[LineRefs], journal: Row, supplier: Row, period: Row,
        entry_ms: int, status: int = 20, at_ms: int | None = None,
    ) -> Row:
        """Stores a validated purchase entry, its lines and its TransactionLines (also used for seeding).

        Each line's VAT is worked out from its code (vat.py); the entry's total is the lines with their VAT, and a
        negative total makes it a purchase credit note, type 31 (docs/ap-documents.md)."""
        currency, rate = values.get("Currency") or self.currency, values.get("Rate") or 1.0
        vats = [self.vat.compute(ref.vat_code, line["AmountFC"], line.get("VATAmountFC"))
                for line, ref in zip(lines, refs, strict=True)]
        bases = [Amounts(v.base_fc, to_dc(v.base_fc, rate), currency, rate) for v in vats]
        taxes = [Amounts(v.vat_fc, to_dc(v.vat_fc, rate), currency, rate) for v in vats]
        total = Amounts(money(sum(a.fc for a in bases + taxes)), money(sum(a.dc for a in bases + taxes)),
                        currency, rate)
        entry = self._purchase_header(values, journal, supplier, period, entry_ms, status, total, taxes)
        self.store.insert("PurchaseEntries", entry, at_ms)
        ap_gl = self.store.get("GLAccounts", supplier.get("GLAP")) or self.ap_account()
        self._transaction_line(entry, 0, ap_gl, total.negated(), at_ms, account=supplier, kind="purchase")
        for number, (line, ref, vat, base, tax) in enumerate(zip(lines, refs, vats, bases, taxes, strict=True),
                                                             start=1):
            stored = self._purchase_line(entry, line, ref, number, vat, base, tax, at_ms)
            self._transaction_line(entry, number, ref.gl, base, at_ms, line=stored, account=supplier,
                                   kind="purchase", vat=vat, vat_type=self._vat_type(entry, vat, "base"))
        self._vat_lines(entry, vats, taxes, supplier, len(lines) + 1, at_ms)
        return entry

    def _purchase_header(
        self, values: Row, journal: Row, supplier: Row, period: Row, entry_ms: int, status: int, total: Amounts,
        taxes: list[Amounts],
    ) -> Row:
        number = self._entry_number(journal["Code"], values.get("EntryNumber"))
        condition = values.get("PaymentCondition") or supplier.get("PaymentConditionPurchase")
        days = PAYMENT_CONDITIONS.get(condition or "", (DEFAULT_PAYMENT_DAYS, ""))[0]
        entry_type = 31 if total.fc < 0 else 30
        return {
            **{k: v for k, v in values.items() if k != "PurchaseEntryLines"},
            "EntryID": values.get("EntryID") or str(uuid.uuid4()),
            "EntryNumber": number, "InvoiceNumber": values.get("InvoiceNumber") or number,
            "Journal": journal["Code"], "JournalDescription": journal["Description"],
            "Supplier": supplier["ID"], "SupplierName": supplier["Name"], "EntryDate": entry_ms,
            "DueDate": values.get("DueDate") or entry_ms + days * DAY_MS, "Currency": total.currency,
            "Rate": total.rate, "PaymentCondition": condition,
            "PaymentConditionDescription": PAYMENT_CONDITIONS.get(condition or "", (0, None))[1],
            "ReportingYear": period["FinYear"], "ReportingPeriod": period["FinPeriod"],
            "AmountDC": total.dc, "AmountFC": total.fc, "VATAmountDC": money(sum(t.dc for t in taxes)),
            "VATAmountFC": money(sum(t.fc for t in taxes)),
            "Reversal": bool(values.get("Reversal")), "Type": entry_type, "TypeDescription": ENTRY_TYPES[entry_type],
            "Status": status, "StatusDescription": ENTRY_STATUS[status],
        }

    def _purchase_line(
        self, entry: Row, line: Row, ref: LineRefs, number: int, vat: LineVat, base: Amounts, tax: Amounts,
        at_ms: int | None,
    ) -> Row:
        gl = ref.gl or {}
        amount = money(line["AmountFC"])
        row = {
            **line, "ID": line.get("ID") or str(uuid.uuid4()), "EntryID": entry["EntryID"], "LineNumber": number,
            "GLAccount": gl.get("ID"), "GLAccountCode": gl.get("Code"), "GLAccountDescription": gl.get("Description"),
            # AmountFC is the amount as sent: net for an excluding VAT code, gross for an including one.
            "AmountFC": amount, "AmountDC": to_dc(amount, base.rate),
            "Description": line.get("Description") or entry.get("Description"),
            "CostCenterDescription": ref.cost_center and ref.cost_center["Description"],
            "CostUnitDescription": ref.cost_unit and ref.cost_unit["Description"],
            "VATCode": vat.code_text, "VATCodeDescription": vat.description, "VATPercentage": vat.percentage,
            "VATAmountFC": tax.fc, "VATAmountDC": tax.dc, "VATBaseAmountFC": base.fc, "VATBaseAmountDC": base.dc,
            "Type": entry["Type"],
        }
        return self.store.insert("PurchaseEntryLines", row, at_ms)

    def _vat_lines(
        self, entry: Row, vats: list[LineVat], taxes: list[Amounts], supplier: Row, number: int, at_ms: int | None,
    ) -> None:
        """One generated VAT line per VAT code, on the code's VAT-to-claim account ("VAT Lines will be automatically
        created if the VATCode is specified", GeneralJournalEntryLines reference)."""
        by_code: dict[str, list[tuple[LineVat, Amounts]]] = {}
        for vat, tax in zip(vats, taxes, strict=True):
            if vat.code is not None and tax.fc:
                by_code.setdefault(vat.code["Code"], []).append((vat, tax))
        for parts in by_code.values():
            vat = parts[0][0]
            total = Amounts(money(sum(t.fc for _v, t in parts)), money(sum(t.dc for _v, t in parts)),
                            parts[0][1].currency, parts[0][1].rate)
            base = money(sum(v.base_fc for v, _t in parts))
            gl = self.store.get("GLAccounts", vat.code.get("GLToClaim"))
            line = {"VATCode": vat.code_text, "VATCodeDescription": vat.description,
                    "Description": f"{vat.description} {entry.get('Description') or ''}".strip()[:60]}
            self._transaction_line(entry, number, gl, total, at_ms, line=line, account=supplier, kind="purchase",
                                   vat=LineVat(vat.code, base, total.fc), vat_type=self._vat_type(entry, vat, "vat"))
            number += 1

    @staticmethod
    def _vat_type(entry: Row, vat: LineVat, part: str) -> str | None:
        if vat.code is None:
            return None
        if vat.code["Type"] == "N":
            return "S"
        return VAT_TYPES[(entry["Type"], part)]

    def ap_account(self) -> Row:
        return next(r for r in self.store.table("GLAccounts").rows.values()
                    if r["Type"] == AP_TYPE and not r.get("IsBlocked"))

    # ----- general journal entries --------------------------------------------------------------------------
    def create_general_journal_entry(self, values: Row, lines: list[Row]) -> Row:
        check = self.checker()
        check.client_keys(values, {"EntryID": "GeneralJournalEntries"}, self.settings.accept_client_entry_id)
        journal = check.journal(values.get("JournalCode"), GENERAL_JOURNAL, "general")
        period = self._entry_period(check, values, lines)
        check.open_period(journal, period)
        on_ms = self._rate_day(lines, period)
        currency = check.entry_currency(values.get("Currency"), journal)
        rate = check.rate(currency, journal, values.get("ExchangeRate"), "ExchangeRate", on_ms)
        self._check_entry_number(check, journal, values.get("EntryNumber"))
        line_set = ENTITY_SETS["generaljournalentry/GeneralJournalEntryLines"]
        refs = self._check_lines(check, lines, period["StartDate"] if period else self.today_ms(), line_set)
        self._check_journal_lines(check, lines, refs, period, journal)
        amounts = [line["AmountFC"] for line in lines if line.get("AmountFC") is not None]
        if len(amounts) == len(lines) and lines and money(sum(amounts)) != 0:
            # Positive AmountFC is a debit, negative a credit, and the lines must balance (docs/ap-documents.md,
            # Signs); the wording here is UNCONFIRMED (Exact's own names the period and type).
            check.add(f"Entry is not in balance. Difference: {money(sum(amounts)):.2f}")
        check.fail_if_any()
        assert journal is not None
        assert period is not None
        values = {**values, "Currency": currency, "ExchangeRate": rate}
        entry = self._book_entry("GeneralJournalEntries", "GeneralJournalEntryLines", values, lines, refs,
                                 journal, period, entry_type=90, rates=[rate] * len(lines))
        self.store.emit(ChangeEvent("GeneralJournalEntries", "Create", entry["EntryID"],
                                    "generaljournalentry/GeneralJournalEntries"))
        return entry

    def _entry_period(self, check: Checker, values: Row, lines: list[Row]) -> Row | None:
        if values.get("FinancialYear") is None and values.get("FinancialPeriod") is None:
            dated = next((line["Date"] for line in lines if line.get("Date") is not None), None)
            return check.period_of_date(dated if dated is not None else self.today_ms())
        return check.period(values.get("FinancialYear"), values.get("FinancialPeriod"),
                            "Financial year", "Financial period")

    def _rate_day(self, lines: list[Row], period: Row | None) -> int:
        dated = next((line["Date"] for line in lines if line.get("Date") is not None), None)
        return start_of_day_ms(dated if dated is not None else (period["StartDate"] if period else self.today_ms()))

    def _check_journal_lines(
        self, check: Checker, lines: list[Row], refs: list[LineRefs], period: Row | None, journal: Row | None,
    ) -> None:
        for line, ref in zip(lines, refs, strict=True):
            # UNCONFIRMED: lines on an accounts payable or receivable account need a relation (stricter).
            needs_relation = ref.gl is not None and ref.gl["Type"] in {AP_TYPE, AR_TYPE}
            ref.account = check.relationship(line.get("Account"), mandatory=needs_relation)
            check.journal_vat(line, journal)
            date_ms = line.get("Date")
            if period is not None and date_ms is not None and not (
                period["StartDate"] <= date_ms < period["EndDate"] + DAY_MS
            ):
                # UNCONFIRMED: a line dated outside the entry's period is refused (stricter).
                check.add(f"Date is not in financial period {period['FinYear']}/{period['FinPeriod']:02d}: "
                          f"{iso_date(date_ms)}")
            self._check_invoice_reference(check, line, ref)

    def _check_invoice_reference(self, check: Checker, line: Row, ref: LineRefs) -> None:
        # OurRef is Exact's invoice number of the purchase entry being paid (docs/ap-documents.md, Matching).
        # UNCONFIRMED which of Account, OurRef and the payables account Exact needs to match; the sandbox wants all
        # three: an invoice of the line's Account, on an accounts payable line (stricter).
        our_ref = line.get("OurRef")
        if our_ref is None:
            return
        entries = self.store.find("PurchaseEntries", "InvoiceNumber", our_ref)
        on_payables = ref.gl is not None and ref.gl["Type"] == AP_TYPE
        if not on_payables or not any(line.get("Account") in (None, e["Supplier"]) for e in entries):
            check.add(f"Invalid reference: Invoice number {our_ref}")

    # ----- bank entries ------------------------------------------------------------------------------------------
    def create_bank_entry(self, values: Row, lines: list[Row]) -> Row:
        check = self.checker()
        check.client_keys(values, {"EntryID": "BankEntries"}, self.settings.accept_client_entry_id)
        journal = check.journal(values.get("JournalCode"), BANK_JOURNAL, "bank")
        period = self._entry_period(check, values, lines)
        check.open_period(journal, period)
        currency = check.entry_currency(values.get("Currency"), journal)
        check.unkept_references(values, ENTITY_SETS["financialtransaction/BankEntries"])
        self._check_entry_number(check, journal, values.get("EntryNumber"))
        line_set = ENTITY_SETS["financialtransaction/BankEntryLines"]
        refs = self._check_lines(check, lines, period["StartDate"] if period else self.today_ms(), line_set)
        self._check_journal_lines(check, lines, refs, period, journal)
        # A bank entry's rate is per line (BankEntryLines.ExchangeRate).
        rates = [check.rate(currency, journal, line.get("ExchangeRate"), "ExchangeRate",
                            self._rate_day([line], period)) for line in lines]
        opening, closing = self._check_balances(check, values, journal, lines)
        check.fail_if_any()
        assert journal is not None
        assert period is not None
        balances = {"OpeningBalanceFC": opening, "ClosingBalanceFC": closing, "Currency": currency}
        entry = self._book_entry("BankEntries", "BankEntryLines", {**values, **balances}, lines, refs, journal,
                                 period, entry_type=40, rates=rates)
        if entry["EntryNumber"] >= self._entry_numbers.get(journal["Code"], 0):
            self._closing[journal["Code"]] = closing
        else:
            self._closing.pop(journal["Code"], None)
        self.store.emit(ChangeEvent("BankEntries", "Create", entry["EntryID"], "financialtransaction/BankEntries"))
        return entry

    def _check_balances(
        self, check: Checker, values: Row, journal: Row | None, lines: list[Row]
    ) -> tuple[float, float]:
        previous = self._last_closing_balance(journal["Code"]) if journal else 0.0
        opening = values.get("OpeningBalanceFC")
        if opening is not None and money(opening) != money(previous):
            # Exact: "an opening balance which should be the end balance of the previous entry" (UNCONFIRMED that
            # it refuses others; the sandbox does).
            check.add(f"Opening balance must equal the closing balance of the previous entry: {previous:.2f}")
        start = previous if opening is None else opening
        # "Opening balance plus all bank entry lines should result in the closing balance" (BankEntries reference).
        closing = money(start + sum(line.get("AmountFC") or 0.0 for line in lines))
        given = values.get("ClosingBalanceFC")
        if given is not None and money(given) != closing:
            check.add(f"Closing balance must equal the opening balance plus the lines: {closing:.2f}")
        return money(start), closing

    def _last_closing_balance(self, journal_code: str) -> float:
        if journal_code not in self._closing:
            entries = self.store.find("BankEntries", "JournalCode", journal_code)
            latest = max(entries, key=lambda e: e["EntryNumber"], default=None)
            self._closing[journal_code] = latest["ClosingBalanceFC"] if latest else 0.0
        return self._closing[journal_code]

    # ----- shared booking of GJE and bank entries --------------------------------------------------------------
    def _book_entry(
        self, table: str, line_table: str, values: Row, lines: list[Row], refs: list[LineRefs], journal: Row,
        period: Row, entry_type: int, rates: list[float],
    ) -> Row:
        lines_field = "GeneralJournalEntryLines" if table == "GeneralJournalEntries" else "BankEntryLines"
        entry = {
            **{k: v for k, v in values.items() if k != lines_field},
            "EntryID": values.get("EntryID") or str(uuid.uuid4()),
            "EntryNumber": self._entry_number(journal["Code"], values.get("EntryNumber")),
            "JournalCode": journal["Code"], "JournalDescription": journal["Description"],
            "FinancialYear": period["FinYear"], "FinancialPeriod": period["FinPeriod"],
            "Currency": values.get("Currency") or self.currency,
            # UNCONFIRMED: API-made general journal and bank entries start Open (20), like purchase entries.
            "Status": 20, "StatusDescription": ENTRY_STATUS[20],
        }
        if table == "GeneralJournalEntries":
            entry.update(ExchangeRate=values.get("ExchangeRate") or 1.0, Reversal=bool(values.get("Reversal")),
                         Type=entry_type, TypeDescription=ENTRY_TYPES[entry_type])
        self.store.insert(table, entry)
        bank = Amounts(0.0, 0.0, entry["Currency"], 1.0)
        bank_date = period["StartDate"]
        differences: list[Difference] = []
        for number, (line, ref, rate) in enumerate(zip(lines, refs, rates, strict=True), start=1):
            stored = self._journal_line(line_table, entry, line, ref, number, rate, period)
            amounts = Amounts(stored["AmountFC"], stored["AmountDC"], entry["Currency"], rate)
            bank_date = max(bank_date, stored["Date"])
            if entry_type == 40:
                # A bank line moves the bank account: opening balance + lines = closing balance (BankEntries
                # reference), so a payment to a supplier is negative there, and its own G/L account (accounts
                # payable) takes the opposite, a debit that clears what the purchase entry credited.
                bank = Amounts(money(bank.fc + amounts.fc), money(bank.dc + amounts.dc), bank.currency, rate)
                amounts = amounts.negated()
            before = self._matched_item(stored, ref)
            self._transaction_line(entry, number, ref.gl, amounts, None, line=stored, account=ref.account,
                                   kind="entry", entry_type=entry_type)
            difference = exchange_difference(before, amounts.fc, amounts.dc, amounts.currency, self.currency)
            if difference and before is not None:
                differences.append(Difference(stored, ref, before.currency, difference))
        # A general journal entry balances itself, so it has no line 0 (UNCONFIRMED); a bank entry's line 0 is the
        # bank account, like the payables line 0 of a purchase entry.
        if entry_type == 40:
            bank_gl = self.store.get("GLAccounts", journal.get("GLAccount"))
            bank_rate = round(bank.dc / bank.fc, 6) if bank.fc else 1.0
            self._transaction_line(entry, 0, bank_gl, Amounts(bank.fc, bank.dc, bank.currency, bank_rate), None,
                                   kind="entry", entry_type=40, date_ms=bank_date)
        self._book_differences(entry, differences, len(lines) + 1, entry_type)
        return entry

    def _matched_item(self, line: Row, ref: LineRefs) -> Item | None:
        """The invoice this line pays, as it stood before the line, when the line names one by OurRef."""
        if line.get("OurRef") is None or ref.account is None:
            return None
        return self.open_items.item_for(ref.account["ID"], line["OurRef"])

    def _book_differences(self, entry: Row, differences: list[Difference], number: int, entry_type: int) -> None:
        """Realized exchange rate differences, booked with the payment (docs/ap-documents.md, Currency): the
        supplier's payables line in the division's currency only, against the division's exchange-difference
        account. UNCONFIRMED how Exact books them for an API payment; without that account they stay open."""
        exchange_gl = next((g for g in self.store.find("GLAccounts", "Code", self.settings.exchange_difference_account)
                            if not g.get("IsBlocked")), None)
        if exchange_gl is None:
            return
        for difference in differences:
            line = {"Description": EXCHANGE_DIFFERENCE, "OurRef": difference.line.get("OurRef"),
                    "Date": difference.line["Date"]}
            payables = Amounts(0.0, -difference.amount_dc, difference.currency, 0.0)
            self._transaction_line(entry, number, difference.refs.gl, payables, None, line=line,
                                   account=difference.refs.account, kind="entry", entry_type=entry_type)
            result = Amounts(difference.amount_dc, difference.amount_dc, self.currency, 1.0)
            self._transaction_line(entry, number + 1, exchange_gl, result, None, line=line, kind="entry",
                                   entry_type=entry_type)
            number += 2

    def _journal_line(
        self, table: str, entry: Row, line: Row, ref: LineRefs, number: int, rate: float, period: Row,
    ) -> Row:
        amount = money(line["AmountFC"])
        gl = ref.gl or {}
        row = {
            **line, "ID": line.get("ID") or str(uuid.uuid4()), "EntryID": entry["EntryID"], "LineNumber": number,
            "GLAccount": gl.get("ID"), "GLAccountCode": gl.get("Code"), "GLAccountDescription": gl.get("Description"),
            "AmountFC": amount, "AmountDC": to_dc(amount, rate),
            "Description": line.get("Description") or entry.get("Description"),
            "CostCenterDescription": ref.cost_center and ref.cost_center["Description"],
            "CostUnitDescription": ref.cost_unit and ref.cost_unit["Description"],
            "EntryNumber": entry["EntryNumber"], "Date": start_of_day_ms(line.get("Date") or period["StartDate"]),
            "Account": ref.account and ref.account["ID"], "AccountCode": ref.account and ref.account["Code"],
            "AccountName": ref.account and ref.account["Name"],
        }
        if table == "BankEntryLines":
            row["ExchangeRate"] = rate
        return self.store.insert(table, row)

    def _transaction_line(
        self, entry: Row, number: int, gl: Row | None, amounts: Amounts, at_ms: int | None, *, kind: str,
        line: Row | None = None, account: Row | None = None, entry_type: int | None = None,
        date_ms: int | None = None, vat: LineVat | None = None, vat_type: str | None = None,
    ) -> Row:
        line = line or {}
        purchase = kind == "purchase"
        entry_date = entry["EntryDate"] if purchase else line.get("Date", date_ms)
        row = {
            "ID": str(uuid.uuid4()), "EntryID": entry["EntryID"], "EntryNumber": entry["EntryNumber"],
            "LineNumber": number, "Date": entry_date,
            "FinancialYear": entry["ReportingYear"] if purchase else entry["FinancialYear"],
            "FinancialPeriod": entry["ReportingPeriod"] if purchase else entry["FinancialPeriod"],
            "JournalCode": entry["Journal"] if purchase else entry["JournalCode"],
            "JournalDescription": entry["JournalDescription"],
            "GLAccount": gl and gl["ID"], "GLAccountCode": gl and gl["Code"],
            "GLAccountDescription": gl and gl["Description"],
            "AmountDC": money(amounts.dc), "AmountFC": money(amounts.fc),
            "AmountVATFC": vat.vat_fc if vat else 0.0, "AmountVATBaseFC": vat.base_fc if vat else money(amounts.fc),
            "Currency": amounts.currency, "ExchangeRate": amounts.rate, "VATCode": line.get("VATCode"),
            "VATCodeDescription": line.get("VATCodeDescription"),
            "VATPercentage": vat.percentage if vat else (0.0 if line else None), "VATType": vat_type,
            "CostCenter": line.get("CostCenter"), "CostCenterDescription": line.get("CostCenterDescription"),
            "CostUnit": line.get("CostUnit"), "CostUnitDescription": line.get("CostUnitDescription"),
            "Account": account and account["ID"], "AccountCode": account and account["Code"],
            "AccountName": account and account["Name"],
            "Description": line.get("Description") or entry.get("Description"),
            "Quantity": line.get("Quantity"), "Notes": line.get("Notes"),
            "Status": entry["Status"], "Type": entry["Type"] if purchase else entry_type,
        }
        if purchase:
            row.update(InvoiceNumber=entry["InvoiceNumber"], YourRef=entry.get("YourRef"),
                       PaymentReference=entry.get("PaymentReference"),
                       DueDate=entry["DueDate"] if number == 0 else None)
        else:
            row.update(InvoiceNumber=line.get("OurRef"))
        return self.store.insert("TransactionLines", row, at_ms)

    def _entry_number(self, journal_code: str, requested: int | None) -> int:
        """Entry numbers rise per journal; the journal code leads, as in 60000001."""
        base = int(journal_code) * 1_000_000 if journal_code.isdigit() else 0
        current = self._entry_numbers.get(journal_code, base)
        number = requested if requested is not None else current + 1
        self._entry_numbers[journal_code] = max(current, number)
        return number

    # ----- a bookkeeper's correction of a booked purchase entry ----------------------------------------------------
    def change_purchase_line(self, entry_id: str, line_number: int, changes: Row) -> Row:
        """Changes one line of a purchase entry as a person does in Exact's screens (the API has no such PUT).

        ``changes`` holds AmountFC, CostCenter (a code, or None) and GLAccount (an ID). The entry stays in
        balance: its payables line 0 and its totals follow. Every record touched gets a new Timestamp, so sync
        clients see the change, as in Exact.
        """
        entry = self.store.get("PurchaseEntries", entry_id)
        if entry is None:
            raise not_found("PurchaseEntries")
        if entry.get("Status") == 50:
            # UNCONFIRMED wording; Exact does not let a processed entry be changed.
            raise ValidationFailed([f"Entry is processed and cannot be changed: {entry['EntryNumber']}"])
        line = next((r for r in self.store.children("PurchaseEntryLines", entry_id)
                     if r["LineNumber"] == line_number), None)
        if line is None:
            raise ValidationFailed([f"Entry {entry['EntryNumber']} has no line {line_number}"])
        check = Checker(self.store, self.currency)
        gl = check.gl_account(changes.get("GLAccount", line["GLAccount"]))
        center = check.cost_center(changes.get("CostCenter", line.get("CostCenter")), gl, entry["EntryDate"])
        check.fail_if_any()
        amount = money(changes.get("AmountFC", line["AmountFC"]))
        assert gl is not None
        booked = {"GLAccount": gl["ID"], "GLAccountCode": gl["Code"], "GLAccountDescription": gl["Description"],
                  "CostCenter": center and center["Code"], "CostCenterDescription": center and center["Description"],
                  "AmountFC": amount, "AmountDC": amount}
        self.store.update("PurchaseEntryLines", line["ID"], {**booked, "VATBaseAmountFC": amount,
                                                             "VATBaseAmountDC": amount})
        total = money(sum(r["AmountFC"] for r in self.store.children("PurchaseEntryLines", entry_id)))
        for row in self.store.children("TransactionLines", entry_id):
            if row["LineNumber"] == line_number:
                self.store.update("TransactionLines", row["ID"], {**booked, "AmountVATBaseFC": amount})
            elif row["LineNumber"] == 0:
                self.store.update("TransactionLines", row["ID"], {"AmountFC": -total, "AmountDC": -total,
                                                                  "AmountVATBaseFC": -total})
        changed = self.store.update("PurchaseEntries", entry_id, {"AmountFC": total, "AmountDC": total})
        self.store.emit(ChangeEvent("PurchaseEntries", "Update", entry_id, "purchaseentry/PurchaseEntries"))
        return changed

    # ----- deleting entries ------------------------------------------------------------------------------------
    def delete_entry(self, table: str, key: str, force: bool = False) -> Row:
        """Deletes an entry with its lines and TransactionLines; processed entries cannot be deleted."""
        entry = self.store.get(table, key)
        if entry is None:
            raise not_found(table)
        if entry.get("Status") == 50 and not force:
            # UNCONFIRMED wording; Exact lets processed entries be reversed, not deleted.
            raise ValidationFailed([f"Entry is processed and cannot be deleted: {entry['EntryNumber']}"])
        line_table = {"PurchaseEntries": "PurchaseEntryLines", "GeneralJournalEntries": "GeneralJournalEntryLines",
                      "BankEntries": "BankEntryLines"}[table]
        for line in self.store.children(line_table, key):
            self.store.delete(line_table, line["ID"])
        for line in self.store.children("TransactionLines", key):
            self.store.delete("TransactionLines", line["ID"])
        self.store.delete(table, key)
        self._closing.clear()
        path = next(es.path for es in ENTITY_SETS.values() if es.table == table and es.kind == "normal")
        self.store.emit(ChangeEvent(table, "Delete", key, path))
        return entry

    # ----- crm Accounts ------------------------------------------------------------------------------------------
    def create_account(self, values: Row, announce: bool = True) -> Row:
        check = self.checker()
        check.client_keys(values, {"ID": "Accounts"}, self.settings.accept_client_entry_id)
        self._check_account(check, values, None)
        check.fail_if_any()
        is_supplier = bool(values.get("IsSupplier"))
        row = {
            **values, "ID": values.get("ID") or str(uuid.uuid4()), "Code": self._account_code(values.get("Code")),
            "IsSupplier": is_supplier, "IsSales": values.get("Status") is not None,
            "Blocked": bool(values.get("Blocked")), "Type": "A",
        }
        if is_supplier:
            row["GLAP"] = values.get("GLAP") or self.ap_account()["ID"]
            row["PurchaseCurrency"] = values.get("PurchaseCurrency") or self.currency
        self.store.insert("Accounts", row)
        if announce:
            self.store.emit(ChangeEvent("Accounts", "Create", row["ID"], "crm/Accounts"))
        return row

    def update_account(self, key: str, changes: Row) -> Row:
        if self.store.get("Accounts", key) is None:
            raise not_found("Accounts")
        check = self.checker()
        self._check_account(check, changes, key)
        check.fail_if_any()
        if "Code" in changes:
            changes = {**changes, "Code": self._account_code(changes["Code"])}
        if "Status" in changes:
            changes = {**changes, "IsSales": changes["Status"] is not None}
        row = self.store.update("Accounts", key, changes)
        self.store.emit(ChangeEvent("Accounts", "Update", key, "crm/Accounts"))
        return row

    def _check_account(self, check: Checker, values: Row, key: str | None) -> None:
        if (key is None or "Name" in values) and not (values.get("Name") or "").strip():
            check.add("Mandatory: Name")
        code = values.get("Code")
        if code is not None:
            padded = code.strip().rjust(ACCOUNT_CODE_WIDTH)
            if not code.strip() or len(code.strip()) > ACCOUNT_CODE_WIDTH:
                check.add(f"Invalid value: Code {code!r}")
            elif any(r["ID"] != key for r in self.store.find("Accounts", "Code", padded)):
                check.add(f"Code already exists: {code.strip()}")
        if values.get("Status") not in {None, "A", "S", "P", "C"}:
            check.add(f"Invalid value: Status {values['Status']!r}")
        for name in ("GLAP", "GLAccountPurchase", "GLAccountSales"):
            if values.get(name) is not None and self.store.get("GLAccounts", values[name]) is None:
                check.add("Invalid reference: G/L account")
        check.currency(values.get("PurchaseCurrency"))
        check.currency(values.get("SalesCurrency"))
        check.payment_condition(values.get("PaymentConditionPurchase"))
        check.unkept_references(values, ENTITY_SETS["crm/Accounts"])

    def _account_code(self, requested: str | None) -> str:
        """crm Account codes: 18-character, right-aligned; the next one is the highest numeric code plus one."""
        if requested is not None:
            return requested.strip().rjust(ACCOUNT_CODE_WIDTH)
        numbers = [int(r["Code"]) for r in self.store.table("Accounts").rows.values() if r["Code"].strip().isdigit()]
        return str(max(numbers, default=0) + 1).rjust(ACCOUNT_CODE_WIDTH)
