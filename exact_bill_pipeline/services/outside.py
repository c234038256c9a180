"""BILL records created on a day the daily partitions do not cover: queued with a reason, never run."""

from __future__ import annotations

from exact_bill_pipeline.domain.events import Unplaced
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue, Report

OUTSIDE_PARTITIONS = "outside_partitions"


def queue_unplaced(store: StateStore, unplaced: list[Unplaced], *, first_day: str, actor: str) -> None:
    """Puts each record in the failure queue (once per record; a repeat counts an attempt) with what to do."""
    FailureQueue(store).report_many([_report(item, first_day) for item in unplaced], actor=actor)


def _report(item: Unplaced, first_day: str) -> Report:
    message = (f"{item.kind} {item.source_id} was created on {item.day}, a day the daily partitions do not cover "
               f"(they begin on {first_day}, EXACT_BILL_PARTITIONS_START), so its change ({item.why}) was not run. "
               f"If it belongs in Exact, move the start to {item.day} or earlier and backfill that day; "
               f"otherwise ignore this item.")
    return Report(item.kind, item.source_id, item.day, OUTSIDE_PARTITIONS, message, item.record,
                  tried={"event": item.why})
