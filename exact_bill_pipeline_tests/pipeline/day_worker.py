"""A separate process that posts one day of bills, so that a test can kill it mid-run."""

from __future__ import annotations

from typing import Any

import dagster as dg

from exact_bill_pipeline.definitions import ASSETS
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import QUIET


def post_day(exact_config: dict[str, Any], bill_config: dict[str, Any], state_url: str, day: str) -> None:
    from exact_bill_pipeline.clients.bill.resource import BillClient
    from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient

    resources = {"exact": ExactOnlineClient(**exact_config), "bill": BillClient(**bill_config),
                 "state": StateDatabase(url=state_url), "accounting": AccountingSettings()}
    selection = [a for a in ASSETS if a.key.to_user_string() == "exact_purchase_entries"]
    dg.materialize(ASSETS, selection=selection, resources=resources, partition_key=day, run_config=QUIET,
                   instance=dg.DagsterInstance.ephemeral())


def read_days(exact_config: dict[str, Any], bill_config: dict[str, Any], state_url: str, first: str, last: str,
              start: Any) -> None:
    """Reads the bills and payments of a range of days, as a webhook run or the schedule does, once ``start``."""
    from exact_bill_pipeline.clients.bill.resource import BillClient
    from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient

    resources = {"exact": ExactOnlineClient(**exact_config), "bill": BillClient(**bill_config),
                 "state": StateDatabase(url=state_url), "accounting": AccountingSettings()}
    selection = [a for a in ASSETS if a.key.to_user_string() in {"bill_bills", "bill_payments"}]
    start.wait()
    dg.materialize(ASSETS, selection=selection, resources=resources, run_config=QUIET,
                   instance=dg.DagsterInstance.ephemeral(),
                   tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last})
