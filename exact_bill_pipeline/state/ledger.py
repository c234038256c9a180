"""The posting ledger: one claim per document, the intent as sent before a POST, and Exact's EntryID after it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa

from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.claims import LEASE, Claimant, ClaimantRecord, aware, claimants
from exact_bill_pipeline.state.db import StateStore, database_now
from exact_bill_pipeline.state.rows import IN_LIST_SIZE, insert_new, of_keys, of_sources, update_by_source
from exact_bill_pipeline.state.schema import posting_ledger

LedgerState = Literal["posting", "posted", "uncertain", "rejected", "absent"]
SourceKind = Literal["bill", "payment", "vendor", "vendor_credit", "credit_application"]
# An earlier POST of a document in one of these states may be in Exact: it is looked up before posting again.
IN_DOUBT = frozenset({"posting", "uncertain", "rejected"})
# A document in one of these states is (or may be) in Exact.
SENT = frozenset({"posted", "posting", "uncertain"})
CLAIM_LOCK = 0x45424C43  # the PostgreSQL advisory lock that serialises claims ("EBLC")


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
    sent_payload: str | None
    claimed_by: str | None
    settle_after: datetime | None
    lookups: int
    attempts: int
    run_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def unfinished(self) -> bool:
        """An earlier attempt may have reached Exact without our learning the outcome."""
        return self.state in IN_DOUBT

    @property
    def content(self) -> dict[str, Any] | None:
        """What of the document was posted (or sent), to compare with the document as it is now."""
        return json.loads(self.posted_content) if self.posted_content else None

    @property
    def sent(self) -> dict[str, Any]:
        """The payload as it was sent; for entries recorded before payloads were kept, what the columns hold."""
        if self.sent_payload:
            return json.loads(self.sent_payload)
        return {"Supplier": self.supplier_id, "YourRef": self.lookup_ref, "Journal": self.journal,
                "JournalCode": self.journal, "Name": self.lookup_ref}


@dataclass(frozen=True)
class Intent:
    """A posting about to be sent, as recorded before it leaves: what it is made from and what is sent."""

    kind: str
    source_id: str
    partition: str
    content_hash: str
    journal: str
    supplier_id: str | None
    lookup_ref: str | None
    amount: Decimal
    content: Any = None
    payload: Any = None


@dataclass(frozen=True)
class Outcome:
    """What became of a posting: its new state, Exact's entry when there is one, and why."""

    kind: str
    source_id: str
    state: LedgerState
    why: str
    entry_id: str | None = None
    entry_number: int | None = None
    lookups: int = 0
    settle_after: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """What a claim found: ``free`` (the intent is recorded, post it), ``doubt`` (claimed; look it up first),
    ``posted`` (nothing to do) or ``busy`` (another live caller is posting it)."""

    status: Literal["free", "doubt", "posted", "busy"]
    entry: LedgerEntry | None = None
    holder: str | None = None
    settle_after: datetime | None = None


class AlreadyPosted(RuntimeError):
    """The source is in the ledger as posted; it must never be posted again."""


class NotClaimed(RuntimeError):
    """An intent for a document this caller does not hold the claim of; that could be a second posting."""


class PostingLedger:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def get(self, kind: SourceKind, source_id: str) -> LedgerEntry | None:
        return self.get_many(kind, [source_id]).get(source_id)

    def get_many(self, kind: str, source_ids: list[str]) -> dict[str, LedgerEntry]:
        with self.store.transaction() as conn:
            return {row["source_id"]: LedgerEntry(**row) for row in of_sources(conn, posting_ledger, kind, source_ids)}

    def claim(self, intents: list[Intent], claimant: Claimant, *, settle: timedelta,
              actor: str) -> dict[str, Claim]:
        """Claims each document for ``claimant``, by compare-and-set, in one transaction.

        A document nobody holds gets its intent recorded at once (``free``). A document whose earlier POST
        may be in Exact is claimed but keeps what was sent (``doubt``), with the moment after which Exact has
        certainly finished with it. Posted documents and those a live caller holds are left alone.
        """
        if not intents:
            return {}
        kind = intents[0].kind
        intents = sorted(intents, key=lambda i: i.source_id)
        with self.store.exclusive() as conn:
            if conn.dialect.name == "postgresql":
                # Claims are short; taking them one caller at a time (as SQLite's write lock does) means two
                # callers never lock and insert the same documents in different orders (a deadlock).
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
            now = database_now(conn)
            before = {row["source_id"]: LedgerEntry(**row) for row in of_sources(
                conn, posting_ledger, kind, [i.source_id for i in intents], lock=True)}
            holders = claimants(conn, [e.claimed_by for e in before.values() if e.claimed_by])
            claims: dict[str, Claim] = {}
            fresh, renewed, taken = [], [], []
            for intent in intents:
                entry = before.get(intent.source_id)
                holder = holders.get(entry.claimed_by) if entry and entry.claimed_by else None
                if entry is None:
                    fresh.append(intent)
                elif entry.state == "posted":
                    claims[intent.source_id] = Claim("posted", entry)
                elif holder is not None and holder.id != claimant.id and holder.live_at(now):
                    claims[intent.source_id] = Claim("busy", entry, holder=holder.run_id)
                elif entry.state in IN_DOUBT:
                    settle_after = _settle_after(entry, holder, settle, now)
                    taken.append((entry, holder, settle_after))
                    claims[intent.source_id] = Claim("doubt", entry, settle_after=settle_after)
                else:
                    renewed.append((intent, entry))
            inserted = insert_new(conn, posting_ledger, [_intent_row(i, claimant, actor, now, None) for i in fresh],
                                  keys=("source_kind", "source_id"))
            for intent in fresh:
                raced = (intent.kind, intent.source_id) not in inserted
                claims[intent.source_id] = Claim("busy", holder="another caller") if raced else Claim("free")
            if renewed:
                conn.execute(_UPDATE_INTENT, [{**_intent_row(i, claimant, actor, now, e), "b_kind": i.kind,
                                               "b_id": i.source_id} for i, e in renewed])
                claims.update({i.source_id: Claim("free", e) for i, e in renewed})
            if taken:
                conn.execute(_TAKE, [{"b_kind": e.source_kind, "b_id": e.source_id, "claimed_by": claimant.id,
                                      "settle_after": s} for e, _, s in taken])
            audit.record_many(conn, [
                *({"entity_kind": i.kind, "entity_id": i.source_id, "action": "posting_intent",
                   "before": _public(e), "after": _intent_audit(i)}
                  for i, e in [(i, None) for i in fresh if (i.kind, i.source_id) in inserted] + renewed),
                *({"entity_kind": e.source_kind, "entity_id": e.source_id, "action": "claimed_in_doubt",
                   "before": {**_public(e), "holder": h.run_id if h else None},
                   "after": {"claimed_by": claimant.run_id, "settle_after": s}} for e, h, s in taken)],
                actor=actor)
            return claims

    def record_intents(self, intents: list[Intent], claimant: Claimant, *, actor: str) -> None:
        """Records a new intent for documents this caller claimed and found certainly absent from Exact.

        Refuses the whole batch if one of them is posted or not claimed by this caller: that could be a
        second posting.
        """
        if not intents:
            return
        kind = intents[0].kind
        with self.store.exclusive() as conn:
            now = database_now(conn)
            before = {row["source_id"]: LedgerEntry(**row) for row in of_sources(
                conn, posting_ledger, kind, [i.source_id for i in intents], lock=True)}
            for intent in intents:
                entry = before.get(intent.source_id)
                if entry is not None and entry.state == "posted":
                    raise AlreadyPosted(f"{kind} {entry.source_id} is already posted as Exact entry "
                                        f"{entry.exact_entry_id}")
                if entry is None or entry.claimed_by != claimant.id:
                    raise NotClaimed(f"{kind} {intent.source_id} is not claimed by {claimant.run_id}; it is not "
                                     f"posted by it")
            conn.execute(_UPDATE_INTENT, [{**_intent_row(i, claimant, actor, now, before[i.source_id]),
                                           "b_kind": i.kind, "b_id": i.source_id} for i in intents])
            audit.record_many(conn, [
                {"entity_kind": i.kind, "entity_id": i.source_id, "action": "posting_intent",
                 "before": _public(before[i.source_id]), "after": _intent_audit(i)} for i in intents], actor=actor)

    def finish(self, outcomes: list[Outcome], *, actor: str, settle: timedelta) -> None:
        """Records what became of each posting (EntryID, or why it is in doubt or refused), in one transaction."""
        if not outcomes:
            return
        with self.store.exclusive() as conn:
            now = database_now(conn)
            keys = [(o.kind, o.source_id) for o in outcomes]
            columns = (posting_ledger.c.source_kind, posting_ledger.c.source_id)
            found = {(row["source_kind"], row["source_id"])
                     for row in of_keys(conn, posting_ledger, keys, columns=columns, lock=True)}
            if missing := [key for key in keys if key not in found]:
                raise KeyError(f"{missing[0][0]} {missing[0][1]} has no ledger entry: record the intent before "
                               f"finishing it")
            conn.execute(_FINISH, [
                {"b_kind": o.kind, "b_id": o.source_id, "state": o.state, "updated_at": now,
                 "exact_entry_id": o.entry_id.lower() if o.entry_id else None, "entry_number": o.entry_number,
                 "lookups": o.lookups,
                 "settle_after": (o.settle_after or now + settle) if o.state == "uncertain" else None}
                for o in outcomes])
            audit.record_many(conn, [
                {"entity_kind": o.kind, "entity_id": o.source_id, "action": o.state, "before": None,
                 "after": {"state": o.state, "exact_entry_id": o.entry_id, "entry_number": o.entry_number,
                           "why": o.why}}
                for o in outcomes], actor=actor)

    def settle_by_hand(self, kind: str, source_id: str, *, entry: tuple[str, int | None] | None, actor: str,
                       note: str) -> LedgerEntry:
        """A person settles a doubt: this Exact entry is the posting (``entry``), or it was not posted (None)."""
        with self.store.exclusive() as conn:
            before = next(iter(of_sources(conn, posting_ledger, kind, [source_id], lock=True)), None)
            if before is None:
                raise KeyError(f"the ledger has no {kind} {source_id}; `exact-bill ledger doubts` lists what is "
                               f"in doubt")
            old = LedgerEntry(**before)
            if old.state == "posted":
                raise AlreadyPosted(f"{kind} {source_id} is already posted as Exact entry {old.entry_number} "
                                    f"({old.exact_entry_id}); nothing to settle")
            values: dict[str, Any] = {"state": "posted" if entry else "absent", "settle_after": None,
                                      "updated_at": database_now(conn)}
            if entry:
                values |= {"exact_entry_id": entry[0].lower(), "entry_number": entry[1]}
            conn.execute(sa.update(posting_ledger).where(posting_ledger.c.source_kind == kind,
                                                         posting_ledger.c.source_id == source_id).values(**values))
            audit.record(conn, actor=actor, entity_kind=kind, entity_id=source_id, action="settled_by_hand",
                         before=_public(old), after={"state": values["state"], "exact_entry_id": entry[0] if entry
                                                     else None, "entry_number": entry[1] if entry else None,
                                                     "note": note})
            row = next(iter(of_sources(conn, posting_ledger, kind, [source_id])))
            return LedgerEntry(**row)

    def entries(self, *, kind: SourceKind | None = None, partition: str | None = None,
                state: LedgerState | None = None, states: frozenset[str] | None = None) -> list[LedgerEntry]:
        query = sa.select(posting_ledger).order_by(posting_ledger.c.partition_date, posting_ledger.c.source_id)
        if kind:
            query = query.where(posting_ledger.c.source_kind == kind)
        if partition:
            query = query.where(posting_ledger.c.partition_date == partition)
        if state:
            query = query.where(posting_ledger.c.state == state)
        if states:
            query = query.where(posting_ledger.c.state.in_(states))
        with self.store.transaction() as conn:
            return [LedgerEntry(**row) for row in conn.execute(query).mappings()]

    def bills_by_invoice(self, invoices: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """The bills sent to Exact (posted, or in doubt) per (supplier, invoice number as Exact compares it)."""
        refs = {ref for _, ref in invoices}
        if not refs:
            return {}
        ref = sa.func.lower(sa.func.trim(posting_ledger.c.lookup_ref))
        query = (sa.select(posting_ledger.c.supplier_id, ref.label("ref"), posting_ledger.c.source_id)
                 .where(posting_ledger.c.source_kind == "bill", ref.in_(refs),
                        posting_ledger.c.state.in_(SENT)).order_by(posting_ledger.c.created_at))
        found: dict[tuple[str, str], list[str]] = {}
        with self.store.transaction() as conn:
            for row in conn.execute(query):
                if (row.supplier_id, row.ref) in invoices:
                    found.setdefault((row.supplier_id, row.ref), []).append(row.source_id)
        return found

    def of_suppliers(self, kinds: list[str], supplier_ids: list[str]) -> list[LedgerEntry]:
        """Every entry of these kinds for these suppliers: what was posted (or sent) to their open items."""
        out: list[LedgerEntry] = []
        with self.store.transaction() as conn:
            for chunk in batched(sorted(set(supplier_ids)), IN_LIST_SIZE):
                query = sa.select(posting_ledger).where(posting_ledger.c.source_kind.in_(kinds),
                                                        posting_ledger.c.supplier_id.in_(chunk))
                out.extend(LedgerEntry(**row) for row in conn.execute(query).mappings())
        return out

    def count(self, *, kind: SourceKind | None = None, state: LedgerState | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(posting_ledger)
        if kind:
            query = query.where(posting_ledger.c.source_kind == kind)
        if state:
            query = query.where(posting_ledger.c.state == state)
        with self.store.transaction() as conn:
            return conn.execute(query).scalar_one()


def _settle_after(entry: LedgerEntry, holder: ClaimantRecord | None, settle: timedelta, now: datetime) -> datetime:
    """When Exact has certainly finished with whatever was sent for ``entry``.

    A refusal was a complete answer: nothing is pending. An outcome recorded as uncertain carries its own
    moment. An intent whose caller died or stopped (state 'posting'): its last POST went out before its claim
    ended (or before now, when this machine sees its process is gone), so Exact has finished ``settle`` after.
    """
    if entry.state == "rejected":
        return aware(entry.updated_at)
    if entry.state == "uncertain" and entry.settle_after is not None:
        return aware(entry.settle_after)
    if holder is None:
        ended = aware(entry.updated_at) + LEASE
    elif holder.released_at is None and holder.process_gone():
        ended = min(holder.ended_at, now)
    else:
        ended = holder.ended_at
    moment = max(ended, aware(entry.updated_at)) + settle
    return max(moment, aware(entry.settle_after)) if entry.settle_after else moment


def _intent_row(intent: Intent, claimant: Claimant, actor: str, now: datetime,
                before: LedgerEntry | None) -> dict[str, Any]:
    return {"source_kind": intent.kind, "source_id": intent.source_id, "partition_date": intent.partition,
            "content_hash": intent.content_hash, "state": "posting", "journal": intent.journal,
            "supplier_id": intent.supplier_id, "lookup_ref": intent.lookup_ref, "amount": intent.amount,
            "run_id": actor, "posted_content": audit.to_json(intent.content),
            "sent_payload": audit.to_json(intent.payload), "claimed_by": claimant.id, "settle_after": None,
            "lookups": before.lookups if before else 0, "updated_at": now,
            "attempts": before.attempts + 1 if before else 1, "created_at": before.created_at if before else now}


def _intent_audit(intent: Intent) -> dict[str, Any]:
    return {"state": "posting", "content_hash": intent.content_hash, "amount": str(intent.amount),
            "sent": intent.payload}


_UPDATE_INTENT = update_by_source(posting_ledger, (
    "partition_date", "content_hash", "state", "journal", "supplier_id", "lookup_ref", "amount", "run_id",
    "posted_content", "sent_payload", "claimed_by", "settle_after", "updated_at", "attempts"))
_TAKE = update_by_source(posting_ledger, ("claimed_by", "settle_after"))
# A posting's EntryID is kept once known: an uncertain or rejected outcome never clears it.
_FINISH = update_by_source(
    posting_ledger, ("state", "updated_at", "settle_after"),
    exact_entry_id=sa.func.coalesce(sa.bindparam("exact_entry_id"), posting_ledger.c.exact_entry_id),
    entry_number=sa.func.coalesce(sa.bindparam("entry_number"), posting_ledger.c.entry_number),
    lookups=posting_ledger.c.lookups + sa.bindparam("lookups"))


def _public(entry: LedgerEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"state": entry.state, "exact_entry_id": entry.exact_entry_id, "content_hash": entry.content_hash,
            "amount": str(entry.amount), "attempts": entry.attempts}
