"""Reconciling with Exact itself: read what Exact holds (its lines and deletions, incrementally), match it with BILL.

Reads go through the sync endpoints only: sync/Financial/TransactionLines (1,000 lines a call, from the last
row version read) and sync/Deleted (once a run). Lines carry everything compared (supplier, invoice number,
date, GL account, cost center, amount, currency, description), so no entry is read by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.clients.exact_online.records import TransactionLine
from exact_bill_pipeline.domain.postings import PostingSettings, money
from exact_bill_pipeline.domain.reconciliation import (
    PURCHASE_TYPES,
    Deletion,
    Document,
    Journals,
    Posted,
    Reconciliation,
    bill_document,
    credit_note_document,
    payment_document,
    reconcile,
)
from exact_bill_pipeline.domain.records import Bill, Payment, VendorCredit
from exact_bill_pipeline.services.bills import Mapping, load_mapping
from exact_bill_pipeline.services.reference import stored_suppliers
from exact_bill_pipeline.state import exact_lines, reconciliations, snapshots
from exact_bill_pipeline.state.claims import aware
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.exact_lines import LineCursor
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import LedgerEntry, PostingLedger

# Exact keeps sync/Deleted for about two months (api-reference §4.5; the exact span is UNCONFIRMED). A log read
# longer ago than this may have lost deletions since, so the lines are read again in full instead.
FULL_READ_AFTER = timedelta(days=45)
# sync/Deleted EntityType of TransactionLines (api-reference §4.5).
DELETED_LINES = 1
CHANGED = "changed_after_posting"


@dataclass(frozen=True)
class ReconcileSettings:
    posting: PostingSettings
    journals: Journals
    full_read_after: timedelta = FULL_READ_AFTER


@dataclass
class ReadReport:
    """What one read of Exact took in."""

    full_read: bool = False
    lines_read: int = 0
    deletions_read: int = 0


@dataclass
class ReconcileReport:
    run_id: int
    read: ReadReport
    result: Reconciliation
    exact_calls: int
    started_at: datetime
    finished_at: datetime = field(default_factory=lambda: datetime.now(tz=UTC))


def reconcile_with_exact(exact: ExactApi, store: StateStore, settings: ReconcileSettings, *,
                         now: datetime | None = None) -> ReconcileReport:
    """Reads what changed in Exact since the last time, matches all of it with BILL, and records the findings."""
    started = now or datetime.now(tz=UTC)
    calls = exact.calls
    read = read_exact(exact, store, settings, now=started)
    result = match_with_bill(store, settings)
    report = ReconcileReport(0, read, result, exact.calls - calls, started)
    with store.transaction() as conn:
        report.run_id = reconciliations.save(conn, {
            "started_at": started, "finished_at": report.finished_at, "full_read": read.full_read,
            "lines_read": read.lines_read, "deletions_read": read.deletions_read, "exact_calls": report.exact_calls,
            "documents": result.documents, "expected": result.expected, "entries_in_scope": result.entries_in_scope,
            "counts": result.counts()}, result.findings)
    return report


# ----- reading Exact ------------------------------------------------------------------------------------------------
def read_exact(exact: ExactApi, store: StateStore, settings: ReconcileSettings, *, now: datetime) -> ReadReport:
    """New and changed lines since the last read, then the deletion log; a full re-read when the log may have gaps.

    Each page of lines is stored with the cursor in one transaction, so a read stopped by the call budget (or
    anything else) resumes where it stopped.
    """
    cursor = _begin_read(store, settings, now)
    report = ReadReport(full_read=cursor.full_read_from is not None)
    for page in exact.sync_transaction_line_pages(cursor.timestamp):
        rows = [line_row(line) for line in page if _kept(line, settings.journals)]
        with store.transaction() as conn:
            exact_lines.store_lines(conn, rows, cursor.reads)
            cursor.timestamp = max([cursor.timestamp, *(line.timestamp or 0 for line in page)])
            exact_lines.save_cursor(conn, cursor)
        report.lines_read += len(page)
    _read_deletions(exact, store, cursor, report, now)
    return report


def _begin_read(store: StateStore, settings: ReconcileSettings, now: datetime) -> LineCursor:
    with store.exclusive() as conn:
        cursor = exact_lines.load_cursor(conn)
        cursor.reads += 1
        last_log_read = cursor.deleted_read()
        log_may_have_gaps = last_log_read is None or now - last_log_read > settings.full_read_after
        if cursor.full_read_from is None and (cursor.timestamp == 0 or log_may_have_gaps):
            cursor.full_read_from, cursor.timestamp = cursor.reads, 0
        exact_lines.save_cursor(conn, cursor)
    return cursor


def _read_deletions(exact: ExactApi, store: StateStore, cursor: LineCursor, report: ReadReport,
                    now: datetime) -> None:
    log = exact.deleted(cursor.deleted)
    deleted = [d for d in log if d.entity_type == DELETED_LINES]
    report.deletions_read = len(deleted)
    entries = PostingLedger(store).entries() if deleted else []
    posted_entries = {e.exact_entry_id for e in entries if e.exact_entry_id}
    with store.transaction() as conn:
        keys = [str(d.entity_key) for d in deleted]
        # Only deletions of what the connector reads or posted: the log names every line of the division.
        ours = exact_lines.known_keys(conn, keys) | (set(keys) & posted_entries)
        exact_lines.record_deletions(conn, [
            Deletion(str(d.entity_key), d.deleted_date, str(d.deleted_by) if d.deleted_by else None)
            for d in deleted if str(d.entity_key) in ours],
            found_by="deleted_log")
        if cursor.full_read_from is not None:
            gone = exact_lines.unseen_since(conn, cursor.full_read_from)
            exact_lines.record_deletions(conn, [Deletion(key) for key in gone], found_by="full_read")
            cursor.full_read_from = None
        cursor.deleted = max([cursor.deleted, *(d.timestamp for d in log)])
        cursor.deleted_read_at = now.isoformat()
        exact_lines.save_cursor(conn, cursor)


def _kept(line: TransactionLine, journals: Journals) -> bool:
    """Lines of the connector's journals, and of purchase entries anywhere (where a bill typed by hand lands)."""
    journal = (line.journal_code or "").strip()
    return line.entry_id is not None and (journal in {journals.purchase, journals.payment}
                                          or line.type in PURCHASE_TYPES)


def line_row(line: TransactionLine) -> dict[str, Any]:
    amount = line.amount_fc if line.amount_fc is not None else line.amount_dc or 0
    return {"id": str(line.id), "entry_id": str(line.entry_id), "entry_number": line.entry_number,
            "line_number": line.line_number or 0, "journal_code": (line.journal_code or "").strip(),
            "entry_type": line.type, "line_date": line.date.date() if line.date else None,
            "gl_account_code": (line.gl_account_code or "").strip() or None,
            "cost_center": (line.cost_center or "").strip() or None,
            "account_id": str(line.account) if line.account else None, "amount": money(amount),
            "currency": line.currency, "your_ref": line.your_ref, "invoice_number": line.invoice_number,
            "description": line.description, "created_at": line.created, "row_timestamp": line.timestamp or 0}


# ----- matching with BILL -------------------------------------------------------------------------------------------
def match_with_bill(store: StateStore, settings: ReconcileSettings) -> Reconciliation:
    """What Exact holds (as last read) against BILL's bills and payments (as last read) and the ledger."""
    mapping = load_mapping(store)
    ledger = {(e.source_kind, e.source_id): e for e in PostingLedger(store).entries()}
    with store.transaction() as conn:
        bills = {s.source_id: Bill.from_snapshot(s.data) for s in snapshots.of_kind(conn, "bill")}
        payments = [Payment.from_snapshot(s.data) for s in snapshots.of_kind(conn, "payment")]
        credits = [VendorCredit.from_snapshot(s.data) for s in snapshots.of_kind(conn, "vendor_credit")]
        lines, deletions = exact_lines.lines(conn), exact_lines.deletions(conn)
    documents = _documents(store, bills, payments, mapping, ledger, settings.posting)
    documents += _credit_notes(store, credits, mapping, ledger, settings.posting)
    managed = {supplier: vendor for vendor, supplier in mapping.suppliers.items()}
    since = min((e.created_at for e in ledger.values() if e.state == "posted" and e.source_kind != "vendor"),
                default=None)
    names = {row["id"]: row["name"] for row in stored_suppliers(store)}
    return reconcile(documents, lines, deletions, managed=managed, journals=settings.journals,
                     connector_since=aware(since) if since else None, supplier_names=names)


def _documents(store: StateStore, bills: dict[str, Bill], payments: list[Payment],
               mapping: Mapping, ledger: dict[tuple[str, str], LedgerEntry],
               posting: PostingSettings) -> list[Document]:
    held = _held(store)
    gl_codes = {target.id: target.code for target in mapping.accounts.values()}
    documents = [bill_document(bill, supplier_id=mapping.suppliers.get(bill.vendor_id or ""),
                               accounts=mapping.accounts, cost_centers=mapping.cost_centers, settings=posting,
                               posted=_posted(ledger.get(("bill", bill_id))), held=held.get(("bill", bill_id)),
                               gl_codes=gl_codes, vat=mapping.vat(posting))
                 for bill_id, bill in bills.items()]
    documents += [payment_document(payment, bills=bills, supplier_id=mapping.suppliers.get(payment.vendor_id or ""),
                                   posted=_posted(ledger.get(("payment", payment.id))),
                                   held=held.get(("payment", payment.id))) for payment in payments]
    return documents


def _credit_notes(store: StateStore, credits: list[VendorCredit], mapping: Mapping,
                  ledger: dict[tuple[str, str], LedgerEntry], posting: PostingSettings) -> list[Document]:
    held = _held(store)
    gl_codes = {target.id: target.code for target in mapping.accounts.values()}
    return [credit_note_document(credit, supplier_id=mapping.suppliers.get(credit.vendor_id or ""),
                                 accounts=mapping.accounts, cost_centers=mapping.cost_centers, settings=posting,
                                 posted=_posted(ledger.get(("vendor_credit", credit.id))),
                                 held=held.get(("vendor_credit", credit.id)), gl_codes=gl_codes,
                                 vat=mapping.vat(posting))
            for credit in credits]


def _held(store: StateStore) -> dict[tuple[str, str], str]:
    """Documents the connector holds back: waiting in the failure queue, or ignored there by a person."""
    queue = FailureQueue(store)
    held = {(i.source_kind, i.source_id): f"ignored in the failure queue: {i.note or 'no note'}"
            for i in queue.items(status="ignored", reason_not=CHANGED)}
    held |= {(i.source_kind, i.source_id): f"it waits in the failure queue ({i.reason_code})"
             for i in queue.items(status="open", reason_not=CHANGED)}
    return held


def _posted(entry: LedgerEntry | None) -> Posted | None:
    if entry is None:
        return None
    return Posted(entry.state, entry.exact_entry_id, entry.entry_number, entry.supplier_id,
                  entry.sent if entry.sent_payload else None)
