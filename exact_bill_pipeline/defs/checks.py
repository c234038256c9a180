"""Asset checks on the reference data, and the list of every check on the connector's own work.

What waits in the failure queue is checked on failure_queue (defs/queue.py); what Exact really holds on
exact_reconciliation (defs/reconciliation.py).
"""


from datetime import UTC, datetime, timedelta

import dagster as dg

from exact_bill_pipeline.defs.queue import QUEUE_CHECKS
from exact_bill_pipeline.defs.reference import exact_gl_accounts
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.state import cursors


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


ALL_CHECKS = [reference_data_fresh, *QUEUE_CHECKS]
