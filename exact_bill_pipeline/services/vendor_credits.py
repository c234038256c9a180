"""A day of BILL vendor credits: read into snapshots, then each posted to Exact once as a purchase credit note."""

from __future__ import annotations

from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.credits import as_credit_note, credit_content, is_postable_credit
from exact_bill_pipeline.domain.postings import PostingSettings, content_hash, partition_of, plan_purchase_entry
from exact_bill_pipeline.domain.records import VendorCredit
from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.services.bills import (
    PREVIEW_ROWS,
    SAVE_CHUNK,
    Mapping,
    PostReport,
    created_entry,
    day_groups,
    day_ranges,
    find_purchase_entry,
    load_mapping,
    queue_refusal,
    with_currencies,
)
from exact_bill_pipeline.services.exactly_once import DoubtPolicy, Posting, PostingResult, post_and_record
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline.state.claims import Claimant, claimed
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue, Report
from exact_bill_pipeline.state.ledger import Intent, PostingLedger

KIND = "vendor_credit"


def read_vendor_credits(bill: BillApi, store: StateStore, days: list[str]) -> int:
    """BILL's vendor credits created on these days, stored as the days' snapshots (kind ``vendor_credit``)."""
    read = 0
    for start, end in day_ranges(days):
        for read_chunk in batched(bill.iter_vendor_credits(created_from=start, created_before=end), SAVE_CHUNK):
            # Stored as BILL's JSON as it came (every field kept) with the vendor's currency stamped, as bills are;
            # the record is what the domain reads.
            stamped = with_currencies(bill, store, [credit.raw for credit in read_chunk])
            chunk = [VendorCredit.from_snapshot(raw) for raw in stamped]
            rows = [{"source_id": c.id, "partition": partition_of(c), "amount": c.amount, "status": c.status,
                     "archived": c.archived, "updated_time": c.raw.get("updatedTime"),
                     "content_hash": content_hash(credit_content(c)), "data": c.raw} for c in chunk]
            with store.exclusive() as conn:
                snapshots.save_many(conn, KIND, rows)
            read += len(rows)
    return read


def post_vendor_credits(exact: ExactApi | None, store: StateStore, days: list[str], settings: PostingSettings, *,
                        actor: str, dry_run: bool = False, only: set[str] | None = None,
                        claimant: Claimant | None = None, policy: DoubtPolicy | None = None) -> PostReport:
    """Posts each vendor credit of these days as a purchase credit note on the mapped accounts, exactly once.

    What cannot be posted (no mapping, no supplier, refused by Exact) waits in the failure queue; a credit changed
    in BILL after it was posted is flagged, never posted again.
    """
    mapping = load_mapping(store)
    report = PostReport()
    with claimed(store, actor, claimant, needed=not dry_run and exact is not None) as holder:
        for group in day_groups(store, KIND, days):
            _post_days(exact, store, group, settings, mapping, report, actor=actor, dry_run=dry_run, only=only,
                       claimant=holder, policy=policy)
    return report


def _post_days(exact: ExactApi | None, store: StateStore, days: list[str], settings: PostingSettings,
               mapping: Mapping, report: PostReport, *, actor: str, dry_run: bool, only: set[str] | None,
               claimant: Claimant | None, policy: DoubtPolicy | None) -> None:
    ledger, queue = PostingLedger(store), FailureQueue(store)
    with store.transaction() as conn:
        credits = [VendorCredit.from_snapshot(s.data) for s in snapshots.in_partitions(conn, KIND, days)
                   if only is None or s.source_id in only]
    entries = ledger.get_many(KIND, [c.id for c in credits])
    waiting = {item.source_id for item in queue.items(status="open", kind=KIND, partitions=days)}
    postings: dict[str, tuple[Posting, VendorCredit]] = {}
    problems: list[Report] = []
    for credit in credits:
        report.considered += 1
        entry = entries.get(credit.id)
        if entry is not None and entry.state == "posted":
            if entry.content_hash == content_hash(credit_content(credit)):
                report.already_posted += 1
            else:
                _flag_changed(credit, entry.content or {}, entry.entry_number, queue, report, actor=actor,
                              dry_run=dry_run)
            continue
        if not is_postable_credit(credit):
            report.not_postable += 1
            continue
        posting = _plan(exact, credit, mapping, settings, problems, report, dry_run=dry_run)
        if posting is not None:
            postings[credit.id] = (posting, credit)
    queue.report_many(problems, actor=actor)

    def record(credit_id: str, result: PostingResult) -> None:
        posting, credit = postings[credit_id]
        _record(result, credit, posting, queue, report, actor=actor, was_waiting=credit_id in waiting)

    post_and_record({credit_id: posting for credit_id, (posting, _) in postings.items()}, ledger, claimant,
                    actor=actor, policy=policy, record=record, posted_so_far=lambda: report.posted + report.recovered,
                    noun="vendor credit")


def _plan(exact: ExactApi | None, credit: VendorCredit, mapping: Mapping, settings: PostingSettings,
          problems: list[Report], report: PostReport, *, dry_run: bool) -> Posting | None:
    supplier_id = mapping.suppliers.get(credit.vendor_id)
    day = partition_of(credit)
    if supplier_id is None:
        reason, message = "vendor_unmatched", f"vendor {credit.vendor_id} has no Exact supplier yet"
        if not dry_run:
            problems.append(Report(KIND, credit.id, day, reason, message, credit.raw, {"vendor": credit.vendor_id}))
        report.queued[reason] += 1
        return None
    # A credit note is a purchase entry with negative amounts: the bill's planning, on the credit as a bill.
    plan = plan_purchase_entry(as_credit_note(credit), supplier_id=supplier_id, accounts=mapping.accounts,
                               cost_centers=mapping.cost_centers, settings=settings, vat=mapping.vat(settings),
                               account_names=mapping.account_names, department_names=mapping.department_names)
    if isinstance(plan, list):
        if not dry_run:
            problems.append(Report(KIND, credit.id, day, plan[0].reason, "; ".join(p.message for p in plan),
                                   credit.raw,
                                   [{"reason": p.reason, **p.tried} for p in plan]))
        report.queued[plan[0].reason] += 1
        return None
    if dry_run or exact is None:
        report.would_post.extend({"vendor_credit": credit.id, "reference": plan.payload["YourRef"], **line}
                                 for line in plan.lines)
        return None
    payload, credit_id, content = plan.payload, credit.id, credit_content(credit)
    intent = Intent(KIND, credit_id, day, content_hash(content), settings.purchase_journal, supplier_id,
                    payload["YourRef"], plan.amount, content, payload)

    return Posting(intent, create=lambda guard: created_entry(exact.create_purchase_entry(payload, guard=guard)),
                   find=lambda sent: find_purchase_entry(exact, sent, credit_id))


def _record(result: PostingResult, credit: VendorCredit, posting: Posting, queue: FailureQueue,
            report: PostReport, *, actor: str, was_waiting: bool) -> None:
    if result.outcome in {"posted", "recovered"}:
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        if was_waiting:
            queue.resolve(KIND, credit.id, actor=actor, note=f"posted as Exact entry {result.entry_number}")
        if len(report.preview) < PREVIEW_ROWS:
            report.preview.append({"vendor_credit": credit.id, "reference": credit.reference_number,
                                   "amount": str(credit.amount), "entry": result.entry_number})
        if result.sent_content is not None and content_hash(result.sent_content) != posting.intent.content_hash:
            _flag_changed(credit, result.sent_content, result.entry_number, queue, report, actor=actor,
                          dry_run=False)
    elif result.outcome == "already_posted":
        report.already_posted += 1
    elif result.outcome == "busy":
        report.claimed_elsewhere.append(credit.id)
    elif result.outcome == "rejected":
        queue_refusal(result, posting, credit.raw, queue, report, what="purchase credit note", actor=actor)
    else:
        report.uncertain.append(credit.id)


def _flag_changed(credit: VendorCredit, sent: dict[str, Any], entry_number: int | None, queue: FailureQueue,
                  report: PostReport, *, actor: str, dry_run: bool) -> None:
    now = credit_content(credit)
    diff = {key: {"before": sent.get(key), "after": now[key]} for key in now if sent.get(key) != now[key]}
    report.changed_after_posting.append({"vendor_credit": credit.id, "entry": entry_number, "diff": diff})
    if dry_run:
        return
    queue.report(KIND, credit.id, partition=partition_of(credit), reason="changed_after_posting",
                 message=f"vendor credit changed in BILL after it was posted as Exact credit note {entry_number}: "
                         f"{', '.join(diff)} changed; it is not posted again, correct it in Exact by hand",
                 snapshot=credit.raw, tried={"diff": diff}, actor=actor)

