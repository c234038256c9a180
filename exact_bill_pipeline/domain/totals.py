"""Reconciling what was posted to Exact with what BILL says, per partition."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from exact_bill_pipeline.domain.postings import money


@dataclass(frozen=True)
class TotalsCheck:
    partition: str
    posted_total: Decimal
    bill_total: Decimal
    differences: list[dict[str, str]]

    @property
    def passed(self) -> bool:
        return not self.differences


def reconcile(partition: str, posted: Mapping[str, Decimal], bill_amounts: Mapping[str, Decimal]) -> TotalsCheck:
    """Posted amounts per bill against BILL's amounts for the same bills; names every bill that differs."""
    differences = [
        {"bill_id": bill_id, "posted": str(amount), "in_bill": str(bill_amounts.get(bill_id, "missing"))}
        for bill_id, amount in sorted(posted.items())
        if bill_amounts.get(bill_id) != amount
    ]
    return TotalsCheck(partition, _sum(posted.values()), _sum(bill_amounts[b] for b in posted if b in bill_amounts),
                       differences)


def _sum(values: Iterable[Decimal]) -> Decimal:
    return money(sum(values, Decimal(0)))
