"""The webhook inbox: each verified event stored once (per source and event ID), read back in order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.schema import webhook_inbox


@dataclass(frozen=True)
class InboxEvent:
    id: int
    source: str
    event_id: str
    event_type: str
    entity_key: str | None
    payload: dict[str, Any]
    received_at: datetime


class Inbox:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def add(self, source: str, event_id: str, event_type: str, entity_key: str | None,
            payload: dict[str, Any]) -> bool:
        """Stores the event durably; False when it was already there (a repeated delivery)."""
        row = {"source": source, "event_id": event_id, "event_type": event_type, "entity_key": entity_key,
               "payload": json.dumps(payload, separators=(",", ":")), "received_at": datetime.now(tz=UTC)}
        try:
            with self.store.transaction() as conn:
                conn.execute(sa.insert(webhook_inbox).values(**row))
        except sa.exc.IntegrityError:
            return False
        return True

    def after(self, cursor: int, limit: int = 1000) -> list[InboxEvent]:
        """Events with an id above ``cursor``, oldest first."""
        query = (sa.select(webhook_inbox).where(webhook_inbox.c.id > cursor).order_by(webhook_inbox.c.id)
                 .limit(limit))
        with self.store.transaction() as conn:
            return [InboxEvent(**{**row, "payload": json.loads(row["payload"])})
                    for row in conn.execute(query).mappings()]

    def count(self) -> int:
        with self.store.transaction() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(webhook_inbox)).scalar_one()
