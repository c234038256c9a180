"""The failure queue as an asset: what waits, grouped by reason with the fix for each, and the checks on it.

The queue describes the whole connector, not one day, so it is an unpartitioned asset, materialized after
every posting run (declaratively, when a posting asset changes) and by the demo and backfill commands: its
checks always show a current result.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import dagster as dg

from exact_bill_pipeline.defs.payables import (
    GROUP,
    exact_payment_entries,
    exact_purchase_credit_notes,
    exact_purchase_entries,
    exact_suppliers,
)
from exact_bill_pipeline.defs.reporting import preview
from exact_bill_pipeline.defs.resources import StateDatabase
from exact_bill_pipeline.domain.queue import fix_for
from exact_bill_pipeline.services.reference import stored_suppliers
from exact_bill_pipeline.state.failures import FailureItem, FailureQueue

CHANGED = "changed_after_posting"
PREVIEW_ITEMS = 100


@dg.asset(group_name=GROUP, deps=[exact_purchase_entries, exact_purchase_credit_notes, exact_payment_entries,
                                  exact_suppliers],
          automation_condition=dg.AutomationCondition.eager())
def failure_queue(state: StateDatabase) -> dg.MaterializeResult:
    """The bills, payments and vendors waiting for a person: why, and what to do about each reason.

    Work it from here or from `exact-bill failures list`; what is fixed is posted by the next replay.
    """
    queue = FailureQueue(state.store())
    items = queue.items(status="open", limit=PREVIEW_ITEMS)
    counts = queue.counts_by_reason()
    reasons = [{"kind": kind, "reason": reason, "waiting": count, "what to do": fix_for(reason)}
               for (kind, reason), count in sorted(counts.items())]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()), "waiting": sum(counts.values()),
        "by_reason": preview(reasons, limit=50), "items": preview(_rows(state, items), limit=PREVIEW_ITEMS)})


def _rows(state: StateDatabase, items: list[FailureItem]) -> list[dict[str, Any]]:
    names = _supplier_names(state) if any(_candidates(i) for i in items) else {}
    return [{"id": item.id, "kind": item.source_kind, "source": item.source_id, "day": item.partition_date,
             "reason": item.reason_code, "vendor": _vendor(item), "invoice": _invoice(item),
             "amount": _amount(item), "candidates": "; ".join(names.get(c, c) for c in _candidates(item)),
             "message": item.message[:160]} for item in items]


def _queue_check(state: StateDatabase, kind: str, *, changed: bool) -> tuple[list[str], list[dict[str, Any]],
                                                                             list[FailureItem]]:
    """All waiting IDs, and details of the first few only: the queue may hold thousands of snapshots."""
    queue = FailureQueue(state.store())
    selector = {"reason": CHANGED} if changed else {"reason_not": CHANGED}
    ids = queue.source_ids(kind=kind, **selector)
    items = queue.items(kind=kind, limit=PREVIEW_ITEMS, **selector)
    return ids, _rows(state, items), items


@dg.asset_check(asset=failure_queue, description="Bills that could not be posted and wait in the failure queue "
                "(no mapping, no supplier, refused by Exact, created before the partitions start).")
def unmatched_bills(state: StateDatabase) -> dg.AssetCheckResult:
    ids, rows, items = _queue_check(state, "bill", changed=False)
    return dg.AssetCheckResult(passed=not ids, severity=dg.AssetCheckSeverity.WARN, metadata={
        "bills_waiting": len(ids), "by_reason": _fixes(items), "bills": preview(rows, limit=PREVIEW_ITEMS),
        "bill_ids": dg.MetadataValue.json(ids)})


@dg.asset_check(asset=failure_queue, description="Bills and payments changed (or voided) in BILL after they were "
                "posted: never posted again, to be corrected in Exact by hand.")
def bills_changed_after_posting(state: StateDatabase) -> dg.AssetCheckResult:
    bill_ids, rows, items = _queue_check(state, "bill", changed=True)
    payment_ids, payment_rows, payment_items = _queue_check(state, "payment", changed=True)
    diffs = {item.source_id: item.tried.get("diff") for item in items + payment_items if isinstance(item.tried, dict)}
    return dg.AssetCheckResult(passed=not bill_ids and not payment_ids, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"bills_changed": len(bill_ids), "payments_changed": len(payment_ids),
                                         "documents": preview(rows + payment_rows, limit=PREVIEW_ITEMS),
                                         "bill_ids": dg.MetadataValue.json(bill_ids + payment_ids),
                                         "differences": dg.MetadataValue.json(diffs),
                                         "what to do": fix_for(CHANGED)})


@dg.asset_check(asset=failure_queue, description="Payments waiting in the failure queue (their bills are not "
                "posted yet, Exact refused them, or they were created before the partitions start).")
def payments_waiting(state: StateDatabase) -> dg.AssetCheckResult:
    ids, rows, items = _queue_check(state, "payment", changed=False)
    return dg.AssetCheckResult(passed=not ids, severity=dg.AssetCheckSeverity.WARN, metadata={
        "payments_waiting": len(ids), "by_reason": _fixes(items), "payments": preview(rows, limit=PREVIEW_ITEMS),
        "payment_ids": dg.MetadataValue.json(ids)})


QUEUE_CHECKS = [unmatched_bills, bills_changed_after_posting, payments_waiting]

# With the daemon: the queue is materialized again (with its checks) whenever a posting asset changes outside
# the jobs that already include it (a replay, a materialization started from the asset page).
queue_automation = dg.AutomationConditionSensorDefinition(
    "failure_queue_automation", target=dg.AssetSelection.assets(failure_queue),
    default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
    description="Materializes the failure queue, with its checks, after postings it did not see yet.")


def _fixes(items: list[FailureItem]) -> dg.MetadataValue:
    counts = Counter(item.reason_code for item in items)
    return preview([{"reason": reason, "waiting": n, "what to do": fix_for(reason)}
                    for reason, n in sorted(counts.items())], limit=50)


def _supplier_names(state: StateDatabase) -> dict[str, str]:
    """Supplier ID -> a name a person knows it by: its name, code and city in Exact."""
    return {row["id"]: f"{row['name']} (code {(row['code'] or '').strip() or '-'}"
                       f"{', ' + row['city'] if row['city'] else ''})"
            for row in stored_suppliers(state.store())}


def _candidates(item: FailureItem) -> list[str]:
    tried = item.tried
    found = tried.get("candidates") if isinstance(tried, dict) else None
    if found is None and isinstance(tried, list):
        found = [c for problem in tried if isinstance(problem, dict) for c in problem.get("candidates") or []]
    return [str(c) for c in found or []]


def _vendor(item: FailureItem) -> str:
    return str(item.snapshot.get("vendorName") or item.snapshot.get("name") or "")


def _invoice(item: FailureItem) -> str:
    return str((item.snapshot.get("invoice") or {}).get("invoiceNumber") or "")


def _amount(item: FailureItem) -> str:
    amount = item.snapshot.get("amount")
    return f"{float(amount):.2f}" if amount is not None else ""
