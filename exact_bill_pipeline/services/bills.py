"""A day of BILL bills: read into snapshots, then each postable bill posted to Exact exactly once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.postings import (
    REFUSAL_ADVICE,
    EntryPlan,
    GLTarget,
    PostingSettings,
    Problem,
    content_diff,
    content_hash,
    invoice_key,
    is_postable,
    partition_of,
    plan_purchase_entry,
    posting_content,
    refusal_reason,
)
from exact_bill_pipeline.domain.records import Bill
from exact_bill_pipeline.domain.vat import VatBook, VatCode, VatRule
from exact_bill_pipeline.iterables import batched, batched_by_weight
from exact_bill_pipeline.services.exactly_once import (
    Created,
    DoubtPolicy,
    Posting,
    PostingResult,
    post_and_record,
)
from exact_bill_pipeline.services.reference import stored_gl_accounts, stored_vat_codes
from exact_bill_pipeline.services.vendors import read_vendors, supplier_for_vendor, vendor_currencies
from exact_bill_pipeline.state import mappings, snapshots
from exact_bill_pipeline.state.claims import Claimant, claimed
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue, Report
from exact_bill_pipeline.state.ledger import Intent, LedgerEntry, PostingLedger

PREVIEW_ROWS = 10
SAVE_CHUNK = 500
# A range of days is posted a group of days at a time, at most this many stored bills (or payments) per
# group: memory stays flat however long the range, and a sparse history still takes few transactions.
SOURCES_AT_ONCE = 1000


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
    claimed_elsewhere: list[str] = field(default_factory=list)
    would_post: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)


def day_ranges(days: list[str]) -> list[tuple[datetime, datetime]]:
    """The days as [start, end) ranges of consecutive days, so a range of partitions is read in one query."""
    ranges: list[tuple[datetime, datetime]] = []
    for day in sorted(set(days)):
        start = datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], start + timedelta(days=1))
        else:
            ranges.append((start, start + timedelta(days=1)))
    return ranges


def day_groups(store: StateStore, kind: str, days: list[str]) -> list[list[str]]:
    """The days that hold stored sources, in order, grouped by SOURCES_AT_ONCE (a busier day alone)."""
    with store.transaction() as conn:
        counts = snapshots.counts_by_partition(conn, kind, sorted(set(days)))
    return list(batched_by_weight(sorted(counts), counts.__getitem__, SOURCES_AT_ONCE))


def read_bills(bill: BillApi, store: StateStore, days: list[str]) -> ReadReport:
    """Every bill BILL created on these days, stored as the partitions' snapshots, a few pages at a time."""
    report = ReadReport()
    for start, end in day_ranges(days):
        for chunk in batched(bill.iter_bills(created_from=start, created_before=end), SAVE_CHUNK):
            save_bill_snapshots(store, with_currencies(bill, store, [b.raw for b in chunk]), report)
    return report


def with_currencies(bill: BillApi, store: StateStore, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each bill with its vendor's billCurrency as it is now, kept with the bill: what its amounts are in.

    Vendors not read yet are read first (BILL calls only); a vendor BILL does not return leaves the bill
    without one, and such a bill with an exchange rate waits as currency_unsupported.
    """
    currencies = vendor_currencies(store)
    if any(item.get("vendorId") not in currencies for item in items):
        read_vendors(bill, store)
        currencies = vendor_currencies(store)
    return [{**item, "billCurrency": currencies[item["vendorId"]]} if item.get("vendorId") in currencies else item
            for item in items]


def save_bill_snapshots(store: StateStore, items: list[dict[str, Any]], report: ReadReport | None = None) -> None:
    settings = PostingSettings()
    records = {item["id"]: Bill.from_snapshot(item) for item in items}
    rows = [{"source_id": item["id"], "partition": partition_of(bill), "amount": bill.amount,
             "status": bill.approval_status, "archived": bill.archived,
             "updated_time": item.get("updatedTime"), "content_hash": content_hash(posting_content(bill)),
             "data": item} for item in items for bill in [records[item["id"]]]]
    # Exclusive: on SQLite a read that then writes must hold the write lock from the start, or two runs reading
    # the same day both read and the second's write fails at once ("database is locked").
    with store.exclusive() as conn:
        before = snapshots.content_hashes(conn, "bill", [r["source_id"] for r in rows])
        snapshots.save_many(conn, "bill", rows)
    if report is not None:
        for row in rows:
            report.read += 1
            report.postable += is_postable(records[row["source_id"]], settings)
            report.changed += row["source_id"] in before and before[row["source_id"]] != row["content_hash"]
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append(_preview(records[row["source_id"]]))


@dataclass(frozen=True)
class Mapping:
    """What the posting needs from the mapping, read once per run."""

    accounts: dict[str, GLTarget]
    cost_centers: dict[str, str]
    account_names: dict[str, str]
    department_names: dict[str, str]
    suppliers: dict[str, str]
    vendor_outcomes: dict[str, dict[str, Any]]
    vat_rules: dict[str, VatRule] = field(default_factory=dict)
    vat_codes: dict[str, VatCode] = field(default_factory=dict)

    def vat(self, settings: PostingSettings) -> VatBook:
        """The VAT rules people set, over the settings' default, with Exact's VAT codes."""
        return VatBook(self.vat_rules, VatRule(settings.vat_code, settings.amounts_include_vat), self.vat_codes)


def load_mapping(store: StateStore) -> Mapping:
    gl = {row["id"]: row for row in stored_gl_accounts(store).rows}
    with store.transaction() as conn:
        rows = mappings.stored_mapping(conn).values()
        vendor_rows = mappings.vendor_match_rows(conn)
        vat_rules = mappings.vat_rules(conn)
    accounts, cost_centers, account_names, department_names = {}, {}, {}, {}
    for row in rows:
        names = account_names if row.kind == "account" else department_names
        names[row.bill_id] = row.bill_label
        if row.status != "mapped" or row.exact_id is None:
            continue
        if row.kind == "account" and row.exact_id in gl:
            account = gl[row.exact_id]
            accounts[row.bill_id] = GLTarget(account["id"], account["code"], account["use_costcenter"],
                                             account["is_blocked"], account["vat_code"])
        elif row.kind == "department" and row.exact_code:
            cost_centers[row.bill_id] = row.exact_code
    return Mapping(accounts, cost_centers, account_names, department_names, supplier_for_vendor(store), vendor_rows,
                   vat_rules, stored_vat_codes(store))


def post_bills(exact: ExactApi | None, store: StateStore, days: list[str], settings: PostingSettings, *,
               actor: str, dry_run: bool = False, only: set[str] | None = None, claimant: Claimant | None = None,
               policy: DoubtPolicy | None = None) -> PostReport:
    """Posts the postable bills of these days; what cannot be posted is queued with its reasons.

    With ``dry_run`` nothing is written anywhere: the report lists the journal lines that would be posted.
    ``only`` limits the run to some bills (a replay). Every bill is posted under ``claimant``'s claim (one
    is registered for the call when none is given).
    """
    mapping = load_mapping(store)
    report = PostReport()
    with claimed(store, actor, claimant, needed=not dry_run and exact is not None) as holder:
        for group in day_groups(store, "bill", days):
            _post_days(exact, store, group, settings, mapping, report, actor=actor, dry_run=dry_run, only=only,
                       claimant=holder, policy=policy)
    return report


def _post_days(exact: ExactApi | None, store: StateStore, days: list[str], settings: PostingSettings,
               mapping: Mapping, report: PostReport, *, actor: str, dry_run: bool, only: set[str] | None,
               claimant: Claimant | None, policy: DoubtPolicy | None) -> None:
    ledger, queue = PostingLedger(store), FailureQueue(store)
    with store.transaction() as conn:
        day_bills = [Bill.from_snapshot(s.data) for s in snapshots.in_partitions(conn, "bill", days)
                     if only is None or s.source_id in only]
    entries = ledger.get_many("bill", [bill.id for bill in day_bills])
    waiting = {item.source_id for item in queue.items(status=None, kind="bill", partitions=days)
               if item.status in {"open", "released"}}
    postings: dict[str, tuple[Posting, Bill]] = {}
    problems: list[Report] = []  # written to the queue together, in one transaction
    for bill in day_bills:
        report.considered += 1
        entry = entries.get(bill.id)
        if entry is not None and entry.state == "posted":
            _check_unchanged(entry, bill, queue, report, actor=actor, dry_run=dry_run)
            continue
        posting = _plan(exact, bill, mapping, problems, settings, report, dry_run=dry_run)
        if posting is not None:
            postings[bill.id] = (posting, bill)
    released = set(queue.source_ids(status="released", kind="bill"))
    for bill_id in _hold_duplicates(postings, ledger, released, problems, report, dry_run=dry_run):
        del postings[bill_id]
    queue.report_many(problems, actor=actor)

    def record(bill_id: str, result: PostingResult) -> None:
        posting, bill = postings[bill_id]
        _record(result, bill, posting, queue, report, actor=actor, was_waiting=bill_id in waiting)

    post_and_record({bill_id: posting for bill_id, (posting, _) in postings.items()}, ledger, claimant,
                    actor=actor, policy=policy, record=record, posted_so_far=lambda: report.posted + report.recovered,
                    noun="bill")


def _plan(exact: ExactApi | None, bill: Bill, mapping: Mapping, problems: list[Report],
          settings: PostingSettings, report: PostReport, *, dry_run: bool) -> Posting | None:
    """The posting for a bill that is ready; otherwise None, with the bill queued or counted."""
    if not is_postable(bill, settings):
        report.not_postable += 1
        return None
    supplier_id = mapping.suppliers.get(bill.vendor_id)
    plan: EntryPlan | list[Problem]
    if supplier_id is None:
        plan = [_vendor_problem(bill, mapping)]
    else:
        plan = plan_purchase_entry(bill, supplier_id=supplier_id, accounts=mapping.accounts,
                                   cost_centers=mapping.cost_centers, settings=settings, vat=mapping.vat(settings),
                                   account_names=mapping.account_names, department_names=mapping.department_names)
    if isinstance(plan, list):
        if not dry_run:
            problems.append(_problems_report(bill, plan))
        report.queued[plan[0].reason] += 1
        return None
    if dry_run or exact is None:
        report.would_post.extend({"bill": bill.id, "invoice": plan.payload["YourRef"], **line}
                                 for line in plan.lines)
        return None
    payload, bill_id = plan.payload, bill.id
    content = posting_content(bill)
    intent = Intent("bill", bill_id, partition_of(bill), content_hash(content), settings.purchase_journal,
                    supplier_id, payload["YourRef"], plan.amount, content, payload)
    return Posting(intent, create=lambda guard: created_entry(exact.create_purchase_entry(payload, guard=guard)),
                   find=lambda sent: find_purchase_entry(exact, sent, bill_id))


def _hold_duplicates(postings: dict[str, tuple[Posting, Bill]], ledger: PostingLedger, released: set[str],
                     problems: list[Report], report: PostReport, *, dry_run: bool) -> list[str]:
    """The bills to hold back as ``duplicate_invoice``: their vendor's invoice number is already used by a bill
    in Exact (as the ledger knows, so no call), or by an earlier bill of this run. A released bill is let through.
    """
    def key(item: tuple[Posting, Bill]) -> tuple[str, str]:
        intent = item[0].intent
        return intent.supplier_id or "", invoice_key(intent.lookup_ref or "")

    used = ledger.bills_by_invoice({key(item) for item in postings.values()})
    held: list[str] = []
    for bill_id, item in sorted(postings.items(), key=lambda pair: (pair[1][1].created_time, pair[0])):
        others = [other for other in used.get(key(item), []) if other != bill_id]
        if others and bill_id not in released:
            held.append(bill_id)
            report.queued["duplicate_invoice"] += 1
            if not dry_run:
                problems.append(_duplicate_report(item[1], item[0].intent.lookup_ref or "", others))
        elif bill_id not in used.get(key(item), []):
            used.setdefault(key(item), []).append(bill_id)
    return held


def _duplicate_report(bill: Bill, invoice: str, others: list[str]) -> Report:
    vendor = bill.vendor_name or bill.vendor_id
    message = (f"invoice number {invoice!r} of vendor {vendor!r} is already used by bill {', '.join(others)}; this "
               f"bill ({bill.id}) is held so that one invoice is not booked twice. If it is a real second "
               f"invoice: `exact-bill failures release <ID> --note ...`; if it is a duplicate, void it in BILL and "
               f"`exact-bill failures ignore <ID> --note ...`")
    return Report("bill", bill.id, partition_of(bill), "duplicate_invoice", message, bill.raw,
                  {"invoice": invoice, "bills": [bill.id, *others]})


def _record(result: PostingResult, bill: Bill, posting: Posting, queue: FailureQueue,
            report: PostReport, *, actor: str, was_waiting: bool) -> None:
    if result.outcome in {"posted", "recovered"}:
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        if was_waiting:
            queue.resolve("bill", bill.id, actor=actor, note=f"posted as Exact entry {result.entry_number}")
        if len(report.preview) < PREVIEW_ROWS:
            report.preview.append({**_preview(bill), "entry": result.entry_number})
        if result.sent_content is not None and content_hash(result.sent_content) != posting.intent.content_hash:
            # Found in Exact as it was sent, while BILL has changed the bill since: flagged, never posted again.
            _flag_changed(bill, result.sent_content, result.entry_number, result.entry_id, queue, report,
                          actor=actor)
    elif result.outcome == "already_posted":
        report.already_posted += 1
    elif result.outcome == "busy":
        report.claimed_elsewhere.append(bill.id)
    elif result.outcome == "rejected":
        queue_refusal(result, posting, bill.raw, queue, report, what="purchase entry", actor=actor)
    else:
        report.uncertain.append(bill.id)


def queue_refusal(result: PostingResult, posting: Posting, snapshot: dict[str, Any], queue: FailureQueue,
                  report: PostReport, *, what: str, actor: str) -> None:
    """A purchase entry (or credit note) Exact refused waits in the queue, under the reason its words give."""
    error = result.error
    reason = refusal_reason(error.lines if error else [])
    advice = f"; {REFUSAL_ADVICE[reason]}" if reason in REFUSAL_ADVICE else ""
    queue.report(posting.kind, posting.source_id, partition=posting.intent.partition, reason=reason,
                 message=f"Exact refused the {what}: {result.detail}{advice}", snapshot=snapshot,
                 tried={"payload": posting.intent.payload, "status": error.status if error else None},
                 exact_message="\n".join(error.lines) if error else None, actor=actor)
    report.queued[reason] += 1


def _check_unchanged(entry: LedgerEntry, bill: Bill, queue: FailureQueue, report: PostReport, *,
                     actor: str, dry_run: bool) -> None:
    """A posted bill is never posted again; if it changed in BILL since, that is flagged with the diff."""
    if entry.content_hash == content_hash(posting_content(bill)):
        report.already_posted += 1
        return
    if not dry_run:
        _flag_changed(bill, entry.content or {}, entry.entry_number, entry.exact_entry_id, queue, report,
                      actor=actor)
    else:
        report.changed_after_posting.append({"bill": bill.id, "entry": entry.entry_number,
                                             "diff": content_diff(entry.content or {}, bill)})


def _flag_changed(bill: Bill, sent: dict[str, Any], entry_number: int | None, entry_id: str | None,
                  queue: FailureQueue, report: PostReport, *, actor: str) -> None:
    diff = content_diff(sent, bill)
    report.changed_after_posting.append({"bill": bill.id, "entry": entry_number, "diff": diff})
    queue.report("bill", bill.id, partition=partition_of(bill), reason="changed_after_posting",
                 message=f"bill changed in BILL after it was posted as Exact entry {entry_number}: "
                         f"{', '.join(diff)} changed; it is not posted again, correct it in Exact by hand",
                 snapshot=bill.raw, tried={"diff": diff, "exact_entry_id": entry_id}, actor=actor)


def _vendor_problem(bill: Bill, mapping: Mapping) -> Problem:
    outcome = mapping.vendor_outcomes.get(bill.vendor_id)
    name = bill.vendor_name or bill.vendor_id
    if outcome and outcome["outcome"] in {"ambiguous", "blocked"}:
        return Problem(f"vendor_{outcome['outcome']}",  # type: ignore[arg-type]
                       f"vendor {name!r} matches no single active Exact supplier ({outcome['outcome']})",
                       {"vendor": name, "candidates": outcome["candidates"]})
    return Problem("vendor_unmatched", f"vendor {name!r} has no Exact supplier yet", {"vendor": name})


def _problems_report(bill: Bill, problems: list[Problem]) -> Report:
    return Report("bill", bill.id, partition_of(bill), problems[0].reason, "; ".join(p.message for p in problems),
                  bill.raw, [{"reason": p.reason, **p.tried} for p in problems])


def created_entry(entry: Any) -> Created:
    return Created(str(entry.entry_id), entry.entry_number)


def find_purchase_entry(exact: ExactApi, sent: dict[str, Any], bill_id: str) -> Created | None:
    """The entry posted for this bill (or vendor credit) as it was sent: its supplier and YourRef, and the BILL ID in
    its description."""
    for entry in exact.find_purchase_entries(supplier=sent["Supplier"], your_ref=sent["YourRef"]):
        if bill_id in (entry.description or ""):
            return created_entry(entry)
    return None


def _preview(bill: Bill) -> dict[str, Any]:
    return {"bill": bill.id, "vendor": bill.vendor_name, "invoice": bill.invoice.invoice_number,
            "amount": str(bill.amount), "status": bill.approval_status}
