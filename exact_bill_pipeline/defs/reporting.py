"""What every materialization reports: counts, API calls spent and left, and a short preview table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.state.days import DaySummary, day_summaries
from exact_bill_pipeline.state.db import StateStore

PREVIEW_LIMIT = 10


def preview(rows: Iterable[Mapping[str, Any]], limit: int = PREVIEW_LIMIT) -> dg.MetadataValue:
    """A small markdown table of the first rows (or 'none')."""
    frame = pd.DataFrame(list(rows)[:limit])
    # Numbers are shown as they are: tabulate would round amounts such as 12345.67 to 12345.7.
    return dg.MetadataValue.md(frame.to_markdown(index=False, disable_numparse=True) if not frame.empty else "_none_")


def api_calls(exact: ExactApi | None = None, bill: BillApi | None = None,
              since: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Calls made by this materialization, and what is left of the Exact division's budget."""
    since = since or {}
    metadata: dict[str, Any] = {}
    if exact is not None:
        metadata["exact_calls"] = exact.calls - since.get("exact", 0)
        if exact.budget is not None and exact.budget.limits.enabled:
            metadata.update(exact.budget.figures().as_metadata())
    if bill is not None:
        metadata["bill_calls"] = bill.calls - since.get("bill", 0)
    return metadata


def call_marks(exact: ExactApi | None = None, bill: BillApi | None = None) -> dict[str, int]:
    """The call counters now, to measure what one materialization spends."""
    return {"exact": exact.calls if exact else 0, "bill": bill.calls if bill else 0}


def per_day(context: dg.AssetExecutionContext, store: StateStore, kind: str, run_metadata: Mapping[str, Any], *,
            posting: bool) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    """The materialization of each day this run covered, with what that day holds, and the run's own figures.

    Dagster copies a step's one result onto every partition of a single-run range, so a range's figures would
    show on each day as if they were that day's. A range run therefore records its figures on the step (the
    run), then one materialization per day, later, with that day's own counts and preview: the latest a day
    shows is its own. A one-day run records one materialization with both.
    """
    days = list(context.partition_keys)
    if len(days) == 1:
        (only,) = day_materializations(context.asset_key, store, kind, days, run_id=context.run.run_id,
                                       posting=posting)
        yield dg.MaterializeResult(metadata={**run_metadata, **only.metadata})
        return
    yield dg.MaterializeResult(metadata={"run_range": f"{days[0]} to {days[-1]} ({len(days)} days)",
                                         **{f"run_{name}": value for name, value in run_metadata.items()}})
    yield from day_materializations(context.asset_key, store, kind, days, run_id=context.run.run_id,
                                    posting=posting)


def day_materializations(asset_key: dg.AssetKey, store: StateStore, kind: str, days: list[str], *, run_id: str,
                         posting: bool) -> list[dg.AssetMaterialization]:
    """One materialization per day, each with what that day holds now."""
    with store.transaction() as conn:
        summaries = day_summaries(conn, kind, days, run_id=run_id)
    return [dg.AssetMaterialization(asset_key=asset_key, partition=day,
                                    metadata=_day_metadata(summaries[day], kind, posting)) for day in days]


def _day_metadata(summary: DaySummary, kind: str, posting: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"dagster/row_count": summary.in_bill, f"{kind}s_in_bill": summary.in_bill,
                                "amount_in_bill": dg.MetadataValue.text(f"{summary.amount_in_bill:.2f}")}
    if posting:
        metadata |= {"posted_in_exact": summary.posted,
                     "amount_posted": dg.MetadataValue.text(f"{summary.amount_posted:.2f}"),
                     "posted_by_this_run": summary.posted_by_this_run, "in_doubt": summary.in_doubt,
                     "waiting_in_queue": sum(summary.waiting.values()),
                     "waiting_by_reason": dg.MetadataValue.json(dict(summary.waiting))}
    return metadata | {"preview": preview(summary.preview)}
