"""Asset checks a finance team must see on the connector's own work: each names the bills, not just a count.

What Exact really holds is checked on the exact_reconciliation asset (defs/reconciliation.py).
"""


from datetime import UTC, datetime, timedelta

import dagster as dg

from exact_bill_pipeline.defs.payables import exact_payment_entries, exact_purchase_entries
from exact_bill_pipeline.defs.reference import exact_gl_accounts
from exact_bill_pipeline.defs.reporting import preview
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.state import cursors
from exact_bill_pipeline.state.failures import FailureItem, FailureQueue

CHANGED = "changed_after_posting"


PREVIEW_ITEMS = 100


def _queue_check(state: StateDatabase, kind: str, *, changed: bool) -> tuple[list[str], list[dict[str, object]],
                                                                             list[FailureItem]]:
    """All waiting IDs, and details of the first few only: the queue may hold thousands of snapshots."""
    queue = FailureQueue(state.store())
    selector = {"reason": CHANGED} if changed else {"reason_not": CHANGED}
    ids = queue.source_ids(kind=kind, **selector)
    items = queue.items(kind=kind, limit=PREVIEW_ITEMS, **selector)
    rows = [{"queue_id": i.id, kind: i.source_id, "day": i.partition_date, "reason": i.reason_code,
             "vendor": i.snapshot.get("vendorName") or "", "invoice": (i.snapshot.get("invoice") or {}).get(
                 "invoiceNumber", ""), "amount": i.snapshot.get("amount"), "message": i.message[:160]}
            for i in items]
    return ids, rows, items


@dg.asset_check(asset=exact_purchase_entries, description="Bills that could not be posted and wait in the "
                "failure queue (no mapping, no supplier, refused by Exact).")
def unmatched_bills(state: StateDatabase) -> dg.AssetCheckResult:
    ids, rows, _items = _queue_check(state, "bill", changed=False)
    return dg.AssetCheckResult(passed=not ids, severity=dg.AssetCheckSeverity.WARN, metadata={
        "bills_waiting": len(ids), "bills": preview(rows, limit=PREVIEW_ITEMS),
        "bill_ids": dg.MetadataValue.json(ids)})


@dg.asset_check(asset=exact_purchase_entries, description="Bills changed in BILL after they were posted "
                "(amount, lines, vendor, archived): never posted again, to be corrected in Exact by hand.")
def bills_changed_after_posting(state: StateDatabase) -> dg.AssetCheckResult:
    ids, rows, items = _queue_check(state, "bill", changed=True)
    diffs = {item.source_id: item.tried.get("diff") for item in items if isinstance(item.tried, dict)}
    return dg.AssetCheckResult(passed=not ids, severity=dg.AssetCheckSeverity.ERROR, metadata={
        "bills_changed": len(ids), "bills": preview(rows, limit=PREVIEW_ITEMS),
        "bill_ids": dg.MetadataValue.json(ids), "differences": dg.MetadataValue.json(diffs)})


@dg.asset_check(asset=exact_payment_entries, description="Payments waiting in the failure queue (their bills are "
                "not posted yet, or Exact refused them).")
def payments_waiting(state: StateDatabase) -> dg.AssetCheckResult:
    ids, rows, _items = _queue_check(state, "payment", changed=False)
    return dg.AssetCheckResult(passed=not ids, severity=dg.AssetCheckSeverity.WARN, metadata={
        "payments_waiting": len(ids), "payments": preview(rows, limit=PREVIEW_ITEMS),
        "payment_ids": dg.MetadataValue.json(ids)})


@dg.asset_check(asset=exact_gl_accounts, description="GL accounts and cost centers were read from Exact recently "
                "enough (setting freshness_hours).")
def reference_data_fresh(state: StateDatabase, accounting: AccountingSettings) -> dg.AssetCheckResult:
    limit = datetime.now(tz=UTC) - timedelta(hours=accounting.freshness_hours)
    with state.store().transaction() as conn:
        read_at = {name: cursors.updated_at(conn, f"exact:{name}") for name in ("gl_accounts:timestamp",
                                                                                "cost_centers")}
    stale = {name: str(at) for name, at in read_at.items() if at is None or _aware(at) < limit}
    return dg.AssetCheckResult(passed=not stale, metadata={
        "last_read": dg.MetadataValue.json({k: str(v) for k, v in read_at.items()}),
        "stale": dg.MetadataValue.json(stale), "freshness_hours": accounting.freshness_hours})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


ALL_CHECKS = [unmatched_bills, bills_changed_after_posting, payments_waiting, reference_data_fresh]
