"""What a burst of webhook events asks to run: one run per job and day, however many events arrived."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class RunSpec:
    job: str
    partition: str | None


@dataclass(frozen=True)
class Event:
    source: str
    event_type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Unplaced:
    """A BILL record whose day has no partition (created before the partitions start): nothing can run it."""

    kind: str
    source_id: str
    day: str
    record: dict[str, Any]
    why: str  # what asked for it: the event type, or "polling"


# Exact topics whose changes can release waiting bills; the replay follows the reference sync on its own.
REFERENCE_TOPICS = frozenset({"GLAccounts", "Accounts", "CostCenters"})


def runs_for(events: Iterable[Event]) -> list[RunSpec]:
    """The runs the events call for, each once, in a stable order."""
    return plan_runs(events, lambda _day: True)[0]


def plan_runs(events: Iterable[Event], has_day: Callable[[str], bool]) -> tuple[list[RunSpec], list[Unplaced]]:
    """The runs the events call for, and the records whose day ``has_day`` refuses (no run could take them)."""
    specs: set[RunSpec] = set()
    unplaced: list[Unplaced] = []
    for event in events:
        spec = _run_for(event)
        if spec is None:
            continue
        if spec.partition is None or has_day(spec.partition):
            specs.add(spec)
        else:
            unplaced.append(_unplaced(event, spec.partition))
    return sorted(specs, key=lambda s: (s.job, s.partition or "")), unplaced


def _unplaced(event: Event, day: str) -> Unplaced:
    entity = event.event_type.split(".", 1)[0]
    record = event.payload[entity]
    return Unplaced(entity, str(record.get("id", "")), day, record, event.event_type)


def _run_for(event: Event) -> RunSpec | None:
    if event.source == "exact":
        topic = event.event_type.split(".", 1)[0]
        return RunSpec("reference_sync", None) if topic in REFERENCE_TOPICS else None
    entity = event.event_type.split(".", 1)[0]
    if entity == "vendor":
        return RunSpec("vendor_sync", None)
    record = event.payload.get(entity)
    created = record.get("createdTime") if isinstance(record, dict) else None
    if not isinstance(created, str) or len(created) < 10:
        return None  # nothing to place it in a day; the polling sweep catches it
    if entity == "bill":
        return RunSpec("bills_sync", created[:10])
    if entity == "payment":
        return RunSpec("payments_sync", created[:10])
    return None
