"""Asset checks a finance team must see: each names the bills, not just a count."""


from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg

from exact_bill_pipeline.defs.payables import exact_purchase_entries
from exact_bill_pipeline.defs.queue import QUEUE_CHECKS
from exact_bill_pipeline.defs.reference import exact_gl_accounts
from exact_bill_pipeline.defs.reporting import preview
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.state import cursors
from exact_bill_pipeline.state.ledger import PostingLedger


@dg.asset_check(asset=exact_purchase_entries, description="Per day, the amounts posted to Exact equal BILL's "
                "amounts for the same bills.")
def posted_totals_match_bill(state: StateDatabase) -> dg.AssetCheckResult:
    days, differing = PostingLedger(state.store()).reconciliation("bill")
    failing_days = sorted({row["day"] for row in differing})
    return dg.AssetCheckResult(passed=not differing, metadata={
        "days_checked": len(days), "days_differing": len(failing_days),
        "posted_total": float(sum((row["posted"] or Decimal(0) for row in days), Decimal(0))),
        "differences": preview([{"day": r["day"], "bill_id": r["source_id"], "posted": str(r["posted"]),
                                 "in_bill": str(r["in_source"]) if r["in_source"] is not None else "missing"}
                                for r in differing], limit=100)})


@dg.asset_check(asset=exact_purchase_entries, description="No Exact EntryID is recorded for two postings "
                "(the ledger's key already makes each bill appear once).")
def no_duplicate_postings(state: StateDatabase) -> dg.AssetCheckResult:
    ledger = PostingLedger(state.store())
    duplicates = ledger.duplicate_entry_ids()
    return dg.AssetCheckResult(passed=not duplicates, metadata={
        "postings": ledger.count(state="posted"), "duplicate_entry_ids": dg.MetadataValue.json(duplicates)})


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


ALL_CHECKS = [posted_totals_match_bill, no_duplicate_postings, reference_data_fresh, *QUEUE_CHECKS]
