"""Daily partitions by the date a bill (or payment) was created in BILL: stable, unlike its updated date."""

from __future__ import annotations

import os

import dagster as dg

# Partitions must start before the oldest bill to sync; the default covers the sandbox's seeded history.
START_DATE_ENV = "EXACT_BILL_PARTITIONS_START"
DEFAULT_START_DATE = "2025-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(START_DATE_ENV) or DEFAULT_START_DATE, timezone="UTC", end_offset=1
)


def partition_days(context: dg.AssetExecutionContext) -> list[str]:
    """The days this run covers: one partition, or a whole range when a backfill runs as one run."""
    return list(context.partition_keys)
