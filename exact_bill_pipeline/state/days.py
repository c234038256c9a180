"""What each day holds: its bills (or payments) in BILL, posted, waiting by reason, in doubt, and a preview."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.state.rows import IN_LIST_SIZE
from exact_bill_pipeline.state.schema import bill_snapshots, failure_queue, posting_ledger

PREVIEW_PER_DAY = 10
IN_DOUBT = ("posting", "uncertain")


@dataclass
class DaySummary:
    """One day's partition as a person reads it: counts, amounts and the first few documents with their fate."""

    day: str
    in_bill: int = 0
    amount_in_bill: Decimal = Decimal(0)
    posted: int = 0
    amount_posted: Decimal = Decimal(0)
    posted_by_this_run: int = 0
    in_doubt: int = 0
    waiting: Counter[str] = field(default_factory=Counter)
    preview: list[dict[str, Any]] = field(default_factory=list)


def day_summaries(conn: sa.Connection, kind: str, days: list[str], *, run_id: str) -> dict[str, DaySummary]:
    """Each day's summary, in a few grouped queries whatever the number of days."""
    summaries = {day: DaySummary(day) for day in days}
    for chunk in batched(sorted(summaries), IN_LIST_SIZE):
        _count_bill_side(conn, kind, chunk, summaries)
        _count_ledger(conn, kind, chunk, run_id, summaries)
        _count_queue(conn, kind, chunk, summaries)
    for summary in summaries.values():
        summary.preview = _preview(conn, kind, summary.day)
    return summaries


def _count_bill_side(conn: sa.Connection, kind: str, days: list[str], out: dict[str, DaySummary]) -> None:
    query = (sa.select(bill_snapshots.c.partition_date, sa.func.count(), sa.func.sum(bill_snapshots.c.amount))
             .where(bill_snapshots.c.source_kind == kind, bill_snapshots.c.partition_date.in_(days))
             .group_by(bill_snapshots.c.partition_date))
    for day, count, amount in conn.execute(query):
        out[day].in_bill, out[day].amount_in_bill = count, Decimal(amount or 0)


def _count_ledger(conn: sa.Connection, kind: str, days: list[str], run_id: str, out: dict[str, DaySummary]) -> None:
    ledger = posting_ledger.c
    query = (sa.select(ledger.partition_date, ledger.state, ledger.run_id == run_id, sa.func.count(),
                       sa.func.sum(ledger.amount))
             .where(ledger.source_kind == kind, ledger.partition_date.in_(days))
             .group_by(ledger.partition_date, ledger.state, ledger.run_id == run_id))
    for day, state, by_this_run, count, amount in conn.execute(query):
        summary = out[day]
        if state == "posted":
            summary.posted += count
            summary.amount_posted += Decimal(amount or 0)
            summary.posted_by_this_run += count if by_this_run else 0
        elif state in IN_DOUBT:
            summary.in_doubt += count


def _count_queue(conn: sa.Connection, kind: str, days: list[str], out: dict[str, DaySummary]) -> None:
    queue = failure_queue.c
    query = (sa.select(queue.partition_date, queue.reason_code, sa.func.count())
             .where(queue.source_kind == kind, queue.status == "open", queue.partition_date.in_(days))
             .group_by(queue.partition_date, queue.reason_code))
    for day, reason, count in conn.execute(query):
        out[day].waiting[reason] = count


def _preview(conn: sa.Connection, kind: str, day: str) -> list[dict[str, Any]]:
    """The day's first documents and what became of each: its Exact entry, why it waits, or its status."""
    snapshot, ledger, queue = bill_snapshots.c, posting_ledger.c, failure_queue.c
    query = (sa.select(snapshot.source_id, snapshot.amount, snapshot.status, snapshot.snapshot, ledger.state,
                       ledger.entry_number, queue.reason_code, queue.status.label("queue_status"))
             .select_from(bill_snapshots
                          .outerjoin(posting_ledger, sa.and_(ledger.source_kind == snapshot.source_kind,
                                                             ledger.source_id == snapshot.source_id))
                          .outerjoin(failure_queue, sa.and_(queue.source_kind == snapshot.source_kind,
                                                            queue.source_id == snapshot.source_id)))
             .where(snapshot.source_kind == kind, snapshot.partition_date == day)
             .order_by(snapshot.source_id).limit(PREVIEW_PER_DAY))
    return [_row(kind, row) for row in conn.execute(query).mappings()]


def _row(kind: str, row: Any) -> dict[str, Any]:
    data = json.loads(row["snapshot"])
    if row["state"] == "posted":
        fate = f"posted as entry {row['entry_number']}"
    elif row["queue_status"] == "open":
        fate = f"waiting: {row['reason_code']}"
    elif row["state"] in IN_DOUBT:
        fate = "in doubt: looked up before it is posted again"
    else:
        fate = f"not posted ({row['status'] or 'no status'})"
    who = data.get("vendorName") or (data.get("vendor") or {}).get("name") or ""
    invoice = (data.get("invoice") or {}).get("invoiceNumber", "") if kind == "bill" else ""
    return {kind: row["source_id"], "vendor": who, "invoice": invoice, "amount": f"{Decimal(row['amount']):.2f}",
            "fate": fate}
