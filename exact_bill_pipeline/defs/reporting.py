"""What every materialization reports: counts, API calls spent and left, and a short preview table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi

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
