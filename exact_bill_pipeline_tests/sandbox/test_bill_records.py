"""BILL sandbox contract: record shapes, ids, get-by-id and the 404s."""

from __future__ import annotations

import re

import pytest

from exact_bill_pipeline_tests.sandbox.bill_helpers import all_rows, api, assert_error, login, page

PREFIXES = {"/v3/bills": "00n", "/v3/vendors": "009", "/v3/payments": "stp", "/v3/vendor-credits": "vcr",
            "/v3/classifications/chart-of-accounts": "0ca", "/v3/classifications/departments": "0de"}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def nulls(value: object, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in nulls(item, f"{path}[{n}]")]
    return []


@pytest.mark.parametrize(("path", "prefix"), PREFIXES.items())
def test_every_record_has_a_20_character_id_with_its_prefix_and_no_nulls(sandboxes, path, prefix):
    rows = all_rows(sandboxes, path, login(sandboxes))

    assert rows
    for row in rows:
        assert len(row["id"]) == 20
        assert row["id"].startswith(prefix)
        assert TIMESTAMP.fullmatch(row["createdTime"])
        assert TIMESTAMP.fullmatch(row["updatedTime"])
        assert nulls(row) == []


@pytest.mark.parametrize("path", PREFIXES)
def test_get_by_id_returns_the_listed_record(sandboxes, path):
    headers = login(sandboxes)
    listed = page(sandboxes, path, headers, max=5)["results"][-1]

    response = api(sandboxes, "GET", f"{path}/{listed['id']}", headers)

    assert response.status_code == 200
    assert response.json() == listed


@pytest.mark.parametrize("path", [*PREFIXES, "/v3/classifications/locations", "/v3/classifications/accounting-classes"])
def test_an_unknown_id_is_a_404_with_bdc_1205(sandboxes, path):
    assert_error(api(sandboxes, "GET", f"{path}/00n02SBzzzzzzzzzzzzz", login(sandboxes)), 404, "BDC_1205")


def test_an_id_of_another_object_is_not_found(sandboxes):
    headers = login(sandboxes)
    vendor_id = page(sandboxes, "/v3/vendors", headers, max=1)["results"][0]["id"]
    assert_error(api(sandboxes, "GET", f"/v3/bills/{vendor_id}", headers), 404, "BDC_1205")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v3/Bills"), ("GET", "/v3/bill"), ("GET", "/v3/classifications/classes"), ("GET", "/v3/bills/"),
    ("DELETE", "/v3/bills"), ("GET", "/v2/Bill.json"),
])
def test_an_unknown_path_or_method_is_a_404_with_bdc_1121(sandboxes, method, path):
    assert_error(api(sandboxes, method, path, login(sandboxes)), 404, "BDC_1121")


def test_a_bill_has_the_documented_fields(sandboxes):
    bill = page(sandboxes, "/v3/bills", login(sandboxes), max=1)["results"][0]

    assert {"id", "archived", "vendorId", "vendorName", "amount", "paidAmount", "dueAmount", "description",
            "dueDate", "invoice", "billLineItems", "payFromChartOfAccountId", "paymentStatus", "approvalStatus",
            "createdBy", "createdTime", "updatedTime"} <= set(bill)
    assert set(bill["invoice"]) == {"invoiceNumber", "invoiceDate"}
    assert DATE.fullmatch(bill["dueDate"])
    assert DATE.fullmatch(bill["invoice"]["invoiceDate"])
    line = bill["billLineItems"][0]
    assert {"id", "amount", "classifications"} <= set(line)
    assert line["classifications"]["chartOfAccountId"].startswith("0ca")
    assert bill["amount"] == round(sum(line["amount"] for line in bill["billLineItems"]), 2)


def test_a_vendor_has_the_documented_fields(sandboxes):
    vendor = page(sandboxes, "/v3/vendors", login(sandboxes), max=1)["results"][0]

    assert {"id", "archived", "name", "accountType", "email", "address", "billCurrency"} <= set(vendor)
    assert {"line1", "city", "zipOrPostalCode", "country"} <= set(vendor["address"])


def test_the_chart_of_accounts_nests_type_and_number_in_account(sandboxes):
    accounts = all_rows(sandboxes, "/v3/classifications/chart-of-accounts", login(sandboxes))

    for account in accounts:
        assert set(account["account"]) == {"type", "number"}
        assert "accountNumber" not in account
        assert "accountType" not in account


def test_payments_exist_only_for_paid_bills(sandboxes):
    headers = login(sandboxes)
    bills = {bill["id"]: bill for bill in all_rows(sandboxes, "/v3/bills", headers)}
    payments = all_rows(sandboxes, "/v3/payments", headers)

    # Since issue 14 the firm has part payments, a bill paid in two payments and credits applied in payments: a
    # payment may pay part of a bill, and a bill's paidAmount is its payments plus the credits they applied.
    assert {p["billId"] for p in payments} == {
        i for i, bill in bills.items() if bill["paymentStatus"] in ("PAID", "PARTIAL")}
    paid: dict[str, float] = {}
    for payment in payments:
        part = payment["billPayments"][0]
        credits = sum(credit["amount"] for credit in part.get("vendorCredits", []))
        paid[payment["billId"]] = paid.get(payment["billId"], 0.0) + part["amount"] + credits
        assert part["amount"] == payment["amount"]
        assert payment["vendorId"] == bills[payment["billId"]]["vendorId"]
        assert DATE.fullmatch(payment["processDate"])
        assert part["billId"] == payment["billId"]
    assert {i: round(total, 2) for i, total in paid.items()} == {i: bills[i]["paidAmount"] for i in paid}
