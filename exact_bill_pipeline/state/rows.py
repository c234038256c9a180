"""Row helpers shared by every table: update-or-insert by key, rows by source, portable across SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from exact_bill_pipeline.iterables import batched

IN_LIST_SIZE = 500  # values in one IN (...) list


def upsert(conn: sa.Connection, table: sa.Table, keys: dict[str, Any], values: dict[str, Any]) -> bool:
    """Updates the row with ``keys`` to ``values``, or inserts it; returns True when it inserted.

    Callers that race on the same key hold a lock (``StateStore.exclusive``) or accept the loser's
    IntegrityError, as a plain UPDATE-then-INSERT cannot be atomic on every backend.
    """
    condition = sa.and_(*(table.c[name] == value for name, value in keys.items()))
    if conn.execute(sa.update(table).where(condition).values(**values)).rowcount:
        return False
    conn.execute(sa.insert(table).values(**keys, **values))
    return True


def of_sources(conn: sa.Connection, table: sa.Table, kind: str, source_ids: Sequence[str], *,
               columns: Sequence[sa.ColumnElement[Any]] = (), lock: bool = False) -> Iterator[sa.RowMapping]:
    """The rows (or ``columns``) of these sources of one kind, read IN_LIST_SIZE IDs at a time; FOR UPDATE with lock."""
    for chunk in batched(source_ids, IN_LIST_SIZE):
        query = sa.select(*columns) if columns else sa.select(table)
        query = query.where(table.c.source_kind == kind, table.c.source_id.in_(chunk))
        yield from conn.execute(query.with_for_update() if lock else query).mappings()


def of_keys(conn: sa.Connection, table: sa.Table, keys: Sequence[tuple[str, str]], *,
            columns: Sequence[sa.ColumnElement[Any]] = (), lock: bool = False) -> Iterator[sa.RowMapping]:
    """of_sources for (kind, source ID) keys of any kinds; ``columns`` must then include source_kind and source_id."""
    by_kind: dict[str, list[str]] = {}
    for kind, source_id in keys:
        by_kind.setdefault(kind, []).append(source_id)
    for kind, source_ids in by_kind.items():
        yield from of_sources(conn, table, kind, source_ids, columns=columns, lock=lock)


def update_by_source(table: sa.Table, columns: Sequence[str] = (), **computed: Any) -> sa.Update:
    """An UPDATE to run once per source (executemany): parameters b_kind and b_id name the row.

    Each of ``columns`` is set from the parameter of the same name; ``computed`` adds SQL expressions.
    """
    key = (table.c.source_kind == sa.bindparam("b_kind")) & (table.c.source_id == sa.bindparam("b_id"))
    return sa.update(table).where(key).values(**{name: sa.bindparam(name) for name in columns}, **computed)


def insert_new(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *,
               keys: Sequence[str]) -> set[tuple[Any, ...]]:
    """Inserts the rows whose key is not taken yet and returns the keys it inserted.

    A row another transaction inserted first is skipped rather than failing the batch (INSERT ... ON CONFLICT
    DO NOTHING on SQLite and PostgreSQL alike), so two callers racing for one key learn who won.
    """
    if not rows:
        return set()
    statement = _dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))
    result = conn.execute(statement.returning(*(table.c[k] for k in keys)), rows)
    return {tuple(row) for row in result}


def upsert_many(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *, keys: Sequence[str]) -> None:
    """Inserts each row or, when its key exists, updates it: one atomic statement per batch, so concurrent
    writers of the same keys never collide (INSERT ... ON CONFLICT DO UPDATE)."""
    if not rows:
        return
    statement = _dialect_insert(conn, table)
    changes = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes), rows)


def _dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
