"""The posting ledger: the intent is recorded before a POST to Exact, and Exact's EntryID after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa

from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.rows import of_keys, of_sources, update_by_source
from exact_bill_pipeline.state.schema import bill_snapshots, posting_ledger

LedgerState = Literal["posting", "posted", "uncertain", "rejected"]
SourceKind = Literal["bill", "payment", "vendor"]


@dataclass(frozen=True)
class LedgerEntry:
    source_kind: str
    source_id: str
    partition_date: str
    content_hash: str
    state: str
    exact_entry_id: str | None
    entry_number: int | None
    journal: str
    supplier_id: str | None
    lookup_ref: str | None
    amount: Decimal
    posted_content: str | None
    attempts: int
    run_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def unfinished(self) -> bool:
        """An earlier attempt may have reached Exact without our learning the outcome."""
        return self.state in {"posting", "uncertain"}


@dataclass(frozen=True)
class Intent:
    """A posting about to be sent, as recorded before it leaves."""

    kind: str
    source_id: str
    partition: str
    content_hash: str
    journal: str
    supplier_id: str | None
    lookup_ref: str | None
    amount: Decimal
    content: Any = None


@dataclass(frozen=True)
class Outcome:
    """What became of a posting: its new state, Exact's entry when there is one, and why."""

    kind: str
    source_id: str
    state: LedgerState
    why: str
    entry_id: str | None = None
    entry_number: int | None = None


class AlreadyPosted(RuntimeError):
    """The source is in the ledger as posted; it must never be posted again."""


class PostingLedger:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def get(self, kind: SourceKind, source_id: str) -> LedgerEntry | None:
        return self.get_many(kind, [source_id]).get(source_id)

    def get_many(self, kind: str, source_ids: list[str]) -> dict[str, LedgerEntry]:
        with self.store.transaction() as conn:
            return {row["source_id"]: LedgerEntry(**row) for row in of_sources(conn, posting_ledger, kind, source_ids)}

    def record_intents(self, intents: list[Intent], *, actor: str) -> None:
        """Writes state 'posting' for each (committed, in one transaction) before any of them is sent.

        Refuses the whole batch if one of them is already posted: that would be a second posting.
        """
        if not intents:
            return
        now = datetime.now(tz=UTC)
        kind = intents[0].kind
        with self.store.exclusive() as conn:
            before = {row["source_id"]: LedgerEntry(**row) for row in of_sources(
                conn, posting_ledger, kind, [i.source_id for i in intents], lock=True)}
            posted = [e for e in before.values() if e.state == "posted"]
            if posted:
                raise AlreadyPosted(f"{kind} {posted[0].source_id} is already posted as Exact entry "
                                    f"{posted[0].exact_entry_id}")
            rows = [{"source_kind": i.kind, "source_id": i.source_id, "partition_date": i.partition,
                     "content_hash": i.content_hash, "state": "posting", "journal": i.journal,
                     "supplier_id": i.supplier_id, "lookup_ref": i.lookup_ref, "amount": i.amount,
                     "run_id": actor, "posted_content": audit.to_json(i.content), "updated_at": now,
                     "attempts": before[i.source_id].attempts + 1 if i.source_id in before else 1,
                     "created_at": before[i.source_id].created_at if i.source_id in before else now}
                    for i in intents]
            new = [r for r in rows if r["source_id"] not in before]
            if new:
                conn.execute(sa.insert(posting_ledger), new)
            again = [{**r, "b_kind": r["source_kind"], "b_id": r["source_id"]}
                     for r in rows if r["source_id"] in before]
            if again:
                conn.execute(_UPDATE_INTENT, again)
            audit.record_many(conn, [
                {"entity_kind": i.kind, "entity_id": i.source_id, "action": "posting_intent",
                 "before": _public(before.get(i.source_id)),
                 "after": {"state": "posting", "content_hash": i.content_hash, "amount": str(i.amount)}}
                for i in intents], actor=actor)

    def finish(self, outcomes: list[Outcome], *, actor: str) -> None:
        """Records what became of each posting (EntryID, or why it is uncertain or rejected), in one transaction."""
        if not outcomes:
            return
        now = datetime.now(tz=UTC)
        with self.store.exclusive() as conn:
            keys = [(o.kind, o.source_id) for o in outcomes]
            columns = (posting_ledger.c.source_kind, posting_ledger.c.source_id)
            found = {(row["source_kind"], row["source_id"])
                     for row in of_keys(conn, posting_ledger, keys, columns=columns, lock=True)}
            if missing := [key for key in keys if key not in found]:
                raise KeyError(f"{missing[0][0]} {missing[0][1]} has no ledger entry: record the intent before "
                               f"finishing it")
            conn.execute(_FINISH, [
                {"b_kind": o.kind, "b_id": o.source_id, "state": o.state, "updated_at": now,
                 "exact_entry_id": o.entry_id.lower() if o.entry_id else None, "entry_number": o.entry_number}
                for o in outcomes])
            audit.record_many(conn, [
                {"entity_kind": o.kind, "entity_id": o.source_id, "action": o.state, "before": {"state": "posting"},
                 "after": {"state": o.state, "exact_entry_id": o.entry_id, "entry_number": o.entry_number,
                           "why": o.why}}
                for o in outcomes], actor=actor)

    def entries(self, *, kind: SourceKind | None = None, partition: str | None = None,
                state: LedgerState | None = None) -> list[LedgerEntry]:
        query = sa.select(posting_ledger).order_by(posting_ledger.c.partition_date, posting_ledger.c.source_id)
        if kind:
            query = query.where(posting_ledger.c.source_kind == kind)
        if partition:
            query = query.where(posting_ledger.c.partition_date == partition)
        if state:
            query = query.where(posting_ledger.c.state == state)
        with self.store.transaction() as conn:
            return [LedgerEntry(**row) for row in conn.execute(query).mappings()]

    def count(self, *, kind: SourceKind | None = None, state: LedgerState | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(posting_ledger)
        if kind:
            query = query.where(posting_ledger.c.source_kind == kind)
        if state:
            query = query.where(posting_ledger.c.state == state)
        with self.store.transaction() as conn:
            return conn.execute(query).scalar_one()

    def reconciliation(self, kind: str, *, limit: int = 100) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Per day, the posted total against the source's total for the same sources; and the sources that differ.

        Computed in the database, so that a ledger of any size is checked in constant memory.
        """
        snapshot = bill_snapshots.alias("s")
        joined = posting_ledger.outerjoin(snapshot, sa.and_(snapshot.c.source_kind == posting_ledger.c.source_kind,
                                                            snapshot.c.source_id == posting_ledger.c.source_id))
        posted = sa.and_(posting_ledger.c.source_kind == kind, posting_ledger.c.state == "posted")
        days = (sa.select(posting_ledger.c.partition_date.label("day"), sa.func.count().label("postings"),
                          sa.func.sum(posting_ledger.c.amount).label("posted"),
                          sa.func.sum(snapshot.c.amount).label("in_source"))
                .select_from(joined).where(posted).group_by(posting_ledger.c.partition_date)
                .order_by(posting_ledger.c.partition_date))
        differing = (sa.select(posting_ledger.c.partition_date.label("day"), posting_ledger.c.source_id,
                               posting_ledger.c.amount.label("posted"), snapshot.c.amount.label("in_source"))
                     .select_from(joined)
                     .where(posted, sa.or_(snapshot.c.amount.is_(None), snapshot.c.amount != posting_ledger.c.amount))
                     .order_by(posting_ledger.c.partition_date, posting_ledger.c.source_id).limit(limit))
        with self.store.transaction() as conn:
            return ([dict(r) for r in conn.execute(days).mappings()],
                    [dict(r) for r in conn.execute(differing).mappings()])

    def duplicate_entry_ids(self) -> list[dict[str, Any]]:
        """EntryIDs the ledger holds for more than one source (the unique index makes this a safety net)."""
        query = (sa.select(posting_ledger.c.exact_entry_id, sa.func.count().label("sources"))
                 .where(posting_ledger.c.exact_entry_id.is_not(None))
                 .group_by(posting_ledger.c.exact_entry_id).having(sa.func.count() > 1))
        with self.store.transaction() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def _get(self, conn: sa.Connection, kind: str, source_id: str, *, lock: bool = False) -> LedgerEntry | None:
        query = self._where(sa.select(posting_ledger), kind, source_id)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        return LedgerEntry(**row) if row else None

    @staticmethod
    def _where(statement: Any, kind: str, source_id: str) -> Any:
        return statement.where(posting_ledger.c.source_kind == kind, posting_ledger.c.source_id == source_id)


_UPDATE_INTENT = update_by_source(posting_ledger, (
    "partition_date", "content_hash", "state", "journal", "supplier_id", "lookup_ref", "amount", "run_id",
    "posted_content", "updated_at", "attempts"))
# A posting's EntryID is kept once known: an uncertain or rejected outcome never clears it.
_FINISH = update_by_source(
    posting_ledger, ("state", "updated_at"),
    exact_entry_id=sa.func.coalesce(sa.bindparam("exact_entry_id"), posting_ledger.c.exact_entry_id),
    entry_number=sa.func.coalesce(sa.bindparam("entry_number"), posting_ledger.c.entry_number))


def _public(entry: LedgerEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"state": entry.state, "exact_entry_id": entry.exact_entry_id, "content_hash": entry.content_hash,
            "amount": str(entry.amount), "attempts": entry.attempts}
