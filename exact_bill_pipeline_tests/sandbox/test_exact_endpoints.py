"""Contract tests of the Exact sandbox's endpoints: current/Me, division access, and the seeded reference data."""

from __future__ import annotations

import re

import pytest

from exact_bill_pipeline.sandbox.seed import FIRM_NAME
from exact_bill_pipeline_tests.sandbox.exact_helpers import GUID, odata_message, onboard


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def test_me_is_a_one_element_results_list_and_works_without_select(client, sandboxes):
    response = client.get(f"{sandboxes.exact_url}/api/v1/current/Me")
    assert response.status_code == 200
    results = response.json()["d"]["results"]
    assert len(results) == 1
    me = results[0]
    assert me["CurrentDivision"] == sandboxes.settings.exact.division
    assert me["DivisionCustomerName"] == FIRM_NAME
    assert GUID.match(me["UserID"])
    assert re.fullmatch(r"/Date\(\d{13}\)/", me["ServerTime"])
    assert me["__metadata"]["uri"] == f"{sandboxes.exact_url}/api/v1/current/Me(guid'{me['UserID']}')"
    for name in ("FullName", "Email", "UserName", "LanguageCode", "Legislation", "ServerUtcOffset"):
        assert name in me
    selected = client.get(f"{sandboxes.exact_url}/api/v1/current/Me", {"$select": "CurrentDivision"}).json()
    assert set(selected["d"]["results"][0]) == {"__metadata", "CurrentDivision"}


def test_another_division_is_403_no_division_access(client, sandboxes):
    url = f"{sandboxes.exact_url}/api/v1/999999/financial/GLAccounts"
    response = client.get(url, {"$select": "ID", "$filter": "Code eq '1600'"})
    assert response.status_code == 403
    assert response.headers["Reason"] == "NoDivisionAccess"
    assert "999999" in odata_message(response)


def test_unknown_paths_under_the_api_are_404_odata_errors(client, sandboxes):
    for url in (f"{client.root}/financial/Nothing", f"{sandboxes.exact_url}/api/v1/current/financial/GLAccounts",
                f"{sandboxes.exact_url}/api/v1/abc/financial/GLAccounts", f"{sandboxes.exact_url}/api/v2/x"):
        response = client.get(url, {"$select": "ID"})
        assert response.status_code == 404, url
        assert odata_message(response).startswith("Resource not found for the segment")


def test_unsupported_methods_are_405(client):
    assert client.post("financial/GLAccounts", {"Code": "1234", "Description": "x"}).status_code == 405
    put = client.session.put(f"{client.root}/crm/Accounts(guid'00000000-0000-4000-8000-000000000000')",
                             json={"Name": "x"}, headers=client.headers(), timeout=10)
    assert put.status_code == 405


def test_cost_centers_and_units_live_under_hrm_with_their_end_dates(client):
    centers = {r["Code"]: r for r in client.results("hrm/Costcenters", {"$select": "ID,Code,Description,EndDate"})}
    assert set(centers) == {"100", "200", "300", "400", "500", "050"}
    assert centers["100"]["EndDate"] is None
    assert centers["050"]["EndDate"].startswith("/Date(")
    units = {r["Code"] for r in client.results("hrm/Costunits", {"$select": "Code"})}
    assert units == {"A1", "B1", "C1"}


def test_journals_and_financial_periods(client, sandboxes):
    journals = {r["Code"]: r for r in client.results("financial/Journals", {"$select": "Code,Type,GLAccountCode"})}
    assert {code: j["Type"] for code, j in journals.items()} == {"10": 10, "20": 12, "60": 22, "70": 20, "90": 90}
    assert journals["20"]["GLAccountCode"] == "1100"
    year = sandboxes.settings.anchor.year
    periods = client.results("financial/FinancialPeriods", {"$select": "FinYear,FinPeriod,StartDate,EndDate",
                                                            "$filter": f"FinYear eq {year}"})
    assert sorted(p["FinPeriod"] for p in periods) == list(range(1, 13))


def test_transaction_lines_hold_the_entries_typed_in_by_hand(client):
    rows = client.results("financialtransaction/TransactionLines", {
        "$select": "EntryNumber,LineNumber,GLAccountCode,AmountDC,Status,Type,YourRef,Account",
        "$filter": "JournalCode eq '60'"})
    assert len(rows) == 10
    assert {r["Status"] for r in rows} == {50}
    assert {r["Type"] for r in rows} == {30}
    assert all(r["YourRef"].startswith("MANUAL-") and GUID.match(r["Account"]) for r in rows)
    assert {r["GLAccountCode"] for r in rows if r["LineNumber"] == 0} == {"1600"}
    assert round(sum(r["AmountDC"] for r in rows), 2) == 0


def test_purchase_orders_carry_their_lines(client):
    orders = client.results("purchaseorder/PurchaseOrders", {
        "$select": "PurchaseOrderID,OrderNumber,Supplier,OrderStatus,AmountDC,PurchaseOrderLines",
        "$filter": "OrderNumber ge 20001", "$expand": "PurchaseOrderLines"})
    assert sorted(o["OrderNumber"] for o in orders) == list(range(20001, 20007))
    for order in orders:
        lines = order["PurchaseOrderLines"]["results"]
        assert round(sum(line["AmountDC"] for line in lines), 2) == order["AmountDC"]


def test_suppliers_include_near_duplicates_and_a_blocked_one(client):
    rows = [r for page in client.all_pages("crm/Accounts", {
        "$select": "Name,IsSupplier,Blocked", "$filter": "IsSupplier eq true"}) for r in page]
    names = {r["Name"] for r in rows}
    assert {"Summit Print Co.", "SUMMIT PRINT CO", "Coastal IT Support", "Coastal I.T. Support"} <= names
    assert [r["Name"] for r in rows if r["Blocked"]] == ["Echo Valley Water"]
