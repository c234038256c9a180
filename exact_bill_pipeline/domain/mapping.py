"""The mapping between Exact's GL accounts and cost centers and BILL's chart of accounts and departments.

``plan_mapping`` decides, from both sides' current data and the user's overrides, which BILL record maps to
which Exact record, what BILL lacks and must get, and what BILL still offers although Exact blocked it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from exact_bill_pipeline.domain.names import normalize_name

Kind = Literal["account", "department"]
Source = Literal["code", "name", "override"]
Status = Literal["mapped", "unmapped", "blocked"]

# Exact GL account types (api-reference §5.1) that bills may be coded to, with BILL's account type.
REVENUE_TYPES = frozenset({110, 140, 150})
BALANCE_TYPES_FOR_BILLS: dict[int, str] = {26: "OTHER_CURRENT_ASSET", 30: "FIXED_ASSET", 32: "OTHER_ASSET",
                                           40: "OTHER_CURRENT_ASSET"}
COST_TYPE_OVERRIDES: dict[int, str] = {111: "COST_OF_GOODS_SOLD", 130: "OTHER_EXPENSE"}


@dataclass(frozen=True)
class ExactAccount:
    id: str
    code: str
    description: str
    type: int | None
    balance_type: str | None
    blocked: bool = False
    use_costcenter: int | None = None


@dataclass(frozen=True)
class ExactCostCenter:
    id: str
    code: str
    description: str
    active: bool = True


@dataclass(frozen=True)
class BillAccount:
    id: str
    name: str
    number: str | None
    type: str | None = None
    archived: bool = False


@dataclass(frozen=True)
class BillDepartment:
    id: str
    name: str
    short_name: str | None = None
    archived: bool = False


@dataclass(frozen=True)
class Override:
    """A person's decision: this BILL record (by ID, number or short name) is that Exact code."""

    kind: Kind
    bill_key: str
    exact_code: str


@dataclass(frozen=True)
class MappingRow:
    kind: Kind
    bill_id: str
    bill_label: str
    exact_id: str | None
    exact_code: str | None
    source: Source | None
    status: Status


@dataclass(frozen=True)
class Creation:
    """A record BILL lacks: its payload, and the Exact record it will map to."""

    kind: Kind
    payload: dict[str, object]
    exact_id: str
    exact_code: str


@dataclass
class MappingPlan:
    rows: list[MappingRow] = field(default_factory=list)
    creations: list[Creation] = field(default_factory=list)
    archives: list[MappingRow] = field(default_factory=list)

    @property
    def unmapped(self) -> list[MappingRow]:
        return [row for row in self.rows if row.status != "mapped"]


def bill_account_type(account: ExactAccount) -> str | None:
    """BILL's account type for an Exact account bills may use, or None when bills may not use it."""
    if account.balance_type == "W":
        if account.type in REVENUE_TYPES:
            return None
        return COST_TYPE_OVERRIDES.get(account.type or 0, "EXPENSE")
    return BALANCE_TYPES_FOR_BILLS.get(account.type or 0)


def plan_mapping(
    exact_accounts: Iterable[ExactAccount],
    cost_centers: Iterable[ExactCostCenter],
    bill_accounts: Iterable[BillAccount],
    bill_departments: Iterable[BillDepartment],
    overrides: Iterable[Override] = (),
) -> MappingPlan:
    plan = MappingPlan()
    _plan_accounts(plan, list(exact_accounts), list(bill_accounts), [o for o in overrides if o.kind == "account"])
    _plan_departments(plan, list(cost_centers), list(bill_departments),
                      [o for o in overrides if o.kind == "department"])
    return plan


def _plan_accounts(plan: MappingPlan, exact: list[ExactAccount], bill: list[BillAccount],
                   overrides: list[Override]) -> None:
    by_code = {a.code.strip(): a for a in exact}
    override_for = {o.bill_key.strip(): o.exact_code.strip() for o in overrides}
    for account in bill:
        number = (account.number or "").strip()
        label = f"{number} {account.name}".strip()
        source: Source | None = "override"
        code = override_for.get(account.id) or override_for.get(number)
        if code is None and number in by_code:
            code, source = number, "code"
        target = by_code.get(code) if code else None
        if target is None:
            plan.rows.append(MappingRow("account", account.id, label, None, code, None, "unmapped"))
            continue
        row = MappingRow("account", account.id, label, target.id, target.code, source,
                         "blocked" if target.blocked else "mapped")
        plan.rows.append(row)
        if target.blocked and not account.archived:
            plan.archives.append(row)
    numbers_in_bill = {(a.number or "").strip() for a in bill}
    names_in_bill = {a.name.strip().lower() for a in bill if not a.archived}
    for account in sorted(exact, key=lambda a: a.code):
        bill_type = bill_account_type(account)
        if account.blocked or bill_type is None or account.code.strip() in numbers_in_bill:
            continue
        name = _unique_name(account.description or account.code, account.code, names_in_bill)
        payload = {"name": name, "description": account.description or name,
                   "account": {"type": bill_type, "number": account.code.strip()}}
        plan.creations.append(Creation("account", payload, account.id, account.code.strip()))


def _plan_departments(plan: MappingPlan, centers: list[ExactCostCenter], bill: list[BillDepartment],
                      overrides: list[Override]) -> None:
    by_code = {c.code.strip(): c for c in centers}
    by_name = {normalize_name(c.description): c for c in centers}
    override_for = {o.bill_key.strip(): o.exact_code.strip() for o in overrides}
    mapped_codes: set[str] = set()
    for department in bill:
        short = (department.short_name or "").strip()
        label = f"{short} {department.name}".strip()
        target: ExactCostCenter | None = None
        source: Source | None = None
        code = override_for.get(department.id) or (override_for.get(short) if short else None)
        if code is not None:
            target, source = by_code.get(code), "override"
        elif short in by_code:
            target, source = by_code[short], "code"
        elif normalize_name(department.name) in by_name:
            target, source = by_name[normalize_name(department.name)], "name"
        if target is None:
            plan.rows.append(MappingRow("department", department.id, label, None, code, None, "unmapped"))
            continue
        mapped_codes.add(target.code.strip())
        row = MappingRow("department", department.id, label, target.id, target.code, source,
                         "mapped" if target.active else "blocked")
        plan.rows.append(row)
        if not target.active and not department.archived:
            plan.archives.append(row)
    names_in_bill = {d.name.strip().lower() for d in bill if not d.archived}
    for center in sorted(centers, key=lambda c: c.code):
        if not center.active or center.code.strip() in mapped_codes:
            continue
        name = _unique_name(center.description or center.code, center.code, names_in_bill)
        payload = {"name": name, "shortName": center.code.strip(), "description": center.description or name}
        plan.creations.append(Creation("department", payload, center.id, center.code.strip()))


def _unique_name(name: str, code: str, taken: set[str]) -> str:
    """BILL refuses duplicate names, so a taken name gets its code appended."""
    candidate = name.strip()
    if candidate.lower() in taken:
        candidate = f"{candidate} ({code.strip()})"
    taken.add(candidate.lower())
    return candidate
