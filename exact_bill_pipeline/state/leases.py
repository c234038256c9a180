"""Leases: one holder at a time for a named job across processes, lapsing by the database's clock if it dies."""

from __future__ import annotations

import os
import socket
import uuid

import sqlalchemy as sa

from exact_bill_pipeline.state.db import StateStore, database_clock
from exact_bill_pipeline.state.schema import leases


def new_holder() -> str:
    """A holder name unique to one caller, that says where it runs (for messages about a lease held too long)."""
    return f"{socket.gethostname()} pid {os.getpid()} ({uuid.uuid4().hex[:8]})"


class Leases:
    """Each lease is taken, renewed and released in a short transaction of its own, never held across a call."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._now = database_clock(store.dialect)

    def take(self, name: str, holder: str, seconds: float) -> bool:
        """Takes the lease, or renews it for its holder; False while another holder's has not lapsed."""
        until = self._now + seconds
        try:
            with self.store.exclusive() as conn:
                if conn.execute(sa.update(leases).where(
                        leases.c.name == name, sa.or_(leases.c.holder == holder, leases.c.expires_at <= self._now))
                        .values(holder=holder, expires_at=until)).rowcount:
                    return True
                if conn.execute(sa.select(leases.c.name).where(leases.c.name == name)).first() is not None:
                    return False
                conn.execute(sa.insert(leases).values(name=name, holder=holder, expires_at=until))
                return True
        except sa.exc.IntegrityError:
            return False  # another process inserted it first

    def release(self, name: str, holder: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(sa.delete(leases).where(leases.c.name == name, leases.c.holder == holder))

    def holder(self, name: str) -> str | None:
        """Who holds the lease now, if anyone."""
        query = sa.select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at > self._now)
        with self.store.transaction() as conn:
            return conn.execute(query).scalar_one_or_none()
