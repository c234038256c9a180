"""What a burst of webhook events asks to run: one run per job and day, however many events arrived."""

from __future__ import annotations

from collections.abc import Iterable
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


# Exact topics whose changes can release waiting bills; the replay follows the reference sync on its own.
REFERENCE_TOPICS = frozenset({"GLAccounts", "Accounts", "CostCenters"})


def runs_for(events: Iterable[Event]) -> list[RunSpec]:
    """The runs the events call for, each once, in a stable order."""
    specs = {spec for event in events if (spec := _run_for(event)) is not None}
    return sorted(specs, key=lambda s: (s.job, s.partition or ""))


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
