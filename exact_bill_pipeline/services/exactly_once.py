"""Posting to Exact exactly once: one claim per document, the intent as sent, and doubt settled by evidence."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from exact_bill_pipeline.domain.postings import refusal_reason
from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.state.claims import Claimant, ClaimLost
from exact_bill_pipeline.state.ledger import Claim, Intent, Outcome, PostingLedger
from exact_bill_pipeline.transport.errors import (
    AccessForbidden,
    ApiError,
    AuthenticationFailed,
    BudgetExhausted,
    Refused,
    TransientApiError,
    UncertainOutcome,
)

log = logging.getLogger(__name__)
Result = Literal["posted", "recovered", "already_posted", "uncertain", "in_doubt", "rejected", "busy"]
# Intents are written (and outcomes recorded) for this many postings at a time: two commits per batch
# instead of per posting; a crash leaves at most one batch to look up on the next run.
BATCH = 50
# A run that waits for Exact to finish a POST in doubt renews its claim at least this often.
WAIT_SLICE = 30.0


@dataclass(frozen=True)
class DoubtPolicy:
    """When a POST whose answer was lost is certainly finished in Exact, and how refusals stop a run.

    ``settle``: how long after a POST was sent Exact may still commit it (UNCONFIRMED: Exact publishes no
    server-side timeout, so the stricter, longer wait). A document is posted again only when a look-up made
    after that finds nothing. ``wait_in_run``: how long a run waits for that moment before it leaves the
    document for the next run. ``refusals_in_a_row``: so many documents refused one after the other mean
    the problem is not the documents (Exact also blocks an app after 10 errors an hour on an endpoint).
    """

    settle: timedelta = timedelta(minutes=5)
    wait_in_run: timedelta = timedelta(minutes=5)
    refusals_in_a_row: int = 5


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
    error: Refused | None = None
    detail: str = ""
    # For a posting found in Exact after a doubt: what was sent then, to compare with the document now.
    sent_content: dict[str, Any] | None = None
    settle_after: datetime | None = None


@dataclass(frozen=True)
class Posting:
    """One write to make exactly once: its intent (with the payload to send), and how to send and find it.

    ``create`` gets a guard to call before every attempt (it renews the claim, or stops when it is lost);
    ``find`` gets what was sent, as the ledger recorded it, and looks that up in Exact.
    """

    intent: Intent
    create: Callable[[Callable[[], None]], Created]
    find: Callable[[dict[str, Any]], Created | None]

    @property
    def kind(self) -> str:
        return self.intent.kind

    @property
    def source_id(self) -> str:
        return self.intent.source_id


class PostingStopped(RuntimeError):
    """A failure that is not about one document: the run stops, with what was learned recorded.

    ``results`` holds what became of each document handled before it stopped, so that callers can report it.
    """

    def __init__(self, message: str, results: dict[str, PostingResult] | None = None) -> None:
        super().__init__(message)
        self.results = results or {}


def post_exactly_once(postings: list[Posting], ledger: PostingLedger, claimant: Claimant | None, *, actor: str,
                      policy: DoubtPolicy | None = None) -> dict[str, PostingResult]:
    """Claims, then posts each document that nobody else is posting and that is not in Exact already.

    A healthy posting costs exactly one Exact call (the POST). A document whose earlier POST is in doubt
    (a crash, a lost answer, a timeout) is looked up by what was sent; it is posted again only when a
    look-up made after Exact has certainly finished finds nothing. Returns the result per source ID.
    """
    if not postings:
        return {}
    if claimant is None:
        raise ValueError("postings are sent only under a claim: pass the caller's Claimant")
    run = _PostingRun(ledger, claimant, policy or DoubtPolicy(), actor)
    try:
        for batch in batched(postings, BATCH):
            run.post_batch(batch)
        run.settle_in_run()
    except PostingStopped as stopped:
        raise PostingStopped(str(stopped), dict(run.results)) from stopped.__cause__
    except (ApiError, BudgetExhausted, ClaimLost) as error:
        raise PostingStopped(_plainly(error), dict(run.results)) from error
    return run.results


def post_and_record(postings: dict[str, Posting], ledger: PostingLedger, claimant: Claimant | None, *, actor: str,
                    policy: DoubtPolicy | None, record: Callable[[str, PostingResult], None],
                    posted_so_far: Callable[[], int], noun: str) -> None:
    """Posts, and records each result as it stands, even when the posting stopped part-way (then says how far)."""
    try:
        results = post_exactly_once(list(postings.values()), ledger, claimant, actor=actor, policy=policy)
    except PostingStopped as stopped:
        for source_id, result in stopped.results.items():
            record(source_id, result)
        raise PostingStopped(f"{stopped} Before it stopped, this run posted {posted_so_far()} {noun}(s) to Exact; "
                             f"{len(postings) - len(stopped.results)} more were not sent and wait for the next run.",
                             stopped.results) from stopped
    for source_id, result in results.items():
        record(source_id, result)


def _plainly(error: Exception) -> str:
    """What stopped the posting, in plain words, and what to do."""
    if isinstance(error, AccessForbidden):
        return f"{error} Nothing more is posted until that is fixed."
    if isinstance(error, AuthenticationFailed):
        return (f"Exact Online refused the connector's access ({error}). Run `exact-bill auth exact` to connect "
                f"again; nothing more is posted until then.")
    if isinstance(error, TransientApiError):
        return (f"Exact Online did not answer properly, even after retrying: {error}. It is probably down or "
                f"overloaded; rerun once it answers (nothing is posted twice).")
    if isinstance(error, BudgetExhausted):
        return f"{error} The run stopped before Exact's limit; rerun then (nothing is posted twice)."
    return f"{error} Rerun once that is fixed (nothing is posted twice)."


@dataclass
class _Pending:
    """A document in doubt: the posting, what was sent, and when Exact has certainly finished with it."""

    posting: Posting
    sent: dict[str, Any]
    settle_after: datetime


@dataclass
class _PostingRun:
    ledger: PostingLedger
    claimant: Claimant
    policy: DoubtPolicy
    actor: str
    results: dict[str, PostingResult] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    refused_in_a_row: int = 0

    def post_batch(self, batch: list[Posting]) -> None:
        self.claimant.ensure_live()
        claims = self.ledger.claim([p.intent for p in batch], self.claimant, settle=self.policy.settle,
                                   actor=self.actor)
        ready: list[Posting] = []
        doubts: list[tuple[Posting, Claim]] = []
        for posting in batch:
            claim = claims[posting.source_id]
            if claim.status == "posted":
                entry = claim.entry
                self.results[posting.source_id] = PostingResult(
                    "already_posted", entry.exact_entry_id if entry else None, entry.entry_number if entry else None)
            elif claim.status == "busy":
                self.results[posting.source_id] = PostingResult("busy", detail=f"being posted by {claim.holder}")
            elif claim.status == "free":
                ready.append(posting)
            else:
                doubts.append((posting, claim))
        outcomes: list[Outcome] = []
        try:
            # The free ones first: their intents are recorded, and a look-up that fails must not leave them unsent.
            self._send(ready, outcomes)
            absent = self._resolve([(p, c.entry.sent, c.settle_after) for p, c in doubts
                                    if c.entry and c.settle_after], outcomes,
                                   recovered_from={p.source_id: c.entry.content for p, c in doubts if c.entry})
            self.ledger.record_intents([p.intent for p in absent], self.claimant, actor=self.actor)
            self._send(absent, outcomes)
        finally:
            # Whatever was learned is kept, even when a call raised: the rest stay in doubt and are looked up.
            self.ledger.finish(outcomes, actor=self.actor, settle=self.policy.settle)

    def settle_in_run(self) -> None:
        """Waits for the documents whose doubt Exact settles within ``wait_in_run``, then resolves them."""
        due = [p for p in self.pending if p.settle_after - self.claimant.now() <= self.policy.wait_in_run]
        if not due:
            return
        self.pending = [p for p in self.pending if p not in due]
        self._wait_until(max(p.settle_after for p in due))
        outcomes: list[Outcome] = []
        try:
            absent = self._resolve([(p.posting, p.sent, p.settle_after) for p in due], outcomes)
            self.ledger.record_intents([p.intent for p in absent], self.claimant, actor=self.actor)
            self._send(absent, outcomes, settle_later=True)
        finally:
            self.ledger.finish(outcomes, actor=self.actor, settle=self.policy.settle)

    def _resolve(self, doubts: list[tuple[Posting, dict[str, Any], datetime]], outcomes: list[Outcome], *,
                 recovered_from: dict[str, dict[str, Any] | None] | None = None) -> list[Posting]:
        """Looks each document in doubt up by what was sent; returns those certainly not in Exact."""
        absent: list[Posting] = []
        for posting, sent, settle_after in doubts:
            found = posting.find(sent)
            if found is not None:
                self.results[posting.source_id] = PostingResult(
                    "recovered", found.entry_id, found.entry_number,
                    sent_content=(recovered_from or {}).get(posting.source_id))
                outcomes.append(Outcome(posting.kind, posting.source_id, "posted",
                                        "found in Exact, as sent, after an attempt whose outcome was unknown",
                                        found.entry_id, found.entry_number, lookups=1))
            elif settle_after <= self.claimant.now():
                absent.append(posting)
            else:
                self.pending.append(_Pending(posting, sent, settle_after))
                self.results[posting.source_id] = PostingResult(
                    "in_doubt", detail=f"not found in Exact yet; Exact may still be working on it until "
                                       f"{settle_after:%Y-%m-%d %H:%M:%S %Z}", settle_after=settle_after)
                outcomes.append(Outcome(posting.kind, posting.source_id, "uncertain",
                                        "not found in Exact yet, before Exact has certainly finished",
                                        lookups=1, settle_after=settle_after))
        return absent

    def _send(self, postings: list[Posting], outcomes: list[Outcome], *, settle_later: bool = False) -> None:
        for posting in postings:
            outcomes.append(self._post(posting, settle_later=settle_later))
            if self.refused_in_a_row >= self.policy.refusals_in_a_row:
                raise PostingStopped(
                    f"Exact refused {self.refused_in_a_row} postings in a row, the last: "
                    f"{self.results[posting.source_id].detail}. That points at the set-up (journal, accounts, "
                    f"rights) rather than at the documents; the refused ones wait in the failure queue as "
                    f"exact_rejected. Fix the cause, then `exact-bill failures replay --all`.")

    def _post(self, posting: Posting, *, settle_later: bool) -> Outcome:
        kind, source_id = posting.kind, posting.source_id
        try:
            created = posting.create(self.claimant.ensure_live)
        except Refused as refusal:
            # A refusal about the document itself (a closed period, a duplicate) says nothing about the set-up.
            self.refused_in_a_row += refusal_reason(refusal.lines) == "exact_rejected"
            detail = f"HTTP {refusal.status}: {'; '.join(refusal.lines) or refusal}"
            self.results[source_id] = PostingResult("rejected", error=refusal, detail=detail)
            return Outcome(kind, source_id, "rejected", detail)
        except UncertainOutcome as doubt:
            found = posting.find(posting.intent.payload)
            if found is not None:
                self.results[source_id] = PostingResult("recovered", found.entry_id, found.entry_number)
                return Outcome(kind, source_id, "posted", "found in Exact after an answer was lost",
                               found.entry_id, found.entry_number, lookups=1)
            settle_after = self.claimant.now() + self.policy.settle
            log.warning("%s %s: %s; not found in Exact yet, so it stays in doubt until %s (it is looked up "
                        "again then, never posted blindly)", kind, source_id, doubt, settle_after)
            self.results[source_id] = PostingResult("uncertain", detail=str(doubt), settle_after=settle_after)
            if not settle_later:
                self.pending.append(_Pending(posting, posting.intent.payload, settle_after))
            return Outcome(kind, source_id, "uncertain", str(doubt), lookups=1, settle_after=settle_after)
        self.refused_in_a_row = 0
        self.results[source_id] = PostingResult("posted", created.entry_id, created.entry_number)
        return Outcome(kind, source_id, "posted", "posted", created.entry_id, created.entry_number)

    def _wait_until(self, moment: datetime) -> None:
        while (left := (moment - self.claimant.now()).total_seconds()) > 0:
            self.claimant.ensure_live()
            time.sleep(min(left, WAIT_SLICE))
        self.claimant.ensure_live()
