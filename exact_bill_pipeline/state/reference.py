"""Exact reference data as last read: GL accounts, cost centers and suppliers, replaced or upserted per sync."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.state.rows import upsert


def upsert_rows(conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """Writes each row by its ``id``; returns how many were new."""
    now = datetime.now(tz=UTC)
    created = 0
    for row in rows:
        created += upsert(conn, table, {"id": row["id"]}, {**{k: v for k, v in row.items() if k != "id"},
                                                            "synced_at": now})
    return created


def delete_ids(conn: sa.Connection, table: sa.Table, ids: Iterable[str]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return conn.execute(sa.delete(table).where(table.c.id.in_(ids))).rowcount


def all_rows(conn: sa.Connection, table: sa.Table) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]
