"""Replaying the failure queue: post again what waits, once the mapping, a supplier or Exact allows it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.payments import PaymentSettings
from exact_bill_pipeline.domain.postings import PostingSettings
from exact_bill_pipeline.services import bills, payments, vendor_credits
from exact_bill_pipeline.services.exactly_once import DoubtPolicy
from exact_bill_pipeline.services.outside import OUTSIDE_PARTITIONS
from exact_bill_pipeline.state.claims import Claimant, claimed
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureItem, FailureQueue

# A changed-after-posting item is a person's job in Exact, and one outside the partitions waits for a backfill
# of its day: replaying either would change nothing.
NOT_REPLAYABLE = frozenset({"changed_after_posting", OUTSIDE_PARTITIONS})


@dataclass
class ReplayReport:
    days: dict[str, dict[str, int]] = field(default_factory=dict)
    still_open: int = 0

    @property
    def posted(self) -> int:
        return sum(day.get("posted", 0) + day.get("recovered", 0) for day in self.days.values())

    @property
    def payments_posted(self) -> int:
        return sum(day.get("payments_posted", 0) for day in self.days.values())

    def days_posted(self, kind: str) -> list[str]:
        """The days on which this replay put a bill (or payment) in Exact."""
        keys = {"bill": ("posted", "recovered"), "vendor_credit": ("credits_posted",)}.get(kind, ("payments_posted",))
        return sorted(day for day, counts in self.days.items() if any(counts.get(key) for key in keys))


def replayable(queue: FailureQueue, ids: list[int] | None = None) -> list[FailureItem]:
    items = [queue.get(i) for i in ids] if ids else queue.items(status="open")
    return [i for i in items if i.status in {"open", "released"} and i.reason_code not in NOT_REPLAYABLE
            and i.source_kind in {"bill", "vendor_credit", "payment"}]


def affected_days(store: StateStore) -> list[str]:
    """The days with bills or payments that a replay could post now."""
    return sorted({item.partition_date for item in replayable(FailureQueue(store))})


def replay(exact: ExactApi, store: StateStore, posting: PostingSettings, payment: PaymentSettings, *, actor: str,
           ids: list[int] | None = None, claimant: Claimant | None = None,
           policy: DoubtPolicy | None = None) -> ReplayReport:
    """Posts the open items again (all, or those with ``ids``), bills before the payments that wait on them.

    It posts through the same claims as every run, so a replay next to a running backfill posts nothing twice.
    """
    with claimed(store, actor, claimant) as holder:
        return _replay(exact, store, posting, payment, actor=actor, ids=ids, claimant=holder, policy=policy)


def _replay(exact: ExactApi, store: StateStore, posting: PostingSettings, payment: PaymentSettings, *, actor: str,
            ids: list[int] | None, claimant: Claimant | None, policy: DoubtPolicy | None) -> ReplayReport:
    queue = FailureQueue(store)
    by_day: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"bill": set(), "vendor_credit": set(),
                                                                  "payment": set()})
    for item in replayable(queue, ids):
        by_day[item.partition_date][item.source_kind].add(item.source_id)
    report = ReplayReport()
    for day, sources in sorted(by_day.items()):
        counts = report.days.setdefault(day, {})
        if sources["bill"]:
            posted = bills.post_bills(exact, store, [day], posting, actor=actor, only=sources["bill"],
                                      claimant=claimant, policy=policy)
            counts["posted"] = posted.posted
            counts["recovered"] = posted.recovered
            counts["still_failing"] = sum(posted.queued.values())
        if sources["vendor_credit"]:
            credited = vendor_credits.post_vendor_credits(exact, store, [day], posting, actor=actor,
                                                          only=sources["vendor_credit"], claimant=claimant,
                                                          policy=policy)
            counts["credits_posted"] = credited.posted + credited.recovered
    # Payments wait on bills and credits of any day, so they are retried after all of those.
    for day, sources in sorted(by_day.items()):
        if sources["payment"]:
            paid = payments.post_payments(exact, store, [day], payment, actor=actor, only=sources["payment"],
                                          claimant=claimant, policy=policy)
            report.days[day]["payments_posted"] = paid.posted
    report.still_open = len(replayable(queue, ids))
    return report
