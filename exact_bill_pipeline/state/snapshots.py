"""The last snapshot of each BILL bill and payment read, to spot what changed since."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.state.rows import IN_LIST_SIZE, of_sources, upsert_many
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
    save_many(conn, kind, [{"source_id": source_id, "partition": partition, "amount": amount, "status": status,
                            "archived": archived, "updated_time": updated_time, "content_hash": content_hash,
                            "data": data}])


def get(conn: sa.Connection, kind: str, source_id: str) -> Snapshot | None:
    row = conn.execute(sa.select(bill_snapshots).where(bill_snapshots.c.source_kind == kind,
                                                       bill_snapshots.c.source_id == source_id)).mappings().first()
    return _snapshot(row) if row else None


def in_partition(conn: sa.Connection, kind: str, partition: str) -> list[Snapshot]:
    return in_partitions(conn, kind, [partition])


def in_partitions(conn: sa.Connection, kind: str, partitions: list[str]) -> list[Snapshot]:
    """The snapshots of some days, day by day and in ID order within a day."""
    out: list[Snapshot] = []
    for chunk in batched(partitions, IN_LIST_SIZE):
        rows = conn.execute(sa.select(bill_snapshots).where(bill_snapshots.c.source_kind == kind,
                                                            bill_snapshots.c.partition_date.in_(chunk))
                            .order_by(bill_snapshots.c.partition_date, bill_snapshots.c.source_id)).mappings()
        out.extend(_snapshot(row) for row in rows)
    return out


def of_kind(conn: sa.Connection, kind: str) -> list[Snapshot]:
    """Every snapshot of one kind, day by day."""
    query = (sa.select(bill_snapshots).where(bill_snapshots.c.source_kind == kind)
             .order_by(bill_snapshots.c.partition_date, bill_snapshots.c.source_id))
    return [_snapshot(row) for row in conn.execute(query).mappings()]


def counts_by_partition(conn: sa.Connection, kind: str, partitions: list[str]) -> dict[str, int]:
    """How many snapshots each of these days holds (days without any are left out)."""
    out: dict[str, int] = {}
    for chunk in batched(partitions, IN_LIST_SIZE):
        query = (sa.select(bill_snapshots.c.partition_date, sa.func.count())
                 .where(bill_snapshots.c.source_kind == kind, bill_snapshots.c.partition_date.in_(chunk))
                 .group_by(bill_snapshots.c.partition_date))
        out.update({day: count for day, count in conn.execute(query)})
    return out


def content_hashes(conn: sa.Connection, kind: str, source_ids: list[str]) -> dict[str, str]:
    """The stored content hash of each of these sources that has a snapshot."""
    columns = (bill_snapshots.c.source_id, bill_snapshots.c.content_hash)
    return {row["source_id"]: row["content_hash"]
            for row in of_sources(conn, bill_snapshots, kind, source_ids, columns=columns)}


def save_many(conn: sa.Connection, kind: str, rows: list[dict[str, Any]]) -> None:
    """Stores snapshots (each a dict of save()'s keyword arguments plus source_id), in one statement per batch.

    An upsert: runs that read the same day at the same time (a webhook run, the schedule, the polling sweep)
    both succeed, the later read winning.
    """
    now = datetime.now(tz=UTC)
    values = [{"source_kind": kind, "source_id": r["source_id"], "partition_date": r["partition"],
               "amount": r["amount"], "status": r["status"], "archived": r["archived"],
               "updated_time": r["updated_time"], "content_hash": r["content_hash"],
               "snapshot": json.dumps(r["data"], default=str), "seen_at": now} for r in rows]
    for chunk in batched(values, IN_LIST_SIZE):
        upsert_many(conn, bill_snapshots, chunk, keys=("source_kind", "source_id"))


def _snapshot(row: Any) -> Snapshot:
    data = dict(row)
    return Snapshot(**{k: v for k, v in data.items() if k not in {"snapshot", "seen_at"}},
                    data=json.loads(data["snapshot"]))
