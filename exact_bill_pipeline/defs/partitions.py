"""Daily partitions by the date a bill (or payment) was created in BILL: stable, unlike its updated date."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import dagster as dg

from exact_bill_pipeline.config import PARTITIONS_START_ENV


def default_start(today: date) -> str:
    """January 1 of last year: a new connection keeps the year it may still close and the current one, with
    no API call when the code location loads. Records older than the start wait in the failure queue
    (outside_partitions); EXACT_BILL_PARTITIONS_START moves it (the demo sets its own history)."""
    return date(today.year - 1, 1, 1).isoformat()


daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITIONS_START_ENV) or default_start(datetime.now(tz=UTC).date()), timezone="UTC",
    end_offset=1,
)


def partition_days(context: dg.AssetExecutionContext) -> list[str]:
    """The days this run covers: one partition, or a whole range when a backfill runs as one run."""
    return list(context.partition_keys)
