"""The posting ledger: the intent is recorded before a POST to Exact, and Exact's EntryID after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa

from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.schema import posting_ledger

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


class AlreadyPosted(RuntimeError):
    """The source is in the ledger as posted; it must never be posted again."""


class PostingLedger:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def get(self, kind: SourceKind, source_id: str) -> LedgerEntry | None:
        with self.store.transaction() as conn:
            return self._get(conn, kind, source_id)

    def record_intent(
        self, kind: SourceKind, source_id: str, *, partition: str, content_hash: str, journal: str,
        supplier_id: str | None, lookup_ref: str | None, amount: Decimal, actor: str, content: Any = None,
    ) -> LedgerEntry:
        """Writes state 'posting' (committed) before the POST is sent; refuses a source already posted."""
        now = datetime.now(tz=UTC)
        values = {"partition_date": partition, "content_hash": content_hash, "state": "posting", "journal": journal,
                  "supplier_id": supplier_id, "lookup_ref": lookup_ref, "amount": amount, "run_id": actor,
                  "posted_content": audit.to_json(content), "updated_at": now}
        with self.store.exclusive() as conn:
            before = self._get(conn, kind, source_id, lock=True)
            if before is not None and before.state == "posted":
                raise AlreadyPosted(f"{kind} {source_id} is already posted as Exact entry {before.exact_entry_id}")
            if before is None:
                conn.execute(sa.insert(posting_ledger).values(source_kind=kind, source_id=source_id, attempts=1,
                                                              created_at=now, **values))
            else:
                conn.execute(self._where(sa.update(posting_ledger), kind, source_id)
                             .values(attempts=posting_ledger.c.attempts + 1, **values))
            after = self._get(conn, kind, source_id)
            audit.record(conn, actor=actor, entity_kind=kind, entity_id=source_id, action="posting_intent",
                         before=_public(before), after=_public(after))
        assert after is not None
        return after

    def mark_posted(self, kind: SourceKind, source_id: str, *, entry_id: str, entry_number: int | None,
                    actor: str, how: str = "posted by this run") -> None:
        self._transition(kind, source_id, "posted", actor, how,
                         exact_entry_id=entry_id.lower(), entry_number=entry_number)

    def mark_uncertain(self, kind: SourceKind, source_id: str, *, actor: str, reason: str) -> None:
        self._transition(kind, source_id, "uncertain", actor, reason)

    def mark_rejected(self, kind: SourceKind, source_id: str, *, actor: str, reason: str) -> None:
        self._transition(kind, source_id, "rejected", actor, reason)

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

    def duplicate_entry_ids(self) -> list[dict[str, Any]]:
        """EntryIDs the ledger holds for more than one source (the unique index makes this a safety net)."""
        query = (sa.select(posting_ledger.c.exact_entry_id, sa.func.count().label("sources"))
                 .where(posting_ledger.c.exact_entry_id.is_not(None))
                 .group_by(posting_ledger.c.exact_entry_id).having(sa.func.count() > 1))
        with self.store.transaction() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def _transition(self, kind: SourceKind, source_id: str, state: LedgerState, actor: str, why: str,
                    **values: Any) -> None:
        with self.store.exclusive() as conn:
            before = self._get(conn, kind, source_id, lock=True)
            if before is None:
                raise KeyError(f"{kind} {source_id} has no ledger entry; record the intent first")
            conn.execute(self._where(sa.update(posting_ledger), kind, source_id)
                         .values(state=state, updated_at=datetime.now(tz=UTC), **values))
            audit.record(conn, actor=actor, entity_kind=kind, entity_id=source_id, action=state,
                         before=_public(before), after={**(_public(self._get(conn, kind, source_id)) or {}),
                                                        "why": why})

    def _get(self, conn: sa.Connection, kind: str, source_id: str, *, lock: bool = False) -> LedgerEntry | None:
        query = self._where(sa.select(posting_ledger), kind, source_id)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        return LedgerEntry(**row) if row else None

    @staticmethod
    def _where(statement: Any, kind: str, source_id: str) -> Any:
        return statement.where(posting_ledger.c.source_kind == kind, posting_ledger.c.source_id == source_id)


def _public(entry: LedgerEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"state": entry.state, "exact_entry_id": entry.exact_entry_id, "content_hash": entry.content_hash,
            "amount": str(entry.amount), "attempts": entry.attempts}
