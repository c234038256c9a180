"""Reconciliations against Exact: what each read and spent, and the findings of the latest one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.domain.reconciliation import Finding
from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.state.claims import aware
from exact_bill_pipeline.state.rows import IN_LIST_SIZE
from exact_bill_pipeline.state.schema import reconciliation_findings, reconciliations


@dataclass(frozen=True)
class ReconciliationRun:
    id: int
    started_at: datetime
    finished_at: datetime
    full_read: bool
    lines_read: int
    deletions_read: int
    exact_calls: int
    documents: int
    expected: int
    entries_in_scope: int
    counts: dict[str, int]


def save(conn: sa.Connection, run: dict[str, Any], findings: list[Finding]) -> int:
    """Records a reconciliation and its findings; the findings of earlier ones are dropped (the runs stay)."""
    values = {**run, "counts": json.dumps(run["counts"], sort_keys=True)}
    run_id = conn.execute(sa.insert(reconciliations).values(**values).returning(reconciliations.c.id)).scalar_one()
    conn.execute(sa.delete(reconciliation_findings).where(reconciliation_findings.c.reconciliation_id != run_id))
    rows = [_row(run_id, f) for f in findings]
    for chunk in batched(rows, IN_LIST_SIZE):
        conn.execute(sa.insert(reconciliation_findings), chunk)
    return run_id


def latest(conn: sa.Connection) -> ReconciliationRun | None:
    row = conn.execute(sa.select(reconciliations).order_by(reconciliations.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    values = dict(row)
    return ReconciliationRun(**{**values, "counts": json.loads(values["counts"]),
                                "started_at": aware(values["started_at"]),
                                "finished_at": aware(values["finished_at"])})


def findings(conn: sa.Connection, run_id: int, kinds: Sequence[str] | None = None,
             limit: int | None = None) -> list[Finding]:
    """The findings of one reconciliation (of some kinds), documents first, in the order they were found."""
    table = reconciliation_findings
    query = sa.select(table).where(table.c.reconciliation_id == run_id).order_by(table.c.id)
    if kinds:
        query = query.where(table.c.kind.in_(list(kinds)))
    if limit is not None:
        query = query.limit(limit)
    return [_finding(row) for row in conn.execute(query).mappings()]


def _row(run_id: int, finding: Finding) -> dict[str, Any]:
    return {"reconciliation_id": run_id, "kind": finding.kind, "source_kind": finding.source_kind,
            "source_id": finding.source_id, "vendor": finding.vendor, "invoice": finding.invoice,
            "day": finding.day, "bill_amount": finding.bill_amount, "exact_amount": finding.exact_amount,
            "entries": ",".join(str(n) for n in finding.entries), "detail": finding.detail,
            "differences": json.dumps(finding.differences) if finding.differences else None}


def _finding(row: Any) -> Finding:
    return Finding(kind=row["kind"], source_kind=row["source_kind"], source_id=row["source_id"], vendor=row["vendor"],
                   invoice=row["invoice"], day=row["day"], bill_amount=row["bill_amount"],
                   exact_amount=row["exact_amount"],
                   entries=tuple(int(n) for n in (row["entries"] or "").split(",") if n),
                   detail=row["detail"], differences=json.loads(row["differences"]) if row["differences"] else {})
