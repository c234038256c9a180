"""The last snapshot of each BILL bill and payment read, to spot what changed since."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.state.rows import upsert
from exact_bill_pipeline.state.schema import bill_snapshots


@dataclass(frozen=True)
class Snapshot:
    source_kind: str
    source_id: str
    partition_date: str
    amount: Decimal
    status: str | None
    archived: bool
    updated_time: str | None
    content_hash: str
    data: dict[str, Any]


def save(conn: sa.Connection, kind: str, source_id: str, *, partition: str, amount: Decimal, status: str | None,
         archived: bool, updated_time: str | None, content_hash: str, data: dict[str, Any]) -> None:
    upsert(conn, bill_snapshots, {"source_kind": kind, "source_id": source_id}, {
        "partition_date": partition, "amount": amount, "status": status, "archived": archived,
        "updated_time": updated_time, "content_hash": content_hash, "snapshot": json.dumps(data, default=str),
        "seen_at": datetime.now(tz=UTC)})


def get(conn: sa.Connection, kind: str, source_id: str) -> Snapshot | None:
    row = conn.execute(sa.select(bill_snapshots).where(bill_snapshots.c.source_kind == kind,
                                                       bill_snapshots.c.source_id == source_id)).mappings().first()
    return _snapshot(row) if row else None


def in_partition(conn: sa.Connection, kind: str, partition: str) -> list[Snapshot]:
    rows = conn.execute(sa.select(bill_snapshots).where(bill_snapshots.c.source_kind == kind,
                                                        bill_snapshots.c.partition_date == partition)
                        .order_by(bill_snapshots.c.source_id)).mappings()
    return [_snapshot(row) for row in rows]


def _snapshot(row: Any) -> Snapshot:
    data = dict(row)
    return Snapshot(**{k: v for k, v in data.items() if k not in {"snapshot", "seen_at"}},
                    data=json.loads(data["snapshot"]))
