"""What Exact holds, as last read: the mirrored TransactionLines, Exact's deletions, and where the reads left off."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.domain.reconciliation import Deletion, Line
from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.state import cursors
from exact_bill_pipeline.state.claims import aware
from exact_bill_pipeline.state.rows import IN_LIST_SIZE, insert_new, upsert_many
from exact_bill_pipeline.state.schema import exact_deletions, exact_transaction_lines

CURSOR = "exact:transaction_lines"


@dataclass
class LineCursor:
    """Where the reads of Exact's lines and deletion log left off."""

    timestamp: int = 0  # the highest line row version stored; 0 before the first read
    deleted: int = 0  # the highest sync/Deleted row version read
    deleted_read_at: str | None = None  # when the deletion log was last read to its end (ISO, UTC)
    reads: int = 0  # reads begun so far; each stored line carries the read that last saw it
    full_read_from: int | None = None  # the read a full re-read began in, until it is complete

    def deleted_read(self) -> datetime | None:
        return datetime.fromisoformat(self.deleted_read_at) if self.deleted_read_at else None


def load_cursor(conn: sa.Connection) -> LineCursor:
    value = cursors.get(conn, CURSOR)
    return LineCursor(**json.loads(value)) if value else LineCursor()


def save_cursor(conn: sa.Connection, cursor: LineCursor) -> None:
    cursors.put(conn, CURSOR, json.dumps(asdict(cursor)))


def store_lines(conn: sa.Connection, rows: list[dict[str, Any]], read: int) -> None:
    """Inserts or replaces lines by ID (a changed line comes back with a new row version)."""
    for chunk in batched([{**row, "seen_in_read": read} for row in rows], IN_LIST_SIZE):
        upsert_many(conn, exact_transaction_lines, chunk, keys=("id",))


def known_keys(conn: sa.Connection, keys: list[str]) -> set[str]:
    """Those of ``keys`` that are a stored line's ID or entry ID."""
    found: set[str] = set()
    table = exact_transaction_lines
    for chunk in batched(keys, IN_LIST_SIZE):
        found.update(conn.execute(sa.select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        found.update(conn.execute(sa.select(table.c.entry_id).where(table.c.entry_id.in_(chunk))).scalars())
    return found


def unseen_since(conn: sa.Connection, read: int) -> list[str]:
    """Lines no read since ``read`` saw, and not known as deleted: a full re-read did not find them."""
    table = exact_transaction_lines
    deleted = sa.select(exact_deletions.c.entity_key)
    query = sa.select(table.c.id).where(table.c.seen_in_read < read, table.c.id.not_in(deleted),
                                        table.c.entry_id.not_in(deleted))
    return list(conn.execute(query).scalars())


def record_deletions(conn: sa.Connection, deletions: list[Deletion], *, found_by: str) -> int:
    """Stores deletions not recorded yet; returns how many were new."""
    now = datetime.now(tz=UTC)
    rows = [{"entity_key": d.key, "deleted_at": d.at, "deleted_by": d.by, "found_by": found_by, "recorded_at": now}
            for d in deletions]
    return sum(len(insert_new(conn, exact_deletions, chunk, keys=("entity_key",)))
               for chunk in batched(rows, IN_LIST_SIZE))


def lines(conn: sa.Connection) -> list[Line]:
    """Every mirrored line, deleted ones included (their deletions say so)."""
    table = exact_transaction_lines
    return [Line(id=r["id"], entry_id=r["entry_id"], entry_number=r["entry_number"], line_number=r["line_number"],
                 journal=r["journal_code"], type=r["entry_type"], day=r["line_date"], gl_code=r["gl_account_code"],
                 cost_center=r["cost_center"], account=r["account_id"], amount=r["amount"], currency=r["currency"],
                 your_ref=r["your_ref"], invoice_number=r["invoice_number"], description=r["description"],
                 created=aware(r["created_at"]) if r["created_at"] else None)
            for r in conn.execute(sa.select(table).order_by(table.c.entry_id, table.c.line_number)).mappings()]


def deletions(conn: sa.Connection) -> dict[str, Deletion]:
    return {r["entity_key"]: Deletion(r["entity_key"], aware(r["deleted_at"]) if r["deleted_at"] else None,
                                      r["deleted_by"])
            for r in conn.execute(sa.select(exact_deletions)).mappings()}
