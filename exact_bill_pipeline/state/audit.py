"""The append-only audit log: who changed what, when, from what to what."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.state.schema import audit_log


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def record(
    conn: sa.Connection, *, actor: str, entity_kind: str, entity_id: str, action: str,
    before: Any = None, after: Any = None,
) -> None:
    """Appends one entry; called inside the transaction that makes the change, so both land or neither."""
    conn.execute(sa.insert(audit_log).values(
        at=datetime.now(tz=UTC), actor=actor, entity_kind=entity_kind, entity_id=entity_id, action=action,
        before=to_json(before), after=to_json(after),
    ))


def record_many(conn: sa.Connection, entries: list[dict[str, Any]], *, actor: str) -> None:
    """Appends several entries (each with entity_kind, entity_id, action, before, after) in one statement."""
    if not entries:
        return
    now = datetime.now(tz=UTC)
    conn.execute(sa.insert(audit_log), [
        {"at": now, "actor": actor, "entity_kind": e["entity_kind"], "entity_id": e["entity_id"],
         "action": e["action"], "before": to_json(e.get("before")), "after": to_json(e.get("after"))}
        for e in entries
    ])


def history(conn: sa.Connection, entity_kind: str, entity_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(audit_log).where(audit_log.c.entity_kind == entity_kind, audit_log.c.entity_id == entity_id)
        .order_by(audit_log.c.id)
    ).mappings()
    return [
        {**row, "before": json.loads(row["before"]) if row["before"] else None,
         "after": json.loads(row["after"]) if row["after"] else None}
        for row in rows
    ]
