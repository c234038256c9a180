"""Cursors of incremental reads: where each sync left off."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from exact_bill_pipeline.state.rows import upsert
from exact_bill_pipeline.state.schema import sync_cursors


def get(conn: sa.Connection, name: str) -> str | None:
    return conn.execute(sa.select(sync_cursors.c.value).where(sync_cursors.c.name == name)).scalar()


def put(conn: sa.Connection, name: str, value: str) -> None:
    upsert(conn, sync_cursors, {"name": name}, {"value": value, "updated_at": datetime.now(tz=UTC)})


def updated_at(conn: sa.Connection, name: str) -> datetime | None:
    return conn.execute(sa.select(sync_cursors.c.updated_at).where(sync_cursors.c.name == name)).scalar()
