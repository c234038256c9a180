"""A day of BILL bills: read into snapshots, then each postable bill posted to Exact exactly once."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.postings import (
    EntryPlan,
    GLTarget,
    PostingSettings,
    Problem,
    content_diff,
    content_hash,
    is_postable,
    money,
    partition_of,
    plan_purchase_entry,
    posting_content,
)
from exact_bill_pipeline.services.exactly_once import Created, Posting, post_exactly_once
from exact_bill_pipeline.services.reference import stored_gl_accounts
from exact_bill_pipeline.services.vendors import supplier_for_vendor
from exact_bill_pipeline.state import mappings, snapshots
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import LedgerEntry, PostingLedger

PREVIEW_ROWS = 10


@dataclass
class ReadReport:
    read: int = 0
    postable: int = 0
    changed: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PostReport:
    considered: int = 0
    posted: int = 0
    recovered: int = 0
    already_posted: int = 0
    not_postable: int = 0
    queued: Counter[str] = field(default_factory=Counter)
    changed_after_posting: list[dict[str, Any]] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    would_post: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)


def day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def read_bills(bill: BillApi, store: StateStore, day: str) -> ReadReport:
    """Every bill BILL created on ``day``, stored as the partition's snapshots."""
    start, end = day_bounds(day)
    report = ReadReport()
    bills = bill.bills(created_from=start, created_before=end)
    save_bill_snapshots(store, [b.raw for b in bills], report)
    return report


def save_bill_snapshots(store: StateStore, items: list[dict[str, Any]], report: ReadReport | None = None) -> None:
    settings = PostingSettings()
    with store.transaction() as conn:
        for item in items:
            digest = content_hash(posting_content(item))
            before = snapshots.get(conn, "bill", item["id"])
            snapshots.save(conn, "bill", item["id"], partition=partition_of(item), amount=money(item["amount"]),
                           status=item.get("approvalStatus"), archived=bool(item.get("archived")),
                           updated_time=item.get("updatedTime"), content_hash=digest, data=item)
            if report is not None:
                report.read += 1
                report.postable += is_postable(item, settings)
                report.changed += before is not None and before.content_hash != digest
                if len(report.preview) < PREVIEW_ROWS:
                    report.preview.append(_preview(item))


@dataclass(frozen=True)
class Mapping:
    """What the posting needs from the mapping, read once per run."""

    accounts: dict[str, GLTarget]
    cost_centers: dict[str, str]
    account_names: dict[str, str]
    department_names: dict[str, str]
    suppliers: dict[str, str]
    vendor_outcomes: dict[str, dict[str, Any]]


def load_mapping(store: StateStore) -> Mapping:
    gl = {row["id"]: row for row in stored_gl_accounts(store).rows}
    with store.transaction() as conn:
        rows = mappings.stored_mapping(conn).values()
        vendor_rows = mappings.vendor_match_rows(conn)
    accounts, cost_centers, account_names, department_names = {}, {}, {}, {}
    for row in rows:
        names = account_names if row.kind == "account" else department_names
        names[row.bill_id] = row.bill_label
        if row.status != "mapped" or row.exact_id is None:
            continue
        if row.kind == "account" and row.exact_id in gl:
            account = gl[row.exact_id]
            accounts[row.bill_id] = GLTarget(account["id"], account["code"], account["use_costcenter"],
                                             account["is_blocked"])
        elif row.kind == "department" and row.exact_code:
            cost_centers[row.bill_id] = row.exact_code
    return Mapping(accounts, cost_centers, account_names, department_names, supplier_for_vendor(store), vendor_rows)


def post_bills(exact: ExactApi | None, store: StateStore, day: str, settings: PostingSettings, *, actor: str,
               dry_run: bool = False, only: set[str] | None = None) -> PostReport:
    """Posts the day's postable bills; what cannot be posted is queued with its reasons.

    With ``dry_run`` nothing is written anywhere: the report lists the journal lines that would be posted.
    ``only`` limits the run to some bills (a replay).
    """
    mapping = load_mapping(store)
    ledger, queue = PostingLedger(store), FailureQueue(store)
    report = PostReport()
    with store.transaction() as conn:
        day_snapshots = snapshots.in_partition(conn, "bill", day)
    for snap in day_snapshots:
        if only is not None and snap.source_id not in only:
            continue
        report.considered += 1
        _post_one(exact, snap.data, mapping, ledger, queue, settings, report, actor=actor, dry_run=dry_run)
    return report


def _post_one(exact: ExactApi | None, bill: dict[str, Any], mapping: Mapping, ledger: PostingLedger,
              queue: FailureQueue, settings: PostingSettings, report: PostReport, *, actor: str,
              dry_run: bool) -> None:
    bill_id, day = bill["id"], partition_of(bill)
    entry = ledger.get("bill", bill_id)
    if entry is not None and entry.state == "posted":
        _check_unchanged(entry, bill, queue, report, actor=actor, dry_run=dry_run)
        return
    if not is_postable(bill, settings):
        report.not_postable += 1
        return
    supplier_id = mapping.suppliers.get(bill["vendorId"])
    plan: EntryPlan | list[Problem]
    if supplier_id is None:
        plan = [_vendor_problem(bill, mapping)]
    else:
        plan = plan_purchase_entry(bill, supplier_id=supplier_id, accounts=mapping.accounts,
                                   cost_centers=mapping.cost_centers, settings=settings,
                                   account_names=mapping.account_names, department_names=mapping.department_names)
    if isinstance(plan, list):
        if not dry_run:
            _queue(queue, bill, plan, actor)
        report.queued[plan[0].reason] += 1
        return
    if dry_run or exact is None:
        report.would_post.extend({"bill": bill_id, "invoice": plan.payload["YourRef"], **line}
                                 for line in plan.lines)
        return
    assert supplier_id is not None
    posting = Posting(
        "bill", bill_id, day, content_hash(posting_content(bill)), settings.purchase_journal, supplier_id,
        plan.payload["YourRef"], plan.amount,
        create=lambda: _created(exact.create_purchase_entry(plan.payload)),
        find=lambda: _find_purchase_entry(exact, supplier_id, plan.payload["YourRef"], bill_id),
        content=posting_content(bill),
    )
    result = post_exactly_once(posting, ledger, actor=actor)
    if result.outcome in {"posted", "recovered"}:
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        queue.resolve("bill", bill_id, actor=actor, note=f"posted as Exact entry {result.entry_number}")
        if len(report.preview) < PREVIEW_ROWS:
            report.preview.append({**_preview(bill), "entry": result.entry_number})
    elif result.outcome == "already_posted":
        report.already_posted += 1
    elif result.outcome == "rejected":
        error = result.error
        queue.report("bill", bill_id, partition=day, reason="exact_rejected",
                     message=f"Exact rejected the purchase entry: {result.detail}", snapshot=bill,
                     tried={"payload": plan.payload}, exact_message="\n".join(error.lines) if error else None,
                     actor=actor)
        report.queued["exact_rejected"] += 1
    else:
        report.uncertain.append(bill_id)


def _check_unchanged(entry: LedgerEntry, bill: dict[str, Any], queue: FailureQueue, report: PostReport, *,
                     actor: str, dry_run: bool) -> None:
    """A posted bill is never posted again; if it changed in BILL since, that is flagged with the diff."""
    if entry.content_hash == content_hash(posting_content(bill)):
        report.already_posted += 1
        return
    diff = content_diff(json.loads(entry.posted_content) if entry.posted_content else {}, bill)
    report.changed_after_posting.append({"bill": bill["id"], "entry": entry.entry_number, "diff": diff})
    if not dry_run:
        queue.report("bill", bill["id"], partition=entry.partition_date, reason="changed_after_posting",
                     message=f"bill changed in BILL after it was posted as Exact entry {entry.entry_number}: "
                             f"{', '.join(diff)} changed; it is not posted again, correct it in Exact by hand",
                     snapshot=bill, tried={"diff": diff, "exact_entry_id": entry.exact_entry_id}, actor=actor)


def _vendor_problem(bill: dict[str, Any], mapping: Mapping) -> Problem:
    outcome = mapping.vendor_outcomes.get(bill["vendorId"])
    name = bill.get("vendorName") or bill["vendorId"]
    if outcome and outcome["outcome"] in {"ambiguous", "blocked"}:
        return Problem(f"vendor_{outcome['outcome']}",  # type: ignore[arg-type]
                       f"vendor {name!r} matches no single active Exact supplier ({outcome['outcome']})",
                       {"vendor": name, "candidates": outcome["candidates"]})
    return Problem("vendor_unmatched", f"vendor {name!r} has no Exact supplier yet", {"vendor": name})


def _queue(queue: FailureQueue, bill: dict[str, Any], problems: list[Problem], actor: str) -> None:
    queue.report("bill", bill["id"], partition=partition_of(bill), reason=problems[0].reason,
                 message="; ".join(p.message for p in problems), snapshot=bill,
                 tried=[{"reason": p.reason, **p.tried} for p in problems], actor=actor)


def _created(entry: Any) -> Created:
    return Created(str(entry.entry_id), entry.entry_number)


def _find_purchase_entry(exact: ExactApi, supplier_id: str, your_ref: str, bill_id: str) -> Created | None:
    """The entry posted for this bill: same supplier and YourRef, and the BILL ID in its description."""
    for entry in exact.find_purchase_entries(supplier=supplier_id, your_ref=your_ref):
        if bill_id in (entry.description or ""):
            return _created(entry)
    return None


def _preview(bill: dict[str, Any]) -> dict[str, Any]:
    return {"bill": bill["id"], "vendor": bill.get("vendorName"), "invoice": (bill.get("invoice") or {}).get(
        "invoiceNumber"), "amount": bill.get("amount"), "status": bill.get("approvalStatus")}
