"""Reconciling what Exact holds with BILL, per document, per day and per vendor: pure rules, no I/O.

A document (a BILL bill or payment) is expected in Exact exactly once. The entries that count are the ones in
scope: those carrying a BILL ID in a description, and those typed by hand on a supplier the connector manages
with the invoice number of one of that vendor's bills, created after the connector's first posting (entries
Exact held before the connector are not the connector's).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from exact_bill_pipeline.domain.credits import as_credit_note
from exact_bill_pipeline.domain.payments import (
    is_settled,
    is_voided,
    paid_bill_ids,
    payment_date,
    payment_description,
)
from exact_bill_pipeline.domain.postings import (
    BILL_CURRENCY,
    EntryPlan,
    GLTarget,
    PostingSettings,
    bill_currency,
    invoice_key,
    is_postable,
    money,
    plan_purchase_entry,
)
from exact_bill_pipeline.domain.records import Bill, Payment, VendorCredit
from exact_bill_pipeline.domain.vat import VatBook

DocumentKind = Literal["bill", "payment"]
FindingKind = Literal["missing", "extra", "duplicated", "different", "deleted", "day_total", "vendor_total"]
DOCUMENT_FINDINGS: tuple[FindingKind, ...] = ("missing", "extra", "duplicated", "different", "deleted")
TOTAL_FINDINGS: tuple[FindingKind, ...] = ("day_total", "vendor_total")
# The connector writes "BILL <id> ..." in every entry's description (domain.postings, domain.payments).
BILL_ID = re.compile(r"\bBILL (\S+)")
# Exact's entry types of purchase entries and purchase credit notes (api-reference §5.1).
PURCHASE_TYPES = frozenset({30, 31})
ZERO = Decimal(0)
# Ledger states of a posting that may or may not have reached Exact (state.ledger.IN_DOUBT, less refusals, which
# wait in the failure queue).
IN_DOUBT = frozenset({"posting", "uncertain"})


@dataclass(frozen=True)
class Line:
    """A transaction line as Exact holds it (one row of the sync endpoint)."""

    id: str
    entry_id: str
    entry_number: int | None
    line_number: int
    journal: str
    type: int | None
    day: date | None
    gl_code: str | None
    cost_center: str | None
    account: str | None
    amount: Decimal
    currency: str | None
    your_ref: str | None
    invoice_number: int | None
    description: str | None
    created: datetime | None


@dataclass(frozen=True)
class Deletion:
    """A line or entry Exact says was deleted (sync/Deleted), or that a full re-read no longer found."""

    key: str
    at: datetime | None = None
    by: str | None = None


@dataclass(frozen=True)
class Entry:
    """One booked entry: its live lines, by line number."""

    entry_id: str
    lines: tuple[Line, ...]

    @property
    def number(self) -> int | None:
        return self.lines[0].entry_number

    @property
    def journal(self) -> str:
        return self.lines[0].journal

    @property
    def supplier(self) -> str | None:
        return next((line.account for line in self.lines if line.account), None)

    @property
    def your_ref(self) -> str | None:
        return next((line.your_ref for line in self.lines if line.your_ref), None)

    @property
    def day(self) -> date | None:
        return next((line.day for line in self.payable_lines if line.day), self.lines[0].day)

    @property
    def currency(self) -> str | None:
        return next((line.currency for line in self.lines if line.currency), None)

    @property
    def created(self) -> datetime | None:
        return min((line.created for line in self.lines if line.created), default=None)

    @property
    def source_ids(self) -> list[str]:
        """The BILL IDs its descriptions carry (one, unless a person typed another)."""
        found = (match.group(1) for line in self.lines for match in BILL_ID.finditer(line.description or ""))
        return list(dict.fromkeys(found))

    @property
    def expense_lines(self) -> tuple[Line, ...]:
        """A purchase entry's own lines; line 0 is its payables line (api-reference §4.5)."""
        return tuple(line for line in self.lines if line.line_number > 0)

    @property
    def payable_lines(self) -> tuple[Line, ...]:
        """The lines on the supplier: what a payment settles of its payable."""
        return tuple(line for line in self.lines if line.account)

    def is_purchase(self, journals: Journals) -> bool:
        return self.journal == journals.purchase or any(line.type in PURCHASE_TYPES for line in self.lines)

    def amount(self, kind: DocumentKind) -> Decimal:
        """A bill's amount is its expense lines; a payment's is what it books on the supplier (debit positive)."""
        lines = self.expense_lines if kind == "bill" else self.payable_lines
        return sum((line.amount for line in lines), ZERO)


@dataclass(frozen=True)
class Journals:
    """The connector's journals in Exact."""

    purchase: str
    payment: str


@dataclass(frozen=True)
class ExpectedLine:
    gl_code: str | None
    cost_center: str | None
    amount: Decimal

    def label(self) -> str:
        return f"{self.gl_code or '-'}/{self.cost_center or '-'} {self.amount}"


@dataclass(frozen=True)
class Posted:
    """What the connector's ledger says of a document: its state and, once posted, Exact's entry."""

    state: str
    entry_id: str | None = None
    entry_number: int | None = None
    supplier_id: str | None = None
    sent: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Document:
    """A BILL bill or payment, as BILL says it must be in Exact."""

    kind: DocumentKind
    source_id: str
    vendor_id: str
    vendor_name: str
    day: date | None
    invoice: str
    amount: Decimal
    currency: str
    supplier_id: str | None
    expected: bool
    why_not: str | None = None
    lines: tuple[ExpectedLine, ...] | None = None  # None: the mapping cannot tell any more
    description: str | None = None  # a payment's, naming the invoices it settles
    posted: Posted | None = None


@dataclass(frozen=True)
class Finding:
    """One thing an accountant must look at, with the bill, the vendor and the amounts."""

    kind: FindingKind
    source_kind: str | None
    source_id: str | None
    vendor: str | None
    invoice: str | None
    day: date | None
    bill_amount: Decimal | None
    exact_amount: Decimal | None
    entries: tuple[int, ...]
    detail: str
    differences: dict[str, dict[str, str]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The finding as a table row (Markdown in Dagster, the CLI's table)."""
        return {"kind": self.kind, "document": self.source_id or "", "vendor": self.vendor or "",
                "invoice": self.invoice or "", "day": self.day.isoformat() if self.day else "",
                "in BILL": _text(self.bill_amount), "in Exact": _text(self.exact_amount),
                "entries": ", ".join(str(n) for n in self.entries), "what": self.detail}


@dataclass
class Reconciliation:
    findings: list[Finding]
    documents: int
    expected: int
    entries_in_scope: int
    days: int
    vendors: int

    def count(self, *kinds: FindingKind) -> int:
        return sum(1 for f in self.findings if f.kind in kinds)

    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in (*DOCUMENT_FINDINGS, *TOTAL_FINDINGS)}


# ----- what BILL expects ------------------------------------------------------------------------------------------
def bill_document(bill: Bill, *, supplier_id: str | None, accounts: Mapping[str, GLTarget],
                  cost_centers: Mapping[str, str], settings: PostingSettings, posted: Posted | None,
                  held: str | None, gl_codes: Mapping[str, str], vat: VatBook | None = None) -> Document:
    """A bill as it must be in Exact: the entry the connector would post for it now, through today's mapping.

    ``held`` says why the connector holds it back (it waits in the failure queue, or a person ignored it there).
    Its amount is what Exact's entry must total: BILL's amount, with VAT on top only where a VAT rule says BILL's
    amounts leave it out.
    """
    supplier = (posted.supplier_id if posted and posted.supplier_id else None) or supplier_id
    why_not = _bill_not_expected(bill, settings, None if _is_posted(posted) else held)
    plan = plan_purchase_entry(bill, supplier_id=supplier or "", accounts=accounts, cost_centers=cost_centers,
                               settings=settings, vat=vat)
    entry = plan if isinstance(plan, EntryPlan) else None
    return Document(
        kind="bill", source_id=bill.id, vendor_id=bill.vendor_id or "",
        vendor_name=bill.vendor_name or bill.vendor_id or "",
        day=bill.invoice.invoice_date or bill.created_time.date(),
        invoice=bill.invoice.invoice_number or bill.id,
        amount=entry.total if entry else bill.amount,
        currency=bill_currency(bill) or BILL_CURRENCY, supplier_id=supplier, expected=why_not is None,
        why_not=why_not, lines=_expected_lines(entry, posted, gl_codes), posted=posted)


def credit_note_document(credit: VendorCredit, *, supplier_id: str | None, accounts: Mapping[str, GLTarget],
                         cost_centers: Mapping[str, str], settings: PostingSettings, posted: Posted | None,
                         held: str | None, gl_codes: Mapping[str, str], vat: VatBook | None = None) -> Document:
    """A vendor credit as it must be in Exact: the purchase credit note the connector posts for it, which is the
    bill planning on the credit with negative amounts (domain.credits). It needs no approval; archived, it is not
    expected."""
    note = as_credit_note(credit).model_copy(
        update={"approval_status": next(iter(sorted(settings.postable_statuses)), None)})
    document = bill_document(note, supplier_id=supplier_id, accounts=accounts, cost_centers=cost_centers,
                             settings=settings, posted=posted, held=held, gl_codes=gl_codes, vat=vat)
    why_not = "archived in BILL" if credit.archived else (None if _is_posted(posted) else held)
    return replace(document, expected=why_not is None, why_not=why_not)


def payment_document(payment: Payment, *, bills: Mapping[str, Bill],
                     supplier_id: str | None, posted: Posted | None, held: str | None) -> Document:
    """A payment as it must be in Exact: its amount on the supplier, naming the invoices it settles."""
    invoices = [(bills[b].invoice.invoice_number if b in bills else None) or b for b in paid_bill_ids(payment)]
    supplier = (posted.supplier_id if posted and posted.supplier_id else None) or supplier_id
    why_not = _payment_not_expected(payment, None if _is_posted(posted) else held)
    return Document(
        kind="payment", source_id=payment.id, vendor_id=payment.vendor_id or "",
        vendor_name=payment.vendor_name or payment.vendor_id or "",
        day=_day(payment_date(payment)), invoice=", ".join(invoices), amount=payment.amount,
        currency=_payment_currency(payment, bills),
        supplier_id=supplier, expected=why_not is None, why_not=why_not,
        description=payment_description(payment, invoices), posted=posted)


def _payment_currency(payment: Payment, bills: Mapping[str, Bill]) -> str:
    """A payment is in the currency of the bills it pays (their vendor's), as BILL pays a vendor in its own."""
    currencies = {bill_currency(bills[b]) for b in paid_bill_ids(payment) if b in bills}
    return next(iter(currencies)) if len(currencies) == 1 and None not in currencies else BILL_CURRENCY  # type: ignore[return-value]


def _bill_not_expected(bill: Bill, settings: PostingSettings, held: str | None) -> str | None:
    if bill.archived:
        return "archived in BILL"
    if bill.approval_status not in settings.postable_statuses:
        return f"not approved in BILL ({bill.approval_status or 'no approval status'})"
    if not is_postable(bill, settings):
        return "its amount in BILL is not positive"
    return held


def _payment_not_expected(payment: Payment, held: str | None) -> str | None:
    if is_voided(payment):
        return "voided in BILL"
    if not is_settled(payment):
        return "not paid out yet in BILL"
    return held


def _is_posted(posted: Posted | None) -> bool:
    return posted is not None and posted.state == "posted"


def _expected_lines(entry: EntryPlan | None, posted: Posted | None,
                    gl_codes: Mapping[str, str]) -> tuple[ExpectedLine, ...] | None:
    """Today's mapping of the bill's lines, as Exact books them; what was sent when the mapping no longer resolves
    them (then without the VAT Exact added, which the sent lines do not say)."""
    if entry is not None:
        return tuple(ExpectedLine(line.gl_code, line.cost_center, line.amount) for line in entry.booked)
    if posted and posted.sent and posted.sent.get("PurchaseEntryLines"):
        return tuple(ExpectedLine(gl_codes.get(line["GLAccount"]), line.get("CostCenter"), money(line["AmountFC"]))
                     for line in posted.sent["PurchaseEntryLines"])
    return None


# ----- what Exact holds -----------------------------------------------------------------------------------------
def group_entries(lines: Iterable[Line], deletions: Mapping[str, Deletion]) -> tuple[list[Entry],
                                                                                    dict[str, Deletion]]:
    """The live entries, and each deleted entry's deletion (by entry ID).

    Exact's deletion log names TransactionLines (EntityType 1); whether its key is the line's ID or the
    entry's is not documented (api-reference §4.5), so either deletes the line here.
    """
    live: dict[str, list[Line]] = defaultdict(list)
    deleted: dict[str, Deletion] = {key: d for key, d in deletions.items()}
    for line in lines:
        gone = deletions.get(line.id) or deletions.get(line.entry_id)
        if gone is None:
            live[line.entry_id].append(line)
        else:
            deleted.setdefault(line.entry_id, gone)
    entries = [Entry(entry_id, tuple(sorted(rows, key=lambda r: r.line_number))) for entry_id, rows in live.items()]
    return entries, {key: d for key, d in deleted.items() if key not in live}


def first_posting(entries: Iterable[Entry], documents: Iterable[Document]) -> datetime | None:
    """When Exact created the connector's earliest entry still there, on Exact's own clock."""
    posted = {d.posted.entry_id for d in documents if d.posted and d.posted.entry_id}
    return min((e.created for e in entries if e.entry_id in posted and e.created), default=None)


# ----- matching -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    entry: Entry
    how: Literal["BILL ID", "typed by hand"]


def reconcile(documents: Iterable[Document], lines: Iterable[Line], deletions: Mapping[str, Deletion], *,
              managed: Mapping[str, str], journals: Journals, connector_since: datetime | None = None,
              supplier_names: Mapping[str, str] | None = None) -> Reconciliation:
    """What Exact holds against what BILL expects: every finding, per document, per day and per vendor.

    ``managed`` maps each supplier the connector manages to its BILL vendor. ``connector_since`` is when the
    connector first posted, for when none of its entries is left in Exact to tell.
    """
    docs = {d.source_id: d for d in documents}
    entries, deleted = group_entries(lines, deletions)
    since = first_posting(entries, docs.values()) or connector_since
    matches, strays = _match(entries, docs, managed, journals, since)
    names = supplier_names or {}
    vendors = {d.vendor_id: d.vendor_name for d in docs.values()}
    vendor_of = {supplier: vendors.get(vendor, vendor) for supplier, vendor in managed.items()}
    findings = [f for doc in docs.values() for f in _document_findings(doc, matches.get(doc.source_id, []),
                                                                         deleted, names)]
    findings += [_stray_finding(entry, vendor_of, names) for entry in strays]
    in_scope = [m.entry for found in matches.values() for m in found] + strays
    day_rows, vendor_rows = _totals(docs.values(), matches, strays, vendor_of, journals)
    findings += _total_findings(day_rows, "day_total") + _total_findings(vendor_rows, "vendor_total")
    return Reconciliation(findings, documents=len(docs), expected=sum(d.expected for d in docs.values()),
                          entries_in_scope=len({e.entry_id for e in in_scope}), days=len(day_rows),
                          vendors=len(vendor_rows))


def _match(entries: list[Entry], docs: Mapping[str, Document], managed: Mapping[str, str], journals: Journals,
           since: datetime | None) -> tuple[dict[str, list[Match]], list[Entry]]:
    """Each document's entries in Exact, and the entries carrying a BILL ID that BILL does not have."""
    by_invoice = {(d.vendor_id, invoice_key(d.invoice)): d for d in docs.values() if d.kind == "bill"}
    matches: dict[str, list[Match]] = defaultdict(list)
    strays: list[Entry] = []
    for entry in entries:
        ids = entry.source_ids
        if ids:
            known = [i for i in ids if i in docs]
            for source_id in known:
                matches[source_id].append(Match(entry, "BILL ID"))
            if not known:
                strays.append(entry)
            continue
        doc = _typed_by_hand_for(entry, by_invoice, managed, journals, since)
        if doc is not None:
            matches[doc.source_id].append(Match(entry, "typed by hand"))
    return matches, strays


def _typed_by_hand_for(entry: Entry, by_invoice: Mapping[tuple[str, str], Document], managed: Mapping[str, str],
                       journals: Journals, since: datetime | None) -> Document | None:
    """The bill a person typed this entry for: same vendor, same invoice number, after the connector began."""
    vendor = managed.get(entry.supplier or "")
    if vendor is None or since is None or not entry.is_purchase(journals) or not entry.your_ref:
        return None
    if entry.created is None or entry.created < since:
        return None
    return by_invoice.get((vendor, invoice_key(entry.your_ref)))


def _document_findings(doc: Document, found: list[Match], deleted: Mapping[str, Deletion],
                       names: Mapping[str, str]) -> list[Finding]:
    if not doc.expected:
        return [_finding(doc, "extra", [m], f"{_how(m)} entry for a {doc.kind} BILL does not expect in Exact "
                                            f"({doc.why_not})") for m in found]
    if not found:
        return [_absent(doc, deleted)]
    if len(found) > 1:
        how = ", ".join(f"{m.entry.number} ({_how(m)})" for m in found)
        return [_finding(doc, "duplicated", found, f"{len(found)} entries in Exact for one {doc.kind}: {how}")]
    differences = _differences(doc, found[0].entry, names)
    if not differences:
        return []
    said = "; ".join(f"{name}: BILL {d['bill']}, Exact {d['exact']}" for name, d in differences.items())
    return [_finding(doc, "different", found, f"{_how(found[0])} entry differs from BILL: {said}", differences)]


def _absent(doc: Document, deleted: Mapping[str, Deletion]) -> Finding:
    posted = doc.posted
    deletion = deleted.get(posted.entry_id or "") if posted else None
    if deletion is not None:
        when = f" on {deletion.at:%Y-%m-%d}" if deletion.at else ""
        who = f" by user {deletion.by}" if deletion.by else ""
        number = (posted.entry_number,) if posted and posted.entry_number else ()
        return _finding(doc, "deleted", [], f"entry {_numbers(number)} was deleted in Exact{when}{who}",
                        entries=number)
    if posted is not None and posted.state == "posted":
        why = (f"the connector posted it as entry {posted.entry_number}, which Exact no longer holds (deleted "
               f"longer ago than Exact's deletion log reaches)")
    elif posted is not None and posted.state in IN_DOUBT:
        why = f"its posting is in doubt ({posted.state}); the next payables run looks it up in Exact"
    else:
        why = "it has not been posted yet; the next payables run for its day posts it"
    return _finding(doc, "missing", [], f"BILL expects this {doc.kind} in Exact, which holds no entry for it: {why}")


def _differences(doc: Document, entry: Entry, names: Mapping[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, tuple[Any, Any]] = {}
    if doc.supplier_id and entry.supplier != doc.supplier_id:
        found["supplier"] = (_name(doc.supplier_id, names), _name(entry.supplier, names))
    if entry.day != doc.day:
        found["date"] = (doc.day, entry.day)
    if (entry.currency or doc.currency) != doc.currency:
        found["currency"] = (doc.currency, entry.currency)
    if entry.amount(doc.kind) != doc.amount:
        found["amount"] = (doc.amount, entry.amount(doc.kind))
    if doc.kind == "bill":
        found |= _bill_differences(doc, entry)
    else:
        found |= _payment_differences(doc, entry)
    return {name: {"bill": _text(a), "exact": _text(b)} for name, (a, b) in found.items()}


def _bill_differences(doc: Document, entry: Entry) -> dict[str, tuple[Any, Any]]:
    found: dict[str, tuple[Any, Any]] = {}
    if invoice_key(entry.your_ref or "") != invoice_key(doc.invoice):
        found["invoice number"] = (doc.invoice, entry.your_ref)
    if doc.lines is not None:
        wanted = sorted(line.label() for line in doc.lines)
        booked = sorted(ExpectedLine(line.gl_code, line.cost_center, line.amount).label()
                        for line in entry.expense_lines)
        if wanted != booked:
            found["lines (GL account/cost center amount)"] = ("; ".join(wanted), "; ".join(booked))
    return found


def _payment_differences(doc: Document, entry: Entry) -> dict[str, tuple[Any, Any]]:
    said = next((line.description for line in entry.payable_lines if line.description), None)
    if said != doc.description:
        return {"invoices settled": (doc.invoice, _after_id(said, doc.source_id))}
    return {}


def _stray_finding(entry: Entry, vendor_of: Mapping[str, str], names: Mapping[str, str]) -> Finding:
    vendor = vendor_of.get(entry.supplier or "") or _name(entry.supplier, names)
    return Finding("extra", None, entry.source_ids[0], vendor, entry.your_ref, entry.day, None,
                   sum((line.amount for line in entry.expense_lines), ZERO), _numbers_of([entry]),
                   f"entry {entry.number} carries BILL ID {', '.join(entry.source_ids)}, which BILL does not have "
                   f"(deleted in BILL, or not read from BILL yet)")


def _finding(doc: Document, kind: FindingKind, found: list[Match], detail: str,
             differences: dict[str, dict[str, str]] | None = None, entries: tuple[int, ...] = ()) -> Finding:
    exact = sum((m.entry.amount(doc.kind) for m in found), ZERO) if found else None
    return Finding(kind, doc.kind, doc.source_id, doc.vendor_name, doc.invoice, doc.day, doc.amount, exact,
                   entries or _numbers_of([m.entry for m in found]), detail, differences or {})


# ----- totals per day and per vendor ----------------------------------------------------------------------------
@dataclass
class _Total:
    """One day's (or vendor's) amounts in BILL and in Exact, per document, to name what differs."""

    label: str
    bill: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    exact: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def differing(self) -> list[str]:
        return sorted(k for k in set(self.bill) | set(self.exact) if self.bill.get(k, ZERO) != self.exact.get(k, ZERO))


def _totals(docs: Iterable[Document], matches: Mapping[str, list[Match]], strays: list[Entry],
            vendor_of: Mapping[str, str], journals: Journals) -> tuple[dict[Any, _Total], dict[Any, _Total]]:
    """Per (day, kind) and per vendor: BILL's expected documents against every entry in scope in Exact."""
    days: dict[Any, _Total] = {}
    vendors: dict[Any, _Total] = {}

    def add(side: str, kind: str, day: date | None, vendor: str, label: str, amount: Decimal) -> None:
        day_total = days.setdefault((day, kind), _Total(f"{kind}s dated {day or 'without a date'}"))
        getattr(day_total, side)[label] += amount
        vendor_total = vendors.setdefault((vendor, kind), _Total(f"{kind}s of vendor {vendor}"))
        getattr(vendor_total, side)[label] += amount

    for doc in docs:
        if doc.expected:
            add("bill", doc.kind, doc.day, doc.vendor_name, doc.source_id, doc.amount)
        for match in matches.get(doc.source_id, []):
            add("exact", doc.kind, match.entry.day, doc.vendor_name, doc.source_id, match.entry.amount(doc.kind))
    for entry in strays:
        kind: DocumentKind = "bill" if entry.is_purchase(journals) else "payment"
        vendor = vendor_of.get(entry.supplier or "") or entry.supplier or "unknown supplier"
        add("exact", kind, entry.day, vendor, f"entry {entry.number}", entry.amount(kind))
    return days, vendors


def _total_findings(totals: Mapping[Any, _Total], kind: FindingKind) -> list[Finding]:
    findings = []
    for (key, document_kind), total in sorted(totals.items(), key=lambda item: str(item[0])):
        differing = total.differing()
        if not differing:
            continue
        bill, exact = sum(total.bill.values(), ZERO), sum(total.exact.values(), ZERO)
        findings.append(Finding(
            kind, document_kind, None, key if kind == "vendor_total" else None, None,
            key if kind == "day_total" else None, bill, exact, (),
            f"{total.label}: BILL {bill}, Exact {exact} (difference {exact - bill}); behind it: "
            + ", ".join(differing[:20]) + (f" and {len(differing) - 20} more" if len(differing) > 20 else "")))
    return findings


# ----- small helpers ------------------------------------------------------------------------------------------------
def _how(match: Match) -> str:
    return "the connector's" if match.how == "BILL ID" else "a typed-by-hand"


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _after_id(description: str | None, source_id: str) -> str:
    return (description or "").split(source_id, 1)[-1].strip() if description else "nothing"


def _name(supplier: str | None, names: Mapping[str, str]) -> str:
    return names.get(supplier or "", supplier or "none")


def _numbers(numbers: Iterable[int]) -> str:
    return ", ".join(str(n) for n in numbers) or "(number unknown)"


def _numbers_of(entries: Iterable[Entry]) -> tuple[int, ...]:
    return tuple(e.number for e in entries if e.number is not None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(money(value))
    return value.isoformat() if isinstance(value, date) else str(value)
