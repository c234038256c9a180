"""BILL sandbox contract: writing the chart of accounts, departments, locations and accounting classes."""

from __future__ import annotations

import pytest
import requests

from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    TIMEOUT,
    advance_clock,
    all_rows,
    api,
    assert_error,
    login,
)

COA = "/v3/classifications/chart-of-accounts"
DEPARTMENTS = "/v3/classifications/departments"
ACCOUNT_TYPES = ["UNSPECIFIED", "ACCOUNTS_PAYABLE", "ACCOUNTS_RECEIVABLE", "BANK", "COST_OF_GOODS_SOLD",
                 "CREDIT_CARD", "EQUITY", "EXPENSE", "FIXED_ASSET", "INCOME", "LONG_TERM_LIABILITY", "OTHER_ASSET",
                 "OTHER_CURRENT_ASSET", "OTHER_CURRENT_LIABILITY", "OTHER_EXPENSE", "OTHER_INCOME", "NON_POSTING"]


def account(name: str = "Prepaid Expenses", number: str = "1-020", account_type: str = "EXPENSE", **extra) -> dict:
    return {"name": name, "account": {"type": account_type, "number": number}, **extra}


def messages(response: requests.Response) -> str:
    return " ".join(entry["message"] for entry in response.json())


class TestChartOfAccounts:
    def test_create_answers_201_with_the_nested_account(self, sandboxes):
        headers = login(sandboxes)

        response = api(sandboxes, "POST", COA, headers, json=account(description="Prepaid expenses"))

        assert response.status_code == 201
        created = response.json()
        assert created["id"].startswith("0ca")
        assert len(created["id"]) == 20
        assert created["archived"] is False
        assert created["account"] == {"type": "EXPENSE", "number": "1-020"}
        assert created["description"] == "Prepaid expenses"
        assert "parentId" not in created
        assert created["createdTime"] == created["updatedTime"]
        assert api(sandboxes, "GET", f"{COA}/{created['id']}", headers).json() == created
        assert created in all_rows(sandboxes, COA, headers)

    def test_the_v2_field_names_are_refused_with_a_clear_message(self, sandboxes):
        body = {"name": "Old style", "accountNumber": "1-021", "accountType": "EXPENSE"}

        response = api(sandboxes, "POST", COA, login(sandboxes), json=body)

        assert_error(response, 400)
        assert "accountNumber" in messages(response)
        assert "account.number" in messages(response)
        assert "accountType" in messages(response)

    def test_all_17_account_types_are_accepted(self, sandboxes):
        body = [account(f"Type {t}", f"9-{n:03d}", t) for n, t in enumerate(ACCOUNT_TYPES)]

        response = api(sandboxes, "POST", f"{COA}/bulk", login(sandboxes), json=body)

        assert response.status_code == 201
        assert [a["account"]["type"] for a in response.json()["chartOfAccounts"]] == ACCOUNT_TYPES

    @pytest.mark.parametrize("account_type", ["EXPENSES", "expense", "ASSET", ""])
    def test_an_account_type_outside_the_enum_is_a_400(self, sandboxes, account_type):
        response = api(sandboxes, "POST", COA, login(sandboxes), json=account(account_type=account_type))
        assert "account.type" in assert_error(response, 400)["message"]

    @pytest.mark.parametrize("body", [
        {"account": {"type": "EXPENSE", "number": "1"}},
        {"name": "", "account": {"type": "EXPENSE", "number": "1"}},
        {"name": "   ", "account": {"type": "EXPENSE", "number": "1"}},
        {"name": 12, "account": {"type": "EXPENSE", "number": "1"}},
        {"name": "No account"},
        {"name": "No number", "account": {"type": "EXPENSE"}},
        {"name": "Typo", "acount": {"type": "EXPENSE", "number": "1"}},
        {"name": "Bad parent", "parentId": "0ca02SBzzzzzzzzzzzzz", "account": {"type": "EXPENSE", "number": "1"}},
    ])
    def test_an_incomplete_or_wrong_body_is_a_400(self, sandboxes, body):
        assert_error(api(sandboxes, "POST", COA, login(sandboxes), json=body), 400)

    def test_a_body_sent_without_json_content_type_is_a_400(self, sandboxes):
        headers = login(sandboxes)
        response = requests.post(f"{sandboxes.bill_api_url}{COA}", data='{"name": "x"}', headers=headers,
                                 timeout=TIMEOUT)
        assert_error(response, 400)

    def test_a_live_duplicate_account_number_is_refused(self, sandboxes):
        response = api(sandboxes, "POST", COA, login(sandboxes), json=account("Another AP", "1600"))
        assert "1600" in assert_error(response, 400)["message"]

    def test_a_duplicate_name_is_refused_whatever_its_case(self, sandboxes):
        response = api(sandboxes, "POST", COA, login(sandboxes), json=account("accounts payable", "1601"))
        assert "accounts payable" in assert_error(response, 400)["message"]

    def test_an_archived_account_does_not_block_its_number_or_name(self, sandboxes):
        headers = login(sandboxes)
        archived = next(a for a in all_rows(sandboxes, COA, headers) if a["archived"])

        response = api(sandboxes, "POST", COA, headers, json=account(archived["name"], archived["account"]["number"]))

        assert response.status_code == 201

    def test_patch_changes_only_the_fields_sent(self, sandboxes):
        headers = login(sandboxes)
        created = api(sandboxes, "POST", COA, headers, json=account(description="first")).json()
        advance_clock(sandboxes, 5)

        patched = api(sandboxes, "PATCH", f"{COA}/{created['id']}", headers,
                      json={"name": "Prepaid Costs", "account": {"number": "1-030"}}).json()

        assert patched["name"] == "Prepaid Costs"
        assert patched["account"] == {"type": "EXPENSE", "number": "1-030"}
        assert patched["description"] == "first"
        assert patched["createdTime"] == created["createdTime"]
        assert patched["updatedTime"] > created["updatedTime"]

    def test_patch_can_set_and_clear_a_parent(self, sandboxes):
        headers = login(sandboxes)
        parent = api(sandboxes, "POST", COA, headers, json=account("Parent", "7-000")).json()
        child = api(sandboxes, "POST", COA, headers, json=account("Child", "7-001", parentId=parent["id"])).json()

        assert child["parentId"] == parent["id"]
        assert_error(api(sandboxes, "PATCH", f"{COA}/{parent['id']}", headers, json={"parentId": child["id"]}), 400)
        cleared = api(sandboxes, "PATCH", f"{COA}/{child['id']}", headers, json={"parentId": None}).json()
        assert "parentId" not in cleared

    def test_patch_refuses_a_duplicate_and_v2_names(self, sandboxes):
        headers = login(sandboxes)
        created = api(sandboxes, "POST", COA, headers, json=account()).json()

        assert_error(api(sandboxes, "PATCH", f"{COA}/{created['id']}", headers, json={"account": {"number": "1600"}}),
                     400)
        assert_error(api(sandboxes, "PATCH", f"{COA}/{created['id']}", headers, json={"accountNumber": "2"}), 400)
        assert_error(api(sandboxes, "PATCH", f"{COA}/0ca02SBzzzzzzzzzzzzz", headers, json={"name": "x"}), 404,
                     "BDC_1205")

    def test_archive_and_restore_flip_archived_and_repeat_changes_nothing(self, sandboxes):
        headers = login(sandboxes)
        created = api(sandboxes, "POST", COA, headers, json=account()).json()
        advance_clock(sandboxes, 5)

        archived = api(sandboxes, "POST", f"{COA}/{created['id']}/archive", headers).json()
        advance_clock(sandboxes, 5)
        again = api(sandboxes, "POST", f"{COA}/{created['id']}/archive", headers).json()
        restored = api(sandboxes, "POST", f"{COA}/{created['id']}/restore", headers).json()

        assert archived["archived"] is True
        assert archived["updatedTime"] > created["updatedTime"]
        assert again == archived
        assert restored["archived"] is False

    def test_restoring_into_a_live_duplicate_is_refused(self, sandboxes):
        headers = login(sandboxes)
        archived = next(a for a in all_rows(sandboxes, COA, headers) if a["archived"])
        api(sandboxes, "POST", COA, headers, json=account(archived["name"] + " 2", archived["account"]["number"]))

        assert_error(api(sandboxes, "POST", f"{COA}/{archived['id']}/restore", headers), 400)

    def test_bulk_create_takes_up_to_50_and_wraps_them(self, sandboxes):
        headers = login(sandboxes)
        body = [account(f"Bulk {n}", f"8-{n:03d}") for n in range(50)]

        response = api(sandboxes, "POST", f"{COA}/bulk", headers, json=body)

        assert response.status_code == 201
        created = response.json()["chartOfAccounts"]
        assert [a["name"] for a in created] == [f"Bulk {n}" for n in range(50)]
        assert len({a["id"] for a in created}) == 50

    @pytest.mark.parametrize("count", [0, 51])
    def test_bulk_create_outside_1_to_50_is_a_400(self, sandboxes, count):
        body = [account(f"Bulk {n}", f"8-{n:03d}") for n in range(count)]
        assert_error(api(sandboxes, "POST", f"{COA}/bulk", login(sandboxes), json=body), 400)

    def test_bulk_create_is_all_or_nothing(self, sandboxes):
        headers = login(sandboxes)
        before = all_rows(sandboxes, COA, headers)
        body = [account("Fine", "8-001"), account("Bad type", "8-002", "NOPE"), account("Twin", "8-001")]

        response = api(sandboxes, "POST", f"{COA}/bulk", headers, json=body)

        assert_error(response, 400)
        assert "[1]" in messages(response)
        assert "[2]" in messages(response)  # a duplicate inside the batch counts too
        assert all_rows(sandboxes, COA, headers) == before

    def test_bulk_patch_updates_each_listed_record(self, sandboxes):
        headers = login(sandboxes)
        created = api(sandboxes, "POST", f"{COA}/bulk", headers,
                      json=[account("One", "6-001"), account("Two", "6-002")]).json()["chartOfAccounts"]

        response = api(sandboxes, "PATCH", f"{COA}/bulk", headers,
                       json=[{"id": created[0]["id"], "name": "Uno"}, {"id": created[1]["id"], "description": "2"}])

        assert response.status_code == 200
        updated = response.json()["chartOfAccounts"]
        assert [u["name"] for u in updated] == ["Uno", "Two"]
        assert updated[1]["description"] == "2"
        assert_error(api(sandboxes, "PATCH", f"{COA}/bulk", headers, json=[{"name": "no id"}]), 400)

    def test_bulk_archive_and_restore_take_ids_in_the_query(self, sandboxes):
        headers = login(sandboxes)
        created = api(sandboxes, "POST", f"{COA}/bulk", headers,
                      json=[account("One", "6-001"), account("Two", "6-002")]).json()["chartOfAccounts"]
        ids = ",".join(a["id"] for a in created)

        archived = api(sandboxes, "POST", f"{COA}/bulk/archive", headers, params={"ids": ids}).json()
        restored = api(sandboxes, "POST", f"{COA}/bulk/restore", headers, params={"ids": ids}).json()

        assert [a["archived"] for a in archived["chartOfAccounts"]] == [True, True]
        assert [a["archived"] for a in restored["chartOfAccounts"]] == [False, False]
        assert_error(api(sandboxes, "POST", f"{COA}/bulk/archive", headers), 400)


class TestDepartmentsAndOtherClassifications:
    def test_a_department_is_created_updated_archived_and_restored(self, sandboxes):
        headers = login(sandboxes)

        created = api(sandboxes, "POST", DEPARTMENTS, headers, json={"name": "Sales", "shortName": "700"})
        assert created.status_code == 201
        department = created.json()
        assert department["id"].startswith("0de")
        assert department["shortName"] == "700"
        patched = api(sandboxes, "PATCH", f"{DEPARTMENTS}/{department['id']}", headers,
                      json={"description": "Sales team"}).json()
        assert patched["description"] == "Sales team"
        assert api(sandboxes, "POST", f"{DEPARTMENTS}/{department['id']}/archive", headers).json()["archived"]
        assert not api(sandboxes, "POST", f"{DEPARTMENTS}/{department['id']}/restore", headers).json()["archived"]

    @pytest.mark.parametrize("body", [{}, {"name": ""}, {"shortName": "x"}, {"name": "x", "account": {}}])
    def test_a_department_needs_a_name_and_nothing_unknown(self, sandboxes, body):
        assert_error(api(sandboxes, "POST", DEPARTMENTS, login(sandboxes), json=body), 400)

    def test_duplicate_department_names_are_refused_among_live_ones(self, sandboxes):
        headers = login(sandboxes)
        seeded = all_rows(sandboxes, DEPARTMENTS, headers)[0]

        assert_error(api(sandboxes, "POST", DEPARTMENTS, headers, json={"name": seeded["name"].upper()}), 400)
        api(sandboxes, "POST", f"{DEPARTMENTS}/{seeded['id']}/archive", headers)
        assert api(sandboxes, "POST", DEPARTMENTS, headers, json={"name": seeded["name"]}).status_code == 201

    def test_bulk_departments_wrap_in_departments_and_stop_at_50(self, sandboxes):
        headers = login(sandboxes)

        response = api(sandboxes, "POST", f"{DEPARTMENTS}/bulk", headers, json=[{"name": f"D{n}"} for n in range(50)])

        assert response.status_code == 201
        assert len(response.json()["departments"]) == 50
        assert_error(api(sandboxes, "POST", f"{DEPARTMENTS}/bulk", headers,
                         json=[{"name": f"E{n}"} for n in range(51)]), 400)

    @pytest.mark.parametrize(("path", "prefix", "key"), [
        ("/v3/classifications/locations", "loc", "locations"),
        ("/v3/classifications/accounting-classes", "cls", "accountingClasses"),
    ])
    def test_locations_and_accounting_classes_work_like_departments(self, sandboxes, path, prefix, key):
        headers = login(sandboxes)

        single = api(sandboxes, "POST", path, headers, json={"name": "Portland"}).json()
        bulk = api(sandboxes, "POST", f"{path}/bulk", headers, json=[{"name": "Seattle"}]).json()

        assert single["id"].startswith(prefix)
        assert [row["name"] for row in bulk[key]] == ["Seattle"]
        assert [row["name"] for row in all_rows(sandboxes, path, headers)] == ["Portland", "Seattle"]
