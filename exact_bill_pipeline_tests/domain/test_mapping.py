"""The mapping plan: what maps to what, what BILL must get, what it must archive; reruns plan nothing."""

from __future__ import annotations

from exact_bill_pipeline.domain.mapping import (
    BillAccount,
    BillDepartment,
    ExactAccount,
    ExactCostCenter,
    Override,
    plan_mapping,
)

EXACT = [
    ExactAccount("g-ap", "1600", "Accounts payable", 22, "B"),
    ExactAccount("g-prepaid", "1400", "Prepaid expenses", 26, "B"),
    ExactAccount("g-travel", "4130", "Travel Consulting", 121, "W", use_costcenter=1),
    ExactAccount("g-office", "4640", "Office supplies", 121, "W"),
    ExactAccount("g-books", "4960", "Books and publications", 121, "W"),
    ExactAccount("g-rev", "8010", "Revenue Consulting", 110, "W"),
    ExactAccount("g-old", "4990", "Travel (old, do not use)", 121, "W", blocked=True),
]
CENTERS = [ExactCostCenter("c-100", "100", "Consulting"), ExactCostCenter("c-200", "200", "Engineering"),
           ExactCostCenter("c-050", "050", "Legacy Ventures", active=False)]
BILL = [
    BillAccount("b-ap", "Accounts Payable", "1600", "ACCOUNTS_PAYABLE"),
    BillAccount("b-travel", "Travel & Lodging - Consulting", "4130", "EXPENSE"),
    BillAccount("b-stationery", "Stationery", "6500", "EXPENSE"),
    BillAccount("b-conf", "Conference fees", "4995", "EXPENSE"),
    BillAccount("b-oldtravel", "Old Travel", "4990", "EXPENSE"),
    BillAccount("b-books-name", "Books and publications", "9999", "EXPENSE"),
]
DEPARTMENTS = [BillDepartment("d-100", "Consulting", "100"), BillDepartment("d-eng", "engineering"),
               BillDepartment("d-600", "Research Lab", "600"), BillDepartment("d-050", "Legacy", "050")]


def rows_by_id(plan):
    return {row.bill_id: row for row in plan.rows}


def test_bill_accounts_map_by_number_whatever_their_names():
    rows = rows_by_id(plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS))
    travel = rows["b-travel"]
    assert (travel.exact_id, travel.source, travel.status) == ("g-travel", "code", "mapped")
    assert rows["b-ap"].exact_code == "1600"


def test_accounts_exact_lacks_and_old_numbers_stay_unmapped_until_overridden():
    plan = plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS)
    assert {r.bill_id for r in plan.unmapped} >= {"b-stationery", "b-conf", "d-600"}
    overridden = rows_by_id(plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS,
                                         [Override("account", "6500", "4640")]))
    assert (overridden["b-stationery"].exact_id, overridden["b-stationery"].source) == ("g-office", "override")


def test_an_account_exact_blocked_is_archived_in_bill_and_not_mapped():
    plan = plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS)
    assert rows_by_id(plan)["b-oldtravel"].status == "blocked"
    assert [r.bill_id for r in plan.archives if r.kind == "account"] == ["b-oldtravel"]


def test_bill_gets_the_expense_and_usable_balance_accounts_it_lacks_with_exact_code_and_description():
    plan = plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS)
    created = {c.exact_code: c.payload for c in plan.creations if c.kind == "account"}
    assert set(created) == {"1400", "4640", "4960"}  # not revenue, not AP (in BILL), not blocked
    assert created["1400"] == {"name": "Prepaid expenses", "description": "Prepaid expenses",
                               "account": {"type": "OTHER_CURRENT_ASSET", "number": "1400"}}
    # BILL already uses the name "Books and publications" (under another number): the code disambiguates.
    assert created["4960"]["name"] == "Books and publications (4960)"


def test_departments_map_by_short_name_then_name_and_missing_cost_centers_are_created():
    plan = plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS)
    rows = rows_by_id(plan)
    assert (rows["d-100"].exact_code, rows["d-100"].source) == ("100", "code")
    assert (rows["d-eng"].exact_code, rows["d-eng"].source) == ("200", "name")
    assert rows["d-050"].status == "blocked"
    assert [c.payload for c in plan.creations if c.kind == "department"] == []


def test_a_second_plan_after_applying_the_first_creates_nothing():
    first = plan_mapping(EXACT, CENTERS, BILL, DEPARTMENTS)
    created = [BillAccount(f"new-{c.exact_code}", str(c.payload["name"]), c.exact_code, "EXPENSE")
               for c in first.creations if c.kind == "account"]
    archived = {r.bill_id for r in first.archives}
    bill_after = [BillAccount(a.id, a.name, a.number, a.type, a.id in archived or a.archived) for a in BILL] + created
    departments_after = [BillDepartment(d.id, d.name, d.short_name, d.id in archived) for d in DEPARTMENTS]
    second = plan_mapping(EXACT, CENTERS, bill_after, departments_after)
    assert second.creations == []
    assert second.archives == []
