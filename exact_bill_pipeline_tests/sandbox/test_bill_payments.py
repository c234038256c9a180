"""BILL sandbox contract: part and split payments, vendor credits applied in payments, voids, foreign-currency bills
and zero-amount lines (docs/ap-documents.md, BILL)."""

from __future__ import annotations

from typing import Any

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    all_rows,
    api,
    assert_error,
    control,
    create_bill,
    firm,
    login,
)


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def pay(running, bill: dict, **body: Any) -> dict[str, Any]:
    return ok(control(running, "POST", "/payments", {"billId": bill["id"], **body}), 201)


def refused(running, method: str, path: str, body: dict[str, Any]) -> str:
    response = control(running, method, path, body)
    assert response.status_code == 400, response.text
    return response.json()["error"]


def fetch(running, path: str) -> dict[str, Any]:
    return ok(api(running, "GET", path, login(running)))


def amounts(bill: dict) -> tuple:
    return bill["paymentStatus"], bill["paidAmount"], bill["dueAmount"], bill["creditAmount"], bill["scheduledAmount"]


def credit_for(running, vendor_id: str, *amounts_: float, reference: str = "VC-1") -> dict[str, Any]:
    lines = [{"amount": amount, "description": f"Returned item {n}"} for n, amount in enumerate(amounts_, start=1)]
    body = {"vendorId": vendor_id, "referenceNumber": reference, "creditDate": "2026-01-20",
            "vendorCreditLineItems": lines, "description": "Returned goods"}
    return ok(control(running, "POST", "/vendor-credits", body), 201)


def lines(*amounts_: float) -> dict[str, Any]:
    return {"billLineItems": [{"amount": amount, "description": f"Line {n}"} for n, amount in enumerate(amounts_)]}


def test_a_part_payment_leaves_the_bill_partial_and_a_second_payment_settles_it(sandboxes):
    bill = create_bill(sandboxes, **lines(300.0, 100.0))

    first = pay(sandboxes, bill, amount=150.0)

    assert (first["amount"], first["billPayments"][0]["amount"]) == (150.0, 150.0)
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("PARTIAL", 150.0, 250.0, 0.0, 0.0)
    assert "250.00 left" in refused(sandboxes, "POST", "/payments", {"billId": bill["id"], "amount": 251.0})

    second = pay(sandboxes, bill)

    assert second["amount"] == 250.0
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("PAID", 400.0, 0.0, 0.0, 0.0)
    rows = all_rows(sandboxes, "/v3/payments", login(sandboxes), filters=f"billId:eq:{bill['id']}")
    assert [row["id"] for row in rows] == [first["id"], second["id"]]


def test_a_scheduled_part_payment_is_scheduled_not_paid(sandboxes):
    bill = create_bill(sandboxes, **lines(400.0))
    pay(sandboxes, bill, amount=100.0, status="SCHEDULED")
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("SCHEDULED", 0.0, 400.0, 0.0, 100.0)
    assert "300.00 left" in refused(sandboxes, "POST", "/payments", {"billId": bill["id"], "amount": 301.0})


def test_vendor_credits_are_listed_and_fetched_like_other_records(sandboxes):
    vendor = firm(sandboxes).vendors[3]
    credit = credit_for(sandboxes, vendor.id, 14.99, 50.0)
    assert len(credit["id"]) == 20
    assert credit["id"].startswith("vcr")
    assert (credit["amount"], credit["appliedAmount"], credit["status"], credit["usage"]) == (
        64.99, 0.0, "NOT_APPLIED", [])
    assert [line["amount"] for line in credit["vendorCreditLineItems"]] == [14.99, 50.0]
    assert fetch(sandboxes, f"/v3/vendor-credits/{credit['id']}") == credit
    headers = login(sandboxes)
    by_vendor = all_rows(sandboxes, "/v3/vendor-credits", headers, filters=f"vendorId:eq:{vendor.id}")
    assert credit in by_vendor
    assert all(row["vendorId"] == vendor.id for row in by_vendor)
    open_ones = all_rows(sandboxes, "/v3/vendor-credits", headers, filters="status:eq:NOT_APPLIED")
    assert credit["id"] in {row["id"] for row in open_ones}
    assert_error(api(sandboxes, "GET", "/v3/vendor-credits/vcr02SBzzzzzzzzzzzzz", headers), 404, "BDC_1205")
    assert_error(api(sandboxes, "GET", "/v3/vendor-credits", headers, params={"filters": "vendorId:ne:x"}), 400)


def test_a_payment_applies_a_vendor_credit_and_the_credit_counts_as_paid(sandboxes):
    bill = create_bill(sandboxes, **lines(1240.0))
    credit = credit_for(sandboxes, bill["vendorId"], 150.0)

    payment = pay(sandboxes, bill, vendorCredits=[{"id": credit["id"], "amount": 150.0}])

    assert payment["amount"] == 1090.0
    assert payment["billPayments"][0]["vendorCredits"] == [{"id": credit["id"], "amount": 150.0}]
    # paidAmount "is the sum of all cleared payments and any credit amount applied to the bill" (BILL changelog).
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("PAID", 1240.0, 0.0, 150.0, 0.0)
    applied = fetch(sandboxes, f"/v3/vendor-credits/{credit['id']}")
    assert (applied["appliedAmount"], applied["status"]) == (150.0, "FULLY_APPLIED")
    assert applied["usage"] == [{"billId": bill["id"], "amount": 150.0, "paymentId": payment["id"]}]


def test_a_credit_applied_in_part_and_credits_that_do_not_fit_are_refused(sandboxes):
    bill = create_bill(sandboxes, **lines(500.0))
    credit = credit_for(sandboxes, bill["vendorId"], 300.0)
    other_vendor = credit_for(sandboxes, firm(sandboxes).vendors[5].id, 20.0)
    assert "another vendor" in refused(sandboxes, "POST", "/payments", {
        "billId": bill["id"], "vendorCredits": [{"id": other_vendor["id"], "amount": 20.0}]})
    assert "300.00 left" in refused(sandboxes, "POST", "/payments", {
        "billId": bill["id"], "vendorCredits": [{"id": credit["id"], "amount": 301.0}]})

    pay(sandboxes, bill, amount=100.0, vendorCredits=[{"id": credit["id"], "amount": 100.0}])

    applied = fetch(sandboxes, f"/v3/vendor-credits/{credit['id']}")
    assert (applied["appliedAmount"], applied["status"]) == (100.0, "PARTIALLY_APPLIED")
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("PARTIAL", 200.0, 300.0, 100.0, 0.0)


def test_a_credit_in_a_scheduled_payment_is_in_process(sandboxes):
    bill = create_bill(sandboxes, **lines(80.0))
    credit = credit_for(sandboxes, bill["vendorId"], 30.0)
    pay(sandboxes, bill, status="SCHEDULED", vendorCredits=[{"id": credit["id"], "amount": 30.0}])
    assert fetch(sandboxes, f"/v3/vendor-credits/{credit['id']}")["status"] == "IN_PROCESS"


def test_a_credit_can_be_applied_to_a_bill_without_a_payment(sandboxes):
    bill = create_bill(sandboxes, **lines(60.0))
    credit = credit_for(sandboxes, bill["vendorId"], 60.0)

    applied = ok(control(sandboxes, "POST", f"/vendor-credits/{credit['id']}/apply", {"billId": bill["id"]}))

    assert applied["usage"] == [{"billId": bill["id"], "amount": 60.0}]
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("PAID", 60.0, 0.0, 60.0, 0.0)


def test_voiding_a_payment_gives_the_bill_and_the_credit_back_what_it_paid(sandboxes):
    bill = create_bill(sandboxes, **lines(1000.0))
    credit = credit_for(sandboxes, bill["vendorId"], 200.0)
    first = pay(sandboxes, bill, amount=300.0)
    second = pay(sandboxes, bill, vendorCredits=[{"id": credit["id"], "amount": 200.0}])
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}"))[0] == "PAID"

    voided = ok(control(sandboxes, "POST", f"/payments/{second['id']}/void", {"reason": "Wrong amount"}))

    assert (voided["status"], voided["singleStatus"]) == ("VOID", "VOIDED")
    [info] = voided["voidInfo"]
    assert (info["type"], info["reason"], info["requestedBy"][:3]) == ("VOID_ONLY", "Wrong amount", "006")
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("PARTIAL", 300.0, 700.0, 0.0, 0.0)
    released = fetch(sandboxes, f"/v3/vendor-credits/{credit['id']}")
    assert (released["appliedAmount"], released["status"], released["usage"]) == (0.0, "NOT_APPLIED", [])
    assert "only a paid or scheduled payment" in refused(sandboxes, "POST", f"/payments/{second['id']}/void", {})
    ok(control(sandboxes, "PATCH", f"/payments/{first['id']}", {"status": "VOID"}))
    assert amounts(fetch(sandboxes, f"/v3/bills/{bill['id']}")) == ("UNPAID", 0.0, 1000.0, 0.0, 0.0)


def test_a_vendor_billing_in_euro_has_bills_in_euro_with_an_exchange_rate(sandboxes):
    vendor = ok(control(sandboxes, "POST", "/vendors", {
        "name": "Lindqvist SARL", "billCurrency": "EUR",
        "address": {"line1": "1 Rue X", "city": "Lyon", "country": "FR"}}), 201)
    assert "exchangeRate" in refused(sandboxes, "POST", "/bills", {
        "vendorId": vendor["id"], "invoice": {"invoiceNumber": "F-1"}, **lines(100.0)})

    bill = create_bill(sandboxes, vendorId=vendor["id"], exchangeRate=1.0834, **lines(980.0, 20.0))

    assert (bill["amount"], bill["exchangeRate"], bill["fundingAmount"]) == (1000.0, 1.0834, 1083.4)
    payment = pay(sandboxes, bill, exchangeRate=1.1)
    assert (payment["amount"], payment["exchangeRate"], payment["fundingAmount"]) == (1000.0, 1.1, 1100.0)
    assert fetch(sandboxes, f"/v3/bills/{bill['id']}")["fundingAmount"] == 1083.4
    usd_bill = create_bill(sandboxes)
    assert "takes no exchangeRate" in refused(sandboxes, "POST", "/payments", {"billId": usd_bill["id"],
                                                                               "exchangeRate": 1.2})
    assert "no exchangeRate" in refused(sandboxes, "POST", "/bills", {
        "vendorId": usd_bill["vendorId"], "invoice": {"invoiceNumber": "U-1"}, "exchangeRate": 1.2, **lines(5.0)})


def test_a_zero_amount_line_is_accepted_but_a_bill_of_zero_is_not(sandboxes):
    bill = create_bill(sandboxes, **lines(120.0, 0.0))
    assert [line["amount"] for line in bill["billLineItems"]] == [120.0, 0.0]
    assert bill["amount"] == 120.0
    vendor = bill["vendorId"]
    assert "more than 0" in refused(sandboxes, "POST", "/bills", {"vendorId": vendor, "invoice": {
        "invoiceNumber": "Z-1"}, **lines(0.0)})
    assert "positive" in refused(sandboxes, "POST", "/bills", {"vendorId": vendor, "invoice": {
        "invoiceNumber": "Z-2"}, **lines(10.0, -5.0)})


def test_zero_amount_lines_can_be_switched_off(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bill={"zero_amount_lines": False}, ap_documents=False))
    vendor = firm(running).vendors[0].id
    assert "positive" in refused(running, "POST", "/bills", {"vendorId": vendor, "invoice": {
        "invoiceNumber": "Z-3"}, **lines(10.0, 0.0)})


@pytest.mark.parametrize("body", [
    {"vendorId": "00902SBzzzzzzzzzzzzz", "referenceNumber": "X", "creditDate": "2026-01-01",
     "vendorCreditLineItems": [{"amount": 1}]},
    {"referenceNumber": "", "creditDate": "2026-01-01", "vendorCreditLineItems": [{"amount": 1}]},
    {"referenceNumber": "X", "creditDate": "soon", "vendorCreditLineItems": [{"amount": 1}]},
    {"referenceNumber": "X", "creditDate": "2026-01-01", "vendorCreditLineItems": []},
    {"referenceNumber": "X", "creditDate": "2026-01-01", "vendorCreditLineItems": [{"amount": -1}]},
    {"referenceNumber": "X", "creditDate": "2026-01-01", "vendorCreditLineItems": [{"amount": 1}], "colour": "red"},
])
def test_bad_vendor_credits_are_refused(sandboxes, body):
    body = {"vendorId": firm(sandboxes).vendors[0].id, **body}
    assert refused(sandboxes, "POST", "/vendor-credits", body)
