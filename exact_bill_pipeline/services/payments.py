"""A day of BILL payments: read into snapshots, then each settled payment posted to Exact exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.payments import (
    PaymentSettings,
    is_settled,
    paid_bill_ids,
    payment_content,
    payment_description,
    payment_diff,
    plan_payment_entry,
)
from exact_bill_pipeline.domain.postings import content_hash, money, partition_of
from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.services.bills import PREVIEW_ROWS, SAVE_CHUNK, day_groups, day_ranges
from exact_bill_pipeline.services.exactly_once import (
    Created,
    DoubtPolicy,
    Posting,
    PostingResult,
    post_and_record,
)
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline.state.claims import Claimant, claimed
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue, Report
from exact_bill_pipeline.state.ledger import Intent, LedgerEntry, PostingLedger


@dataclass
class PaymentReport:
    read: int = 0
    posted: int = 0
    recovered: int = 0
    already_posted: int = 0
    not_settled: int = 0
    queued: Counter[str] = field(default_factory=Counter)
    uncertain: list[str] = field(default_factory=list)
    claimed_elsewhere: list[str] = field(default_factory=list)
    changed_after_posting: list[dict[str, Any]] = field(default_factory=list)
    would_post: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)


def read_payments(bill: BillApi, store: StateStore, days: list[str]) -> int:
    """BILL's payments created on these days; BILL's payment list is filtered by createdTime like bills."""
    read = 0
    for start, end in day_ranges(days):
        for chunk in batched(bill.iter_payments(created_from=start, created_before=end), SAVE_CHUNK):
            items = [p.model_dump(mode="json", by_alias=True) for p in chunk]
            rows = [{"source_id": item["id"], "partition": partition_of(item), "amount": money(item["amount"]),
                     "status": item.get("status"), "archived": False, "updated_time": item.get("updatedTime"),
                     "content_hash": content_hash(payment_content(item)), "data": item} for item in items]
            with store.exclusive() as conn:
                snapshots.save_many(conn, "payment", rows)
            read += len(rows)
    return read


def post_payments(exact: ExactApi | None, store: StateStore, days: list[str], settings: PaymentSettings, *,
                  actor: str, dry_run: bool = False, only: set[str] | None = None, claimant: Claimant | None = None,
                  policy: DoubtPolicy | None = None) -> PaymentReport:
    """Posts each settled payment whose bills are all in Exact; a payment of an unposted bill waits in the queue.

    A payment voided or changed in BILL after it was posted is flagged, never posted again.
    """
    report = PaymentReport()
    with claimed(store, actor, claimant, needed=not dry_run and exact is not None) as holder:
        for group in day_groups(store, "payment", days):
            _post_days(exact, store, group, settings, report, actor=actor, dry_run=dry_run, only=only,
                       claimant=holder, policy=policy)
    return report


def _post_days(exact: ExactApi | None, store: StateStore, days: list[str], settings: PaymentSettings,
               report: PaymentReport, *, actor: str, dry_run: bool, only: set[str] | None,
               claimant: Claimant | None, policy: DoubtPolicy | None) -> None:
    ledger, queue = PostingLedger(store), FailureQueue(store)
    with store.transaction() as conn:
        day_payments = [s.data for s in snapshots.in_partitions(conn, "payment", days)
                        if only is None or s.source_id in only]
    entries = ledger.get_many("payment", [p["id"] for p in day_payments])
    bill_entries = ledger.get_many("bill", [b for p in day_payments for b in paid_bill_ids(p)])
    waiting = {item.source_id for item in queue.items(status="open", kind="payment", partitions=days)}
    postings: dict[str, tuple[Posting, dict[str, Any]]] = {}
    problems: list[Report] = []  # written to the queue together, in one transaction
    for payment in day_payments:
        report.read += 1
        entry = entries.get(payment["id"])
        if entry is not None and entry.state == "posted":
            _check_unchanged(entry, payment, queue, report, actor=actor, dry_run=dry_run)
            continue
        if not is_settled(payment):
            report.not_settled += 1
            continue
        posting = _plan(exact, payment, partition_of(payment), settings, bill_entries, problems, report,
                        dry_run=dry_run)
        if posting is not None:
            postings[payment["id"]] = (posting, payment)
    queue.report_many(problems, actor=actor)

    def record(payment_id: str, result: PostingResult) -> None:
        posting, payment = postings[payment_id]
        _record(result, payment, posting, queue, report, actor=actor, was_waiting=payment_id in waiting)

    post_and_record({payment_id: posting for payment_id, (posting, _) in postings.items()}, ledger, claimant,
                    actor=actor, policy=policy, record=record, posted_so_far=lambda: report.posted + report.recovered,
                    noun="payment")


def _check_unchanged(entry: LedgerEntry, payment: dict[str, Any], queue: FailureQueue, report: PaymentReport, *,
                     actor: str, dry_run: bool) -> None:
    """A posted payment is never posted again; voided or changed in BILL since, it is flagged with the diff."""
    diff = payment_diff(entry.content or {}, payment)
    if not diff:
        report.already_posted += 1
        return
    _flag_changed(payment, diff, entry, queue, report, actor=actor, dry_run=dry_run)


def _flag_changed(payment: dict[str, Any], diff: dict[str, Any], entry: LedgerEntry | None, queue: FailureQueue,
                  report: PaymentReport, *, actor: str, dry_run: bool, entry_number: int | None = None) -> None:
    number = entry.entry_number if entry else entry_number
    report.changed_after_posting.append({"payment": payment["id"], "entry": number, "diff": diff})
    if dry_run:
        return
    voided = diff.get("settlement", {}).get("after") == "voided"
    what = "voided" if voided else f"changed ({', '.join(diff)})"
    queue.report("payment", payment["id"], partition=partition_of(payment), reason="changed_after_posting",
                 message=f"payment {what} in BILL after it was posted as Exact entry {number}; it is not posted "
                         f"again: {'reverse' if voided else 'correct'} the entry in Exact by hand",
                 snapshot=payment, tried={"diff": diff, "exact_entry_id": entry.exact_entry_id if entry else None},
                 actor=actor)


def _plan(exact: ExactApi | None, payment: dict[str, Any], day: str, settings: PaymentSettings,
          bill_entries: dict[str, LedgerEntry], problems: list[Report], report: PaymentReport, *,
          dry_run: bool) -> Posting | None:
    bill_ids = paid_bill_ids(payment)
    posted = [bill_entries[b] for b in bill_ids if b in bill_entries and bill_entries[b].state == "posted"]
    if not bill_ids or len(posted) != len(bill_ids):
        missing = [b for b in bill_ids if b not in bill_entries or bill_entries[b].state != "posted"]
        if not dry_run:
            problems.append(Report("payment", payment["id"], day, "bill_not_posted",
                                   f"the payment's bills are not in Exact yet ({', '.join(missing) or 'none named'}); "
                                   f"it is posted once they are", payment, {"bills": missing}))
        report.queued["bill_not_posted"] += 1
        return None
    supplier_id = posted[0].supplier_id or ""
    invoices = [e.lookup_ref or "" for e in posted]
    entry = plan_payment_entry(payment, supplier_id=supplier_id, invoice_numbers=invoices, settings=settings)
    if dry_run or exact is None:
        report.would_post.append({"payment": payment["id"], **entry})
        return None
    content, payment_id = payment_content(payment), payment["id"]
    intent = Intent("payment", payment_id, day, content_hash(content), settings.journal, supplier_id,
                    payment_description(payment, invoices), money(payment["amount"]), content, entry)
    return Posting(intent, create=lambda guard: _create(exact, settings, entry, guard),
                   find=lambda sent: _find(exact, sent, settings, payment_id))


def _record(result: PostingResult, payment: dict[str, Any], posting: Posting, queue: FailureQueue,
            report: PaymentReport, *, actor: str, was_waiting: bool) -> None:
    if result.outcome in {"posted", "recovered", "already_posted"}:
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        if was_waiting:
            queue.resolve("payment", payment["id"], actor=actor, note=f"posted as Exact entry {result.entry_number}")
        if result.outcome != "already_posted" and len(report.preview) < PREVIEW_ROWS:
            report.preview.append({"payment": payment["id"], "amount": str(money(payment["amount"])),
                                   "entry": result.entry_number})
        if result.sent_content is not None and (diff := payment_diff(result.sent_content, payment)):
            _flag_changed(payment, diff, None, queue, report, actor=actor, dry_run=False,
                          entry_number=result.entry_number)
    elif result.outcome == "busy":
        report.claimed_elsewhere.append(payment["id"])
    elif result.outcome == "rejected":
        queue.report("payment", payment["id"], partition=posting.intent.partition, reason="exact_rejected",
                     message=f"Exact refused the payment entry: {result.detail}", snapshot=payment,
                     tried={"payload": posting.intent.payload, "status": result.error.status if result.error else None},
                     actor=actor, exact_message="\n".join(result.error.lines) if result.error else None)
        report.queued["exact_rejected"] += 1
    else:
        report.uncertain.append(payment["id"])


def _create(exact: ExactApi, settings: PaymentSettings, entry: dict[str, Any], guard: Callable[[], None]) -> Created:
    created = (exact.create_bank_entry(entry, guard=guard) if settings.entry_kind == "bank"
               else exact.create_general_journal_entry(entry, guard=guard))
    return Created(str(created.entry_id), created.entry_number)


def _find(exact: ExactApi, sent: dict[str, Any], settings: PaymentSettings, payment_id: str) -> Created | None:
    """The entry posted for this payment: in the journal it was sent to, a line carrying its BILL ID."""
    lines = exact.find_transaction_lines(journal=sent.get("JournalCode") or settings.journal,
                                         description=f"BILL {payment_id}")
    for line in lines:
        if line.entry_id is not None:
            return Created(str(line.entry_id), line.entry_number)
    return None
