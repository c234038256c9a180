"""Turning a BILL payment into the Exact bank (or general journal) entry that settles the supplier's open item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from exact_bill_pipeline.domain.postings import money
from exact_bill_pipeline.domain.records import Payment

PAYMENT_STATUSES_TO_POST = frozenset({"PAID"})
SINGLE_STATUSES_TO_POST = frozenset({"PROCESSED", "SENT", "DELIVERED", "CLEARED"})
# bill.md §4.4: payment status VOID and CANCELLED; the unified singleStatus values that mean the same.
VOIDED_STATUSES = frozenset({"VOID", "CANCELLED"})
VOIDED_SINGLE_STATUSES = frozenset({"VOIDED", "CANCELED", "FUNDING_FAILED_VOIDED", "VOID_PENDING"})


@dataclass(frozen=True)
class PaymentSettings:
    """Where payments go: a bank journal (the default) or a general journal with an explicit bank line."""

    entry_kind: Literal["bank", "general"] = "bank"
    journal: str = "20"
    ap_account_id: str = ""  # the Exact GL account of accounts payable (the supplier's open items)
    bank_account_id: str = ""  # the Exact GL account of the bank, for general journal entries
    general_journal: str = "90"  # where vendor credits are settled against the bills they were applied to


def is_settled(payment: Payment) -> bool:
    """A payment is posted once money has left: BILL's status PAID, or a single status past processing."""
    return payment.status in PAYMENT_STATUSES_TO_POST or payment.single_status in SINGLE_STATUSES_TO_POST


@dataclass(frozen=True)
class CreditUse:
    """A vendor credit applied in a payment: which credit, and how much of it."""

    credit_id: str
    amount: Decimal


@dataclass(frozen=True)
class BillPart:
    """What one payment does to one bill: the money paid (``amount``) and the vendor credits applied with it.

    BILL's ``billPayments[].amount`` is the money; the credits cover the rest of what the bill is settled by
    (docs/ap-documents.md, BILL: "the payment's amount is the money paid, the credit covers the rest").
    """

    bill_id: str
    amount: Decimal
    credits: tuple[CreditUse, ...] = ()

    @property
    def settles(self) -> Decimal:
        """How much of the bill this part settles: money and credits together."""
        return self.amount + sum((c.amount for c in self.credits), Decimal(0))


@dataclass(frozen=True)
class InvoiceRef:
    """A bill as Exact knows it: the invoice number a payment line names in ``OurRef``, and its YourRef."""

    bill_id: str
    number: int  # Exact's InvoiceNumber of the purchase entry (its EntryNumber: the connector never sends one)
    your_ref: str


def bill_parts(payment: Payment) -> list[BillPart]:
    """The bills a payment pays, each with its own amount and credits; a payment without billPayments[] pays its
    single billId the whole amount. Two items for one bill are one part."""
    parts: dict[str, BillPart] = {}
    items = [(i.bill_id, i.amount, tuple(CreditUse(c.id, c.amount) for c in i.vendor_credits if c.id))
             for i in payment.bill_payments if i.bill_id]
    if not items and payment.bill_id:
        items = [(payment.bill_id, payment.amount, ())]
    for bill_id, amount, credits in items:
        before = parts.get(bill_id)
        if before is None:
            parts[bill_id] = BillPart(bill_id, amount, credits)
        else:
            parts[bill_id] = BillPart(bill_id, before.amount + amount, before.credits + credits)
    return list(parts.values())


def payment_description(payment: Payment, invoice_numbers: list[str]) -> str:
    """Carries the BILL payment ID, so the entry can be found again after an uncertain POST."""
    refs = ", ".join(invoice_numbers)
    return f"BILL {payment.id} {refs}".strip()[:60]


def payment_date(payment: Payment) -> str:
    """The day the money left: BILL's processDate, else the day the payment was made."""
    day = payment.process_date or (payment.created_time.date() if payment.created_time else None)
    return day.isoformat() if day else ""


def plan_payment_entry(
    payment: Payment, *, supplier_id: str, invoices: Mapping[str, InvoiceRef], settings: PaymentSettings,
    currency: str | None = None,
) -> dict[str, Any]:
    """The Exact entry for a payment: one accounts payable line per bill it pays, each naming its invoice.

    Each line carries its bill's own amount and ``OurRef``, Exact's invoice number of the bill's purchase entry,
    so Exact matches it to that invoice: a part payment leaves the rest open, two payments clear it together
    (docs/ap-documents.md, "Matching a payment to the invoice it pays": ``BankEntryLines.OurRef`` is the
    "Invoice number", Exact reference FinancialTransaction/BankEntryLines.php). A bank line's AmountFC is seen
    from the bank: "Opening balance plus all bank entry lines should result in the closing balance" (Exact
    reference, FinancialTransaction/BankEntries.php), so money paid out is negative, and Exact books the line's
    own account (accounts payable) with the opposite sign, a debit that settles the bill's credit. A general
    journal entry states both sides itself, debits positive. Lines of a part that pays only with credits are
    left out: the credit application (``plan_credit_application``) settles those.

    ``currency`` is the bills' currency in Exact when it is not the division's: the lines then carry BILL's
    payment ``exchangeRate`` so that Exact books the exchange difference against the invoice's own rate
    (docs/ap-documents.md, Currency: "Realized exchange differences").
    """
    when = payment_date(payment)
    description = payment_description(payment, [invoices[p.bill_id].your_ref for p in bill_parts(payment)])
    rate = payment.exchange_rate if currency else None
    ap_lines = [{"GLAccount": settings.ap_account_id, "AmountFC": float(part.amount), "Account": supplier_id,
                 "OurRef": invoices[part.bill_id].number, "Date": when, "Description": description}
                for part in bill_parts(payment) if part.amount]
    header: dict[str, Any] = {"JournalCode": settings.journal}
    if currency:
        header["Currency"] = currency
    if settings.entry_kind == "bank":
        rated = {"ExchangeRate": float(rate)} if rate else {}
        return {**header, "BankEntryLines": [{**line, "AmountFC": -line["AmountFC"], **rated} for line in ap_lines]}
    if rate:
        header["ExchangeRate"] = float(rate)
    total = sum(money(line["AmountFC"]) for line in ap_lines)
    bank_line = {"GLAccount": settings.bank_account_id, "AmountFC": -float(total), "Date": when,
                 "Description": description}
    return {**header, "GeneralJournalEntryLines": [*ap_lines, bank_line]}


def credit_application_id(payment_id: str, credit_id: str) -> str:
    """The ledger's source ID of a credit applied in a payment: one document per payment and credit."""
    return f"{payment_id}:{credit_id}"


def credit_applications(payment: Payment) -> dict[str, dict[str, Decimal]]:
    """Per vendor credit a payment applies, how much of it goes to each bill."""
    out: dict[str, dict[str, Decimal]] = {}
    for part in bill_parts(payment):
        for use in part.credits:
            bills = out.setdefault(use.credit_id, {})
            bills[part.bill_id] = bills.get(part.bill_id, Decimal(0)) + use.amount
    return out


def credit_application_description(payment_id: str, credit_id: str) -> str:
    """Carries the credit's and the payment's BILL IDs, so the entry can be found again after an uncertain POST."""
    return f"BILL {credit_id} applied by {payment_id}"[:60]


def plan_credit_application(
    payment: Payment, credit_id: str, bills: Mapping[str, Decimal], *, supplier_id: str,
    invoices: Mapping[str, InvoiceRef], credit_note: int, settings: PaymentSettings,
) -> dict[str, Any]:
    """The general journal entry that settles a vendor credit against the bills it was applied to.

    Exact has no matching endpoint; a credit note is settled against an invoice by matching, and the sandbox (like
    Exact's ``OurRef`` on general journal lines) matches a line on the supplier's payables account to the
    invoice it names (docs/ap-documents.md, "A credit note is settled against an invoice by matching"). So: a debit
    on each invoice (what it no longer owes) and a credit on the credit note (what it no longer credits), both on
    the supplier; positive is debit and the lines balance (docs/ap-documents.md, Signs, general journal lines).
    """
    when = payment_date(payment)
    description = credit_application_description(payment.id, credit_id)
    line = {"GLAccount": settings.ap_account_id, "Account": supplier_id, "Date": when, "Description": description}
    lines = [{**line, "AmountFC": float(amount), "OurRef": invoices[bill_id].number}
             for bill_id, amount in bills.items()]
    total = sum(bills.values(), Decimal(0))
    lines.append({**line, "AmountFC": -float(total), "OurRef": credit_note})
    return {"JournalCode": settings.general_journal, "GeneralJournalEntryLines": lines}


def is_voided(payment: Payment) -> bool:
    """BILL voided or cancelled the payment: no money left, or it came back."""
    return payment.status in VOIDED_STATUSES or payment.single_status in VOIDED_SINGLE_STATUSES


def settlement(payment: Payment) -> str:
    """Where the money of a payment is: ``settled`` (paid out), ``voided``, or ``pending`` (not yet, or failed)."""
    if is_voided(payment):
        return "voided"
    return "settled" if is_settled(payment) else "pending"


def payment_content(payment: Payment) -> dict[str, Any]:
    """What of a payment ends up in Exact, and whether its money left: a change to any of it is flagged.

    Plain JSON, exactly as it was made before the domain was typed, from the snapshot the client's record dumped
    (the rate a float, the process date YYYY-MM-DD), so the hashes of posted payments still match
    (exact_bill_pipeline_tests/domain/test_content_hashes.py pins them).
    """
    parts = bill_parts(payment)
    rate = payment.exchange_rate
    return {"amount": str(payment.amount), "bills": paid_bill_ids(payment),
            "billAmounts": {p.bill_id: str(p.amount) for p in parts},
            "credits": {p.bill_id: {c.credit_id: str(c.amount) for c in p.credits} for p in parts if p.credits},
            "exchangeRate": None if rate is None else float(rate),
            "processDate": payment.process_date.isoformat() if payment.process_date else None,
            "settlement": settlement(payment)}


def payment_diff(posted: Mapping[str, Any], payment: Payment) -> dict[str, dict[str, Any]]:
    """Field by field, what of ``payment`` differs from what was posted (a ``payment_content`` result).

    A payment is posted only once settled, so content recorded before settlement was kept counts as settled.
    Content recorded before a field was kept (per-bill amounts, credits, rate) is compared on what it holds.
    """
    now, before = payment_content(payment), {"settlement": "settled", **posted}
    return {key: {"before": before.get(key), "after": now[key]} for key in now
            if key in before and before.get(key) != now[key]}


def settled_by(content: Mapping[str, Any]) -> dict[str, Decimal]:
    """Per bill, what a posted payment's or credit application's content says it settled.

    Content recorded before per-bill amounts were kept names its bills and one amount: a single bill took it all.
    """
    if "billAmounts" in content:
        return {bill: money(amount) for bill, amount in content["billAmounts"].items()}
    bills = content.get("bills") or []
    if isinstance(bills, dict):
        return {bill: money(amount) for bill, amount in bills.items()}
    return {bills[0]: money(content.get("amount") or 0)} if len(bills) == 1 else {}


def paid_bill_ids(payment: Payment) -> list[str]:
    """The bills a payment pays: billPayments[] when present, else the single billId."""
    ids = [item.bill_id for item in payment.bill_payments if item.bill_id]
    if not ids and payment.bill_id:
        ids = [payment.bill_id]
    return list(dict.fromkeys(ids))
