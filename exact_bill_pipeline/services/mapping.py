"""Keeping BILL's chart of accounts and departments in line with Exact, and the mapping table with both."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.domain.mapping import (
    BillAccount,
    BillDepartment,
    ExactAccount,
    ExactCostCenter,
    MappingPlan,
    MappingRow,
    plan_mapping,
)
from exact_bill_pipeline.services.reference import stored_cost_centers, stored_gl_accounts
from exact_bill_pipeline.state import mappings
from exact_bill_pipeline.state.db import StateStore


@dataclass
class MappingReport:
    bill_accounts_read: int = 0
    bill_departments_read: int = 0
    accounts_created: list[str] = field(default_factory=list)
    departments_created: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    mapped: int = 0
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    changed: list[MappingRow] = field(default_factory=list)
    plan: MappingPlan | None = None

    @property
    def writes(self) -> int:
        return len(self.accounts_created) + len(self.departments_created) + len(self.archived)


def current_plan(bill: BillApi, store: StateStore) -> tuple[MappingPlan, int, int]:
    exact_accounts = [ExactAccount(r["id"], r["code"], r["description"] or r["code"], r["type"], r["balance_type"],
                                   r["is_blocked"], r["use_costcenter"]) for r in stored_gl_accounts(store).rows]
    centers = [ExactCostCenter(r["id"], r["code"], r["description"] or r["code"], r["active"])
               for r in stored_cost_centers(store).rows]
    bill_accounts = [BillAccount(a.id, a.name, a.account.number, a.account.type, a.archived)
                     for a in bill.chart_of_accounts()]
    departments = [BillDepartment(d.id, d.name, d.short_name, d.archived) for d in bill.departments()]
    with store.transaction() as conn:
        overrides = mappings.overrides(conn)
    plan = plan_mapping(exact_accounts, centers, bill_accounts, departments, overrides)
    return plan, len(bill_accounts), len(departments)


def sync_mapping(bill: BillApi, store: StateStore, *, actor: str, dry_run: bool = False) -> MappingReport:
    """Creates in BILL what Exact has and BILL lacks, archives what Exact blocked, and stores the mapping.

    A rerun finds nothing to create or archive and an unchanged mapping: it writes nothing.
    """
    plan, accounts_read, departments_read = current_plan(bill, store)
    report = MappingReport(accounts_read, departments_read, plan=plan)
    rows = list(plan.rows)
    if not dry_run:
        rows += _create(bill, plan, report)
        for row in plan.archives:
            if row.kind == "account":
                bill.archive_chart_account(row.bill_id)
            else:
                bill.archive_department(row.bill_id)
            report.archived.append(f"{row.kind} {row.bill_label} (Exact {row.exact_code} is blocked or ended)")
        with store.transaction() as conn:
            report.changed = mappings.replace_mapping(conn, rows, actor=actor)
    report.mapped = sum(row.status == "mapped" for row in rows)
    report.unmapped = [{"kind": r.kind, "bill": r.bill_label, "status": r.status, "exact_code": r.exact_code or ""}
                       for r in rows if r.status != "mapped"]
    return report


def _create(bill: BillApi, plan: MappingPlan, report: MappingReport) -> list[MappingRow]:
    """Creates what BILL lacks; the rows say "code" as the next run will find them by number."""
    rows: list[MappingRow] = []
    accounts = [c for c in plan.creations if c.kind == "account"]
    if accounts:
        created = bill.create_chart_accounts([c.payload for c in accounts])
        for creation, record in zip(accounts, created, strict=True):
            rows.append(MappingRow("account", record.id, f"{creation.exact_code} {record.name}", creation.exact_id,
                                   creation.exact_code, "code", "mapped"))
            report.accounts_created.append(f"{creation.exact_code} {record.name}")
    departments = [c for c in plan.creations if c.kind == "department"]
    if departments:
        created_departments = bill.create_departments([c.payload for c in departments])
        for creation, record in zip(departments, created_departments, strict=True):
            rows.append(MappingRow("department", record.id, f"{creation.exact_code} {record.name}",
                                   creation.exact_id, creation.exact_code, "code", "mapped"))
            report.departments_created.append(f"{creation.exact_code} {record.name}")
    return rows
