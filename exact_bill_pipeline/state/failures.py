"""The failure queue: what could not be posted, why, what was tried, and what became of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.rows import of_keys, update_by_source
from exact_bill_pipeline.state.schema import failure_queue

ItemStatus = Literal["open", "resolved", "ignored", "released"]
# Reasons a person may override: the check was right to stop, and a person decides the document posts anyway.
RELEASABLE = frozenset({"duplicate_invoice"})


@dataclass(frozen=True)
class FailureItem:
    id: int
    source_kind: str
    source_id: str
    partition_date: str
    reason_code: str
    message: str
    exact_message: str | None
    snapshot: dict[str, Any]
    tried: Any
    status: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    note: str | None

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.source_kind, "source_id": self.source_id,
                "partition": self.partition_date, "reason": self.reason_code, "message": self.message,
                "attempts": self.attempts, "status": self.status}


@dataclass(frozen=True)
class Report:
    """Why one source could not be posted, as reported to the queue."""

    kind: str
    source_id: str
    partition: str
    reason: str
    message: str
    snapshot: dict[str, Any]
    tried: Any = None
    exact_message: str | None = None


class UnknownFailure(LookupError):
    """No queue item has that ID."""


class NotReleasable(ValueError):
    """Only a held document a person may let through can be released."""


class FailureQueue:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def report(self, kind: str, source_id: str, *, partition: str, reason: str, message: str,
               snapshot: dict[str, Any], tried: Any = None, exact_message: str | None = None,
               actor: str) -> FailureItem:
        """Puts an item in the queue, or counts one more attempt on the open one (reopening an old one)."""
        self.report_many([Report(kind, source_id, partition, reason, message, snapshot, tried, exact_message)],
                         actor=actor)
        item = self.find(kind, source_id)
        assert item is not None
        return item

    def report_many(self, reports: list[Report], *, actor: str) -> None:
        """report() for several sources, in one transaction and a handful of statements."""
        latest = {(r.kind, r.source_id): r for r in reports}
        if not latest:
            return
        now = datetime.now(tz=UTC)
        with self.store.exclusive() as conn:
            before = self._find_many(conn, list(latest), lock=True)
            rows = [{"source_kind": r.kind, "source_id": r.source_id, "partition_date": r.partition,
                     "reason_code": r.reason, "message": r.message, "exact_message": r.exact_message,
                     "snapshot": json.dumps(r.snapshot, default=str), "tried": json.dumps(r.tried, default=str),
                     "status": "open", "last_seen": now, "resolved_at": None} for r in latest.values()]
            new = [{**row, "attempts": 1, "first_seen": now, "note": None}
                   for row in rows if (row["source_kind"], row["source_id"]) not in before]
            if new:
                conn.execute(sa.insert(failure_queue), new)
            again = [{**row, "b_kind": row["source_kind"], "b_id": row["source_id"]}
                     for row in rows if (row["source_kind"], row["source_id"]) in before]
            if again:
                conn.execute(_REPORT_AGAIN, again)
            audit.record_many(conn, [
                {"entity_kind": "failure", "entity_id": f"{r.kind}:{r.source_id}",
                 "action": "queued" if old is None else "requeued", "before": old.summary() if old else None,
                 "after": {"kind": r.kind, "source_id": r.source_id, "partition": r.partition, "reason": r.reason,
                           "message": r.message, "status": "open"}}
                for key, r in latest.items()
                if (old := before.get(key)) is None or old.status != "open" or old.reason_code != r.reason],
                actor=actor)

    def resolve(self, kind: str, source_id: str, *, actor: str, note: str) -> bool:
        """Closes the open item of a source that has now been posted; False when there was none."""
        with self.store.exclusive() as conn:
            item = self._find(conn, kind, source_id, lock=True)
            if item is None or item.status not in {"open", "released"}:
                return False
            self._set_status(conn, item, "resolved", actor, note)
            return True

    def ignore(self, item_id: int, *, actor: str, note: str) -> FailureItem:
        """A person decides an item will never be posted; it leaves the queue and the replays."""
        with self.store.exclusive() as conn:
            item = self._by_id(conn, item_id, lock=True)
            self._set_status(conn, item, "ignored", actor, note)
            return self._by_id(conn, item_id)

    def release(self, item_id: int, *, actor: str, note: str) -> FailureItem:
        """A person decides a held document posts anyway (a real second invoice with a number already used)."""
        with self.store.exclusive() as conn:
            item = self._by_id(conn, item_id, lock=True)
            if item.reason_code not in RELEASABLE or item.status != "open":
                raise NotReleasable(
                    f"item {item_id} waits as {item.reason_code} ({item.status}); only open items of "
                    f"{', '.join(sorted(RELEASABLE))} can be released: fix the cause and replay the others")
            self._set_status(conn, item, "released", actor, note)
            return self._by_id(conn, item_id)

    def reopen(self, item_id: int, *, actor: str) -> FailureItem:
        with self.store.exclusive() as conn:
            item = self._by_id(conn, item_id, lock=True)
            self._set_status(conn, item, "open", actor, "reopened")
            return self._by_id(conn, item_id)

    def get(self, item_id: int) -> FailureItem:
        with self.store.transaction() as conn:
            return self._by_id(conn, item_id)

    def find(self, kind: str, source_id: str) -> FailureItem | None:
        with self.store.transaction() as conn:
            return self._find(conn, kind, source_id)

    def items(self, *, status: ItemStatus | None = "open", reason: str | None = None,
              kind: str | None = None, partition: str | None = None, partitions: list[str] | None = None,
              reason_not: str | None = None, limit: int | None = None) -> list[FailureItem]:
        query = self._filtered(sa.select(failure_queue), status, reason, kind, partition, partitions, reason_not)
        with self.store.transaction() as conn:
            return [_item(row) for row in conn.execute(query.limit(limit)).mappings()]

    def source_ids(self, *, status: ItemStatus | None = "open", reason: str | None = None, kind: str | None = None,
                   reason_not: str | None = None) -> list[str]:
        """Only the IDs of the matching items: cheap however long the queue."""
        query = self._filtered(sa.select(failure_queue.c.source_id), status, reason, kind, None, None, reason_not)
        with self.store.transaction() as conn:
            return list(conn.execute(query).scalars())

    @staticmethod
    def _filtered(query: sa.Select, status: str | None, reason: str | None, kind: str | None,
                  partition: str | None, partitions: list[str] | None, reason_not: str | None) -> sa.Select:
        query = query.order_by(failure_queue.c.partition_date, failure_queue.c.id)
        for column, value in (("status", status), ("reason_code", reason), ("source_kind", kind),
                              ("partition_date", partition)):
            if value is not None:
                query = query.where(failure_queue.c[column] == value)
        if partitions is not None:
            query = query.where(failure_queue.c.partition_date.in_(partitions))
        if reason_not is not None:
            query = query.where(failure_queue.c.reason_code != reason_not)
        return query

    def counts_by_reason(self) -> dict[tuple[str, str], int]:
        """How many open items wait, per kind and reason."""
        query = (sa.select(failure_queue.c.source_kind, failure_queue.c.reason_code, sa.func.count())
                 .where(failure_queue.c.status == "open")
                 .group_by(failure_queue.c.source_kind, failure_queue.c.reason_code))
        with self.store.transaction() as conn:
            return {(kind, reason): count for kind, reason, count in conn.execute(query)}

    def history(self, item: FailureItem) -> list[dict[str, Any]]:
        with self.store.transaction() as conn:
            return audit.history(conn, "failure", f"{item.source_kind}:{item.source_id}")

    def _set_status(self, conn: sa.Connection, item: FailureItem, status: ItemStatus, actor: str, note: str) -> None:
        now = datetime.now(tz=UTC)
        conn.execute(sa.update(failure_queue).where(failure_queue.c.id == item.id).values(
            status=status, note=note, resolved_at=None if status == "open" else now, last_seen=now))
        audit.record(conn, actor=actor, entity_kind="failure", entity_id=f"{item.source_kind}:{item.source_id}",
                     action=status, before=item.summary(), after={**item.summary(), "status": status, "note": note})

    def _by_id(self, conn: sa.Connection, item_id: int, *, lock: bool = False) -> FailureItem:
        query = sa.select(failure_queue).where(failure_queue.c.id == item_id)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            raise UnknownFailure(f"the failure queue has no item {item_id}; `exact-bill failures list` shows them")
        return _item(row)

    def _find_many(self, conn: sa.Connection, keys: list[tuple[str, str]], *,
                   lock: bool = False) -> dict[tuple[str, str], FailureItem]:
        return {(row["source_kind"], row["source_id"]): _item(row)
                for row in of_keys(conn, failure_queue, keys, lock=lock)}

    def _find(self, conn: sa.Connection, kind: str, source_id: str, *, lock: bool = False) -> FailureItem | None:
        return self._find_many(conn, [(kind, source_id)], lock=lock).get((kind, source_id))


_REPORT_AGAIN = update_by_source(failure_queue, (
    "partition_date", "reason_code", "message", "exact_message", "snapshot", "tried", "status", "last_seen",
    "resolved_at"), attempts=failure_queue.c.attempts + 1)


def _item(row: Any) -> FailureItem:
    data = dict(row)
    data["snapshot"] = json.loads(data["snapshot"])
    data["tried"] = json.loads(data["tried"]) if data["tried"] else None
    return FailureItem(**data)
