"""Posting to Exact exactly once: intents in the ledger first, a look-up after any doubt, EntryIDs after."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from exact_bill_pipeline.state.ledger import Intent, Outcome, PostingLedger
from exact_bill_pipeline.transport.errors import UncertainOutcome, ValidationFailed

log = logging.getLogger(__name__)
Result = Literal["posted", "recovered", "already_posted", "uncertain", "rejected"]
# Intents are written (and outcomes recorded) for this many postings at a time: two commits per batch
# instead of per posting; a crash leaves at most one batch to look up on the next run.
BATCH = 50


@dataclass(frozen=True)
class Created:
    """What Exact answered (or what a look-up found): the entry's ID and number."""

    entry_id: str
    entry_number: int | None = None


@dataclass(frozen=True)
class PostingResult:
    outcome: Result
    entry_id: str | None = None
    entry_number: int | None = None
    error: ValidationFailed | None = None
    detail: str = ""


@dataclass(frozen=True)
class Posting:
    """One write to make exactly once: its ledger intent, and the ways to make it and to find it again."""

    intent: Intent
    create: Callable[[], Created]
    find: Callable[[], Created | None]
    payload: Any = None  # what is sent, shown in the failure queue when Exact refuses it

    @property
    def kind(self) -> str:
        return self.intent.kind

    @property
    def source_id(self) -> str:
        return self.intent.source_id


def post_exactly_once(postings: list[Posting], ledger: PostingLedger, *, actor: str) -> dict[str, PostingResult]:
    """Posts each unless the ledger says it is done; looks Exact up first only when an earlier attempt is in doubt.

    A healthy posting costs exactly one Exact call (the POST). An unfinished ledger entry (a crash, a lost
    response, a timeout) costs one look-up first, and a found entry is adopted instead of posted again.
    Returns the result per source ID.
    """
    results: dict[str, PostingResult] = {}
    for start in range(0, len(postings), BATCH):
        batch = postings[start:start + BATCH]
        existing = ledger.get_many(batch[0].kind, [p.source_id for p in batch]) if batch else {}
        todo = []
        for posting in batch:
            entry = existing.get(posting.source_id)
            if entry is not None and entry.state == "posted":
                results[posting.source_id] = PostingResult("already_posted", entry.exact_entry_id, entry.entry_number)
            else:
                todo.append((posting, entry is not None and entry.unfinished))
        if not todo:
            continue
        ledger.record_intents([posting.intent for posting, _ in todo], actor=actor)
        outcomes = []
        try:
            for posting, in_doubt in todo:
                result = _post(posting, in_doubt)
                results[posting.source_id] = result
                outcomes.append(_outcome(posting, result))
        finally:
            # Whatever was learned is kept, even when a call in this batch raised: the rest stay 'posting'
            # and are looked up next time.
            ledger.finish(outcomes, actor=actor)
    return results


def _post(posting: Posting, in_doubt: bool) -> PostingResult:
    if in_doubt:
        found = posting.find()
        if found is not None:
            return PostingResult("recovered", found.entry_id, found.entry_number)
    for attempt in (1, 2):
        try:
            created = posting.create()
        except ValidationFailed as error:
            return PostingResult("rejected", error=error, detail="; ".join(error.lines))
        except UncertainOutcome as doubt:
            found = posting.find()
            if found is not None:
                return PostingResult("recovered", found.entry_id, found.entry_number)
            if attempt == 2:
                return PostingResult("uncertain", detail=str(doubt))
            log.warning("%s %s: outcome unknown and not found in Exact; posting once more",
                        posting.kind, posting.source_id)
            continue
        return PostingResult("posted", created.entry_id, created.entry_number)
    raise AssertionError("unreachable")


def _outcome(posting: Posting, result: PostingResult) -> Outcome:
    if result.outcome == "rejected":
        return Outcome(posting.kind, posting.source_id, "rejected", result.detail)
    if result.outcome == "uncertain":
        return Outcome(posting.kind, posting.source_id, "uncertain", result.detail)
    why = ("found in Exact after an earlier attempt whose outcome was unknown" if result.outcome == "recovered"
           else "posted")
    return Outcome(posting.kind, posting.source_id, "posted", why, result.entry_id, result.entry_number)
