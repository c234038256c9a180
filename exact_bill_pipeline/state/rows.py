"""Row helpers shared by every table: update-or-insert by key, portable across SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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
