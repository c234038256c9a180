"""Turning a BILL bill into an Exact purchase entry, and telling when a bill changed after it was posted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from exact_bill_pipeline.domain.records import CENT as CENT  # re-exported: money's home was here
from exact_bill_pipeline.domain.records import Bill, BillLine, Payment, VendorCredit, json_number
from exact_bill_pipeline.domain.records import money as money
from exact_bill_pipeline.domain.vat import LineVat, VatBook, VatProblem, VatRule

ReasonCode = Literal[
    "unmapped_gl_account", "unmapped_cost_center", "cost_center_required", "gl_account_blocked",
    "vendor_unmatched", "vendor_ambiguous", "vendor_blocked", "exact_rejected", "changed_after_posting",
    "bill_not_posted", "invalid_bill", "outside_partitions",
    "vat_code_unknown", "currency_unsupported", "duplicate_invoice", "period_closed",
    "overpaid", "credit_not_posted", "payment_currency",
]
# BILL's own currency: a bill is in it unless its vendor bills in another one (then it has an exchangeRate, the
# US dollars per unit of the bill's currency; docs/ap-documents.md, BILL).
BILL_CURRENCY = "USD"


@dataclass(frozen=True)
class GLTarget:
    """The Exact GL account a BILL account maps to."""

    id: str
    code: str
    use_costcenter: int | None = None  # 1 = a cost center is mandatory, 2 = not allowed
    blocked: bool = False
    vat_code: str | None = None  # the account's own VAT code in Exact, which a line without one takes


@dataclass(frozen=True)
class PostingSettings:
    purchase_journal: str = "60"
    vat_code: str | None = None  # the default VAT rule's code: None = each account's own, "none" = no VAT
    amounts_include_vat: bool = True
    postable_statuses: frozenset[str] = frozenset({"APPROVED"})
    division_currency: str = BILL_CURRENCY


@dataclass(frozen=True)
class Problem:
    reason: ReasonCode
    message: str
    tried: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BookedLine:
    """A line as Exact books it: an expense line's base, or the VAT of one code on its VAT account."""

    gl_code: str | None
    cost_center: str | None
    amount: Decimal


@dataclass(frozen=True)
class EntryPlan:
    """A purchase entry ready to POST, what it was made from, and the lines Exact will book for it."""

    payload: dict[str, Any]
    amount: Decimal
    lines: list[dict[str, Any]]
    booked: tuple[BookedLine, ...] = ()

    @property
    def total(self) -> Decimal:
        """The entry's total as Exact will hold it: the bases and their VAT."""
        return sum((line.amount for line in self.booked), Decimal(0))


def is_postable(bill: Bill, settings: PostingSettings) -> bool:
    """Only approved (by default), non-archived bills with a positive amount are posted."""
    return bill.approval_status in settings.postable_statuses and not bill.archived and bill.amount > 0


def posting_content(bill: Bill) -> dict[str, Any]:
    """What of a bill ends up in Exact; a change to any of it after posting must be flagged.

    Plain JSON, exactly as it was made from BILL's raw JSON before the domain was typed (amounts as strings to the
    cent, dates as YYYY-MM-DD, the rate as the number BILL sent), so the hashes of posted bills still match
    (exact_bill_pipeline_tests/domain/test_content_hashes.py pins them).
    """
    return {
        "vendorId": bill.vendor_id,
        "amount": str(bill.amount),
        "invoiceNumber": bill.invoice.invoice_number,
        "invoiceDate": _iso(bill.invoice.invoice_date) or "",
        "dueDate": _iso(bill.due_date),
        "archived": bill.archived,
        "lines": line_content(bill.lines),
        # Only a bill in another currency carries these, so the content of earlier bills keeps its hash.
        **({"currency": bill_currency(bill), "exchangeRate": json_number(bill.exchange_rate)}
           if bill.exchange_rate or bill_currency(bill) != BILL_CURRENCY else {}),
    }


def line_content(lines: list[BillLine]) -> list[dict[str, Any]]:
    """What of a bill's (or a vendor credit's) lines ends up in Exact."""
    return [{"amount": str(line.amount), "account": line.classifications.chart_of_account_id,
             "department": line.classifications.department_id} for line in lines]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def bill_currency(bill: Bill) -> str | None:
    """The bill's currency: its vendor's billCurrency as it was when the bill was read (None: unknown)."""
    if bill.stamped_currency:
        return bill.bill_currency
    return None if bill.exchange_rate else BILL_CURRENCY


def content_hash(content: Mapping[str, Any]) -> str:
    """A stable digest of what is posted (a ``posting_content`` or ``payment_content`` result)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_diff(posted: Mapping[str, Any], bill: Bill) -> dict[str, dict[str, Any]]:
    """Field by field, what of ``bill`` differs from the ``posted`` content (a ``posting_content`` result)."""
    now = posting_content(bill)
    return {key: {"before": posted.get(key), "after": now[key]} for key in now if posted.get(key) != now[key]}


def plan_purchase_entry(
    bill: Bill,
    *,
    supplier_id: str,
    accounts: Mapping[str, GLTarget],
    cost_centers: Mapping[str, str],
    settings: PostingSettings,
    vat: VatBook | None = None,
    account_names: Mapping[str, str] | None = None,
    department_names: Mapping[str, str] | None = None,
) -> EntryPlan | list[Problem]:
    """The purchase entry for ``bill``, or every reason it cannot be posted.

    ``accounts`` maps BILL chart-of-accounts IDs to GL targets, ``cost_centers`` maps BILL department IDs
    to Exact cost center codes, ``vat`` holds the VAT rules and codes (by default: the settings' rule only);
    the name maps only make the problems readable.
    """
    book = vat or VatBook(default=VatRule(settings.vat_code, settings.amounts_include_vat))
    names, departments = account_names or {}, department_names or {}
    items = bill.lines
    problems: list[Problem] = [] if items else [Problem("invalid_bill", "the bill has no lines")]
    planned = [_plan_line(bill, number, item, accounts, cost_centers, book, names, departments)
               for number, item in enumerate(items, start=1)]
    problems += [p for p in planned if isinstance(p, Problem)]
    currency = _currency_fields(bill, settings)
    if isinstance(currency, Problem):
        problems.append(currency)
    if problems:
        return problems
    lines = [line for line, _ in planned]  # type: ignore[misc]
    invoice_date = (bill.invoice.invoice_date or bill.created_time.date()).isoformat()
    payload: dict[str, Any] = {
        "Journal": settings.purchase_journal,
        "Supplier": supplier_id,
        "EntryDate": invoice_date,
        "DueDate": _iso(bill.due_date) or invoice_date,
        "YourRef": bill.invoice.invoice_number or bill.id,
        "Description": entry_description(bill),
        **currency,  # type: ignore[dict-item]
        "PurchaseEntryLines": lines,
    }
    booked = _booked(planned)  # type: ignore[arg-type]
    return EntryPlan(payload, bill.amount, lines, booked)


def _plan_line(bill: Bill, number: int, item: BillLine, accounts: Mapping[str, GLTarget],
               cost_centers: Mapping[str, str], book: VatBook, names: Mapping[str, str],
               departments: Mapping[str, str]) -> tuple[dict[str, Any], tuple[GLTarget, LineVat]] | Problem:
    """One purchase line, with its target and VAT, or why it cannot be posted."""
    account_id, department_id = item.classifications.chart_of_account_id, item.classifications.department_id
    tried = {"line": number, "bill_account": names.get(account_id or "", account_id),
             "bill_department": departments.get(department_id or "", department_id)}
    target = accounts.get(account_id or "")
    if target is None:
        return Problem("unmapped_gl_account",
                       f"line {number}: BILL account {tried['bill_account']!r} maps to no Exact GL account", tried)
    if target.blocked:
        return Problem("gl_account_blocked", f"line {number}: Exact GL account {target.code} is blocked", tried)
    cost_center = cost_centers.get(department_id) if department_id else None
    if department_id and cost_center is None:
        return Problem("unmapped_cost_center", f"line {number}: BILL department {tried['bill_department']!r} maps "
                                               f"to no Exact cost center", tried)
    if target.use_costcenter == 1 and cost_center is None:
        return Problem("cost_center_required", f"line {number}: Exact GL account {target.code} needs a cost center "
                                               f"and the line has no department", tried)
    try:
        vat = book.line(item.amount, gl_code=target.code, gl_vat_code=target.vat_code)
    except VatProblem as problem:
        return Problem("vat_code_unknown", f"line {number}: {problem}", tried)
    line: dict[str, Any] = {"GLAccount": target.id, "AmountFC": float(vat.amount),
                            "Description": (item.description or bill.description or "")[:60]}
    if cost_center and target.use_costcenter != 2:
        line["CostCenter"] = cost_center
    if vat.code:
        line["VATCode"] = vat.code
    if vat.claim_gl_code is not None:
        line["VATAmountFC"] = float(vat.vat)
    return line, (target, vat)


def _booked(planned: list[tuple[dict[str, Any], tuple[GLTarget, LineVat]]]) -> tuple[BookedLine, ...]:
    """Each expense line's base, then one VAT line per VAT code on its VAT account (as Exact books them)."""
    bases = [BookedLine(target.code, line.get("CostCenter"), vat.base) for line, (target, vat) in planned]
    taxes: dict[tuple[str | None, str | None], Decimal] = {}
    for _line, (_target, vat) in planned:
        if vat.vat:
            taxes[(vat.code, vat.claim_gl_code)] = taxes.get((vat.code, vat.claim_gl_code), Decimal(0)) + vat.vat
    return tuple(bases) + tuple(BookedLine(gl, None, amount) for (_code, gl), amount in taxes.items())


def _currency_fields(bill: Bill, settings: PostingSettings) -> dict[str, Any] | Problem:
    """The entry's Currency, and its Rate to the division's currency when the bill is in another one.

    Always sent, so that nothing is booked in the journal's currency by default (Exact's rule for an entry
    without one; docs/ap-documents.md, Currency).
    """
    currency, rate = bill_currency(bill), json_number(bill.exchange_rate)
    if currency is None:
        return Problem("currency_unsupported", "the bill has an exchange rate, and its vendor's currency was not "
                                               "known when the bill was read; read the vendors, then the bill again",
                       {"exchangeRate": rate})
    if currency == settings.division_currency:
        return {"Currency": currency}
    tried = {"currency": currency, "division_currency": settings.division_currency, "exchangeRate": rate}
    if settings.division_currency != BILL_CURRENCY:
        return Problem("currency_unsupported", f"the bill is in {currency} and BILL gives its rate to "
                                               f"{BILL_CURRENCY}, not to the division's {settings.division_currency}",
                       tried)
    if not rate or rate <= 0:
        return Problem("currency_unsupported", f"the bill is in {currency} and has no exchange rate", tried)
    return {"Currency": currency, "Rate": float(rate)}


# Exact's refusals that are about the document, not the set-up: each has its reason (docs/ap-documents.md).
DOCUMENT_REFUSALS: tuple[tuple[str, ReasonCode], ...] = (
    ("period is closed", "period_closed"),
    ("your reference already exists", "duplicate_invoice"),
    ("exchange rate", "currency_unsupported"),
    ("currency", "currency_unsupported"),
)
REFUSAL_ADVICE: dict[str, str] = {
    "period_closed": "the bill is not moved into another period: reopen the period in Exact, or correct the bill's "
                     "date in BILL, then replay it",
    "duplicate_invoice": "Exact's own rule refuses a second entry with this invoice number for this supplier: "
                         "correct the invoice number in BILL, or void the duplicate there and ignore this item",
    "currency_unsupported": "Exact cannot book the bill's currency in this journal: allow the currency (and a "
                            "variable exchange rate) on the purchase journal, or add the rate in Exact, then replay",
}


def refusal_reason(lines: list[str]) -> ReasonCode:
    """Why Exact refused an entry, as a queue reason: a document's own problem, else ``exact_rejected``."""
    text = " ".join(lines).lower()
    return next((reason for words, reason in DOCUMENT_REFUSALS if words in text), "exact_rejected")


def invoice_key(invoice_number: str) -> str:
    """An invoice number as Exact compares it: trimmed and case-insensitive (api-reference §4.3)."""
    return invoice_number.strip().lower()


def entry_description(bill: Bill) -> str:
    """Carries the BILL bill ID, so that an entry can always be traced (and found) from Exact."""
    vendor = bill.vendor_name or ""
    return f"BILL {bill.id} {vendor}".strip()[:60]


def partition_of(document: Bill | Payment | VendorCredit) -> str:
    """The daily partition a document belongs to: its created date (stable, unlike its updated date)."""
    if document.created_time is None:
        raise ValueError(f"BILL document {document.id} has no createdTime")
    return document.created_time.date().isoformat()
