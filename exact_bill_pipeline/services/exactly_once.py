"""Posting to Exact exactly once: intent in the ledger first, a look-up after any doubt, EntryID after."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from exact_bill_pipeline.state.ledger import PostingLedger, SourceKind
from exact_bill_pipeline.transport.errors import UncertainOutcome, ValidationFailed

log = logging.getLogger(__name__)
Outcome = Literal["posted", "recovered", "already_posted", "uncertain", "rejected"]


@dataclass(frozen=True)
class Created:
    """What Exact answered (or what a look-up found): the entry's ID and number."""

    entry_id: str
    entry_number: int | None = None


@dataclass(frozen=True)
class PostingResult:
    outcome: Outcome
    entry_id: str | None = None
    entry_number: int | None = None
    error: ValidationFailed | None = None
    detail: str = ""


@dataclass(frozen=True)
class Posting:
    """One write to make exactly once, with the ways to make it and to find it again."""

    kind: SourceKind
    source_id: str
    partition: str
    content_hash: str
    journal: str
    supplier_id: str | None
    lookup_ref: str | None
    amount: Decimal
    create: Callable[[], Created]
    find: Callable[[], Created | None]
    content: Any = None  # what is posted, kept in the ledger to diff later changes against


def post_exactly_once(posting: Posting, ledger: PostingLedger, *, actor: str) -> PostingResult:
    """Posts unless the ledger says it is done; looks Exact up first only when an earlier attempt is in doubt.

    A healthy posting costs exactly one Exact call (the POST). An unfinished ledger entry (a crash, a lost
    response, a timeout) costs one look-up first, and a found entry is adopted instead of posted again.
    """
    existing = ledger.get(posting.kind, posting.source_id)
    if existing is not None and existing.state == "posted":
        return PostingResult("already_posted", existing.exact_entry_id, existing.entry_number)
    in_doubt = existing is not None and existing.unfinished
    ledger.record_intent(posting.kind, posting.source_id, partition=posting.partition,
                         content_hash=posting.content_hash, journal=posting.journal,
                         supplier_id=posting.supplier_id, lookup_ref=posting.lookup_ref, amount=posting.amount,
                         actor=actor, content=posting.content)
    if in_doubt:
        found = posting.find()
        if found is not None:
            return _adopt(posting, ledger, found, actor, "recovered")
    for attempt in (1, 2):
        try:
            created = posting.create()
        except ValidationFailed as error:
            ledger.mark_rejected(posting.kind, posting.source_id, actor=actor, reason="; ".join(error.lines))
            return PostingResult("rejected", error=error, detail="; ".join(error.lines))
        except UncertainOutcome as doubt:
            ledger.mark_uncertain(posting.kind, posting.source_id, actor=actor, reason=str(doubt))
            found = posting.find()
            if found is not None:
                return _adopt(posting, ledger, found, actor, "recovered")
            if attempt == 2:
                return PostingResult("uncertain", detail=str(doubt))
            log.warning("%s %s: outcome unknown and not found in Exact; posting once more",
                        posting.kind, posting.source_id)
            continue
        ledger.mark_posted(posting.kind, posting.source_id, entry_id=created.entry_id,
                           entry_number=created.entry_number, actor=actor)
        return PostingResult("posted", created.entry_id, created.entry_number)
    raise AssertionError("unreachable")


def _adopt(posting: Posting, ledger: PostingLedger, found: Created, actor: str, how: Outcome) -> PostingResult:
    ledger.mark_posted(posting.kind, posting.source_id, entry_id=found.entry_id, entry_number=found.entry_number,
                       actor=actor, how="found in Exact after an earlier attempt whose outcome was unknown")
    return PostingResult(how, found.entry_id, found.entry_number)
