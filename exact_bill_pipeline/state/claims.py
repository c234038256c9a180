"""Posting claimants: who may post right now, on a lease it renews while it works, by the database's clock."""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.db import StateStore, database_now
from exact_bill_pipeline.state.schema import posting_claimants

# How long a claim lives without renewal. A caller renews before it runs low, and never sends a POST with
# less than ``SEND_MARGIN`` left: a POST sent under a lease is over (answered or timed out) before the lease
# ends, so a claim that expired can be taken over once Exact has had time to finish what was sent.
LEASE = timedelta(minutes=5)
SEND_MARGIN = timedelta(seconds=90)


class ClaimLost(RuntimeError):
    """This caller's lease ran out and another caller may own its documents now; it must stop posting."""


@dataclass(frozen=True)
class ClaimantRecord:
    id: str
    run_id: str
    host: str
    pid: int
    started_at: datetime
    expires_at: datetime
    released_at: datetime | None

    def live_at(self, moment: datetime) -> bool:
        """Still holding its claims: not released, its lease running, and its process not seen gone."""
        return self.released_at is None and aware(self.expires_at) > moment and not self.process_gone()

    @property
    def ended_at(self) -> datetime:
        """The last moment this claimant could have sent anything."""
        return aware(self.released_at or self.expires_at)

    def process_gone(self) -> bool:
        """True when this machine can see that the claimant's process no longer exists."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Claimant:
    """One caller that posts (a Dagster run, a CLI replay): registered, renewed, released."""

    def __init__(self, store: StateStore, run_id: str, *, lease: timedelta = LEASE,
                 send_margin: timedelta = SEND_MARGIN) -> None:
        self.store = store
        self.run_id = run_id
        self.id = uuid.uuid4().hex
        self.lease = lease
        self.send_margin = send_margin
        self._valid_until_monotonic = 0.0
        with store.exclusive() as conn:
            now = database_now(conn)
            conn.execute(sa.insert(posting_claimants).values(
                id=self.id, run_id=run_id, host=socket.gethostname(), pid=os.getpid(), started_at=now,
                expires_at=now + lease, released_at=None))
        self._renewed(now)

    def now(self) -> datetime:
        """The database's clock as of now, without asking it: its reading at the last renewal, moved on."""
        return self._database_then + timedelta(seconds=time.monotonic() - self._monotonic_then)

    def ensure_live(self) -> None:
        """Renews the lease when less than the send margin is left; ClaimLost when it already ran out."""
        if self._valid_until_monotonic - time.monotonic() > self.send_margin.total_seconds():
            return
        with self.store.exclusive() as conn:
            now = database_now(conn)
            renewed = conn.execute(sa.update(posting_claimants).where(
                posting_claimants.c.id == self.id, posting_claimants.c.released_at.is_(None),
                posting_claimants.c.expires_at > now).values(expires_at=now + self.lease)).rowcount
        if not renewed:
            raise ClaimLost(f"the posting lease of {self.run_id} ran out before it could be renewed; another "
                            f"caller may own its documents now, so it stops posting (nothing is lost: what it "
                            f"sent is looked up before it is posted again)")
        self._renewed(now)

    def release(self) -> None:
        """Gives every claim of this caller up at once; its documents are free for the next caller."""
        with self.store.exclusive() as conn:
            conn.execute(sa.update(posting_claimants).where(posting_claimants.c.id == self.id)
                         .values(released_at=database_now(conn)))
        self._valid_until_monotonic = 0.0

    def _renewed(self, database_now_: datetime) -> None:
        self._database_then, self._monotonic_then = aware(database_now_), time.monotonic()
        # A little less than the lease: the database clock moved on while the statement ran.
        self._valid_until_monotonic = self._monotonic_then + self.lease.total_seconds() - 1.0

    def __enter__(self) -> Claimant:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


@contextlib.contextmanager
def claimed(store: StateStore, run_id: str, claimant: Claimant | None, *, needed: bool = True
            ) -> Iterator[Claimant | None]:
    """The caller's claimant, or one registered for the block and released after it (none when not ``needed``)."""
    if claimant is not None or not needed:
        yield claimant
        return
    with Claimant(store, run_id) as own:
        yield own


def claimants(conn: sa.Connection, ids: list[str]) -> dict[str, ClaimantRecord]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(posting_claimants).where(posting_claimants.c.id.in_(set(ids)))).mappings()
    return {row["id"]: ClaimantRecord(**row) for row in rows}


def unreleased(store: StateStore) -> list[ClaimantRecord]:
    """Claimants that never released: running now, or dead without saying so."""
    with store.transaction() as conn:
        rows = conn.execute(sa.select(posting_claimants).where(posting_claimants.c.released_at.is_(None))
                            .order_by(posting_claimants.c.started_at)).mappings()
        return [ClaimantRecord(**row) for row in rows]


def release_dead(store: StateStore, claimant: ClaimantRecord, *, actor: str, why: str) -> None:
    """Marks a claimant whose process is gone as released, so its claims end now rather than at lease expiry."""
    with store.exclusive() as conn:
        now = database_now(conn)
        conn.execute(sa.update(posting_claimants).where(posting_claimants.c.id == claimant.id,
                                                        posting_claimants.c.released_at.is_(None))
                     .values(released_at=min(now, aware(claimant.expires_at))))
        audit.record(conn, actor=actor, entity_kind="claimant", entity_id=claimant.id, action="released_dead",
                     before={"run_id": claimant.run_id, "host": claimant.host, "pid": claimant.pid},
                     after={"why": why})
