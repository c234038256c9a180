"""BILL sandbox contract: the control surface (bills, vendors, payments made as in BILL's web app), counters."""

from __future__ import annotations

from datetime import datetime

import pytest

from exact_bill_pipeline.sandbox.seed import bill_id_index
from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    advance_clock,
    all_rows,
    api,
    control,
    create_bill,
    firm,
    login,
    page,
    seeded_bill_count,
)

UNKNOWN_ACCOUNT = "0ca02SBzzzzzzzzzzzzz"


def clock_ms(running) -> int:
    return control(running, "GET", "/clock").json()["now_ms"]


def ms(timestamp: str) -> int:
    return round(datetime.fromisoformat(timestamp).timestamp() * 1000)


def test_a_created_bill_is_served_by_the_api_with_sandbox_timestamps(sandboxes):
    advance_clock(sandboxes, 86_400)
    before = clock_ms(sandboxes)

    bill = create_bill(sandboxes)

    assert before <= ms(bill["createdTime"]) <= clock_ms(sandboxes)
    assert bill["createdTime"] == bill["updatedTime"]
    assert bill["approvalStatus"] == "APPROVED"
    assert bill["paymentStatus"] == "UNPAID"
    assert bill["amount"] == bill["dueAmount"] == 125.5
    assert api(sandboxes, "GET", f"/v3/bills/{bill['id']}", login(sandboxes)).json() == bill


def test_new_ids_never_collide_with_seeded_ones(sandboxes):
    bill = create_bill(sandboxes)
    vendor = control(sandboxes, "POST", "/vendors", {"name": "Newco"}).json()

    assert bill_id_index(bill["id"], "00n") >= sandboxes.settings.bills
    assert vendor["id"].startswith("009")
    assert vendor["id"] not in {v.id for v in firm(sandboxes).vendors}
    # Since issue 14 the firm also has the AP documents' bills, so the count is theirs plus the ordinary 600.
    assert len(all_rows(sandboxes, "/v3/bills", login(sandboxes))) == seeded_bill_count(sandboxes) + 1


def test_editing_a_bill_sets_updated_time_to_sandbox_now_and_keeps_created_time(sandboxes):
    headers = login(sandboxes)
    seeded = page(sandboxes, "/v3/bills", headers, max=1)["results"][0]
    advance_clock(sandboxes, 600)

    response = control(sandboxes, "PATCH", f"/bills/{seeded['id']}", {"amount": 999.99, "approvalStatus": "DENIED"})

    edited = response.json()
    assert response.status_code == 200
    assert edited["amount"] == 999.99
    assert round(sum(line["amount"] for line in edited["billLineItems"]), 2) == 999.99
    assert edited["approvalStatus"] == "DENIED"
    assert edited["createdTime"] == seeded["createdTime"]
    assert abs(ms(edited["updatedTime"]) - clock_ms(sandboxes)) < 5000
    assert api(sandboxes, "GET", f"/v3/bills/{seeded['id']}", headers).json() == edited


def test_replacing_lines_recomputes_the_amount(sandboxes):
    bill = create_bill(sandboxes)
    account = bill["billLineItems"][0]["classifications"]["chartOfAccountId"]
    department = firm(sandboxes).departments[0].id

    edited = control(sandboxes, "PATCH", f"/bills/{bill['id']}", {"billLineItems": [
        {"amount": 10, "classifications": {"chartOfAccountId": account, "departmentId": department}},
        {"amount": 5.25, "classifications": {"chartOfAccountId": account}},
    ]}).json()

    assert edited["amount"] == 15.25
    assert edited["billLineItems"][0]["classifications"]["departmentId"] == department


def test_archiving_and_restoring_a_bill(sandboxes):
    bill = create_bill(sandboxes)

    archived = control(sandboxes, "POST", f"/bills/{bill['id']}/archive").json()
    restored = control(sandboxes, "POST", f"/bills/{bill['id']}/restore").json()

    assert archived["archived"] is True
    assert restored["archived"] is False


def test_paying_a_bill_creates_a_payment_and_marks_the_bill_paid(sandboxes):
    headers = login(sandboxes)
    bill = create_bill(sandboxes)

    response = control(sandboxes, "POST", "/payments", {"billId": bill["id"]})

    payment = response.json()
    assert response.status_code == 201
    assert payment["id"].startswith("stp")
    assert payment["amount"] == bill["amount"]
    paid = api(sandboxes, "GET", f"/v3/bills/{bill['id']}", headers).json()
    assert paid["paymentStatus"] == "PAID"
    assert paid["paidAmount"] == bill["amount"]
    assert paid["dueAmount"] == 0
    assert all_rows(sandboxes, "/v3/payments", headers, filters=f"billId:eq:{bill['id']}") == [payment]
    assert control(sandboxes, "POST", "/payments", {"billId": bill["id"]}).status_code == 400


def test_voiding_a_payment_makes_its_bill_unpaid_again(sandboxes):
    headers = login(sandboxes)
    bill = create_bill(sandboxes)
    payment = control(sandboxes, "POST", "/payments", {"billId": bill["id"], "status": "SCHEDULED"}).json()
    assert api(sandboxes, "GET", f"/v3/bills/{bill['id']}", headers).json()["paymentStatus"] == "SCHEDULED"

    voided = control(sandboxes, "PATCH", f"/payments/{payment['id']}", {"status": "VOID"}).json()

    assert voided["status"] == "VOID"
    assert voided["singleStatus"] == "VOIDED"
    assert api(sandboxes, "GET", f"/v3/bills/{bill['id']}", headers).json()["paymentStatus"] == "UNPAID"


def test_a_vendor_can_be_created_edited_and_archived(sandboxes):
    headers = login(sandboxes)
    vendor = control(sandboxes, "POST", "/vendors",
                     {"name": "Newco", "address": {"line1": "1 Main St", "city": "Portland", "country": "US"}}).json()

    edited = control(sandboxes, "PATCH", f"/vendors/{vendor['id']}", {"address": {"city": "Salem"}}).json()
    archived = control(sandboxes, "POST", f"/vendors/{vendor['id']}/archive").json()

    assert edited["address"] == {"line1": "1 Main St", "city": "Salem", "country": "US"}
    assert archived["archived"] is True
    assert api(sandboxes, "GET", f"/v3/vendors/{vendor['id']}", headers).json() == archived


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/bills", {"vendorId": "nope", "invoice": {"invoiceNumber": "1"}, "billLineItems": [{"amount": 1}]}),
    ("POST", "/bills", {"vendorId": "00902SB0000000000000", "invoice": {"invoiceNumber": "1"}, "billLineItems": []}),
    ("POST", "/bills", {"vendorId": "00902SB0000000000000", "invoice": {"invoiceNumber": "1"},
                        "billLineItems": [{"amount": -5}]}),
    ("POST", "/bills", {"vendorId": "00902SB0000000000000", "invoice": {"invoiceNumber": "1"},
                        "billLineItems": [{"amount": 5, "classifications": {"chartOfAccountId": UNKNOWN_ACCOUNT}}]}),
    ("POST", "/bills", {"vendorId": "00902SB0000000000000", "invoice": {"invoiceNumber": "1"},
                        "billLineItems": [{"amount": 5}], "approvalStatus": "MAYBE"}),
    ("PATCH", "/bills/00n02SB0000000000000", {"colour": "red"}),
    ("PATCH", "/bills/00n02SBzzzzzzzzzzzzz", {"amount": 1}),
    ("POST", "/payments", {"billId": "00n02SBzzzzzzzzzzzzz"}),
    ("POST", "/vendors", {"email": "x@y.example"}),
])
def test_bad_control_requests_answer_400_with_a_reason(sandboxes, method, path, body):
    response = control(sandboxes, method, path, body)

    assert response.status_code == 400
    assert response.json()["error"]


def test_the_webhook_state_shows_subscriptions_and_deliveries(sandboxes):
    state = control(sandboxes, "GET", "/webhooks").json()
    assert state == {"subscriptions": [], "deliveries": [], "queued": 0}


def test_api_calls_are_counted_by_endpoint_and_control_calls_are_not(sandboxes):
    headers = login(sandboxes)
    control(sandboxes, "DELETE", "/counters")
    bill_id = page(sandboxes, "/v3/bills", headers, max=1)["results"][0]["id"]
    api(sandboxes, "GET", f"/v3/bills/{bill_id}", headers)
    api(sandboxes, "GET", "/v3/bills/00n02SBzzzzzzzzzzzzz", headers)
    create_bill(sandboxes)

    counters = control(sandboxes, "GET", "/counters").json()

    assert counters["calls"] == {"GET /connect/v3/bills": 1, "GET /connect/v3/bills/{id}": 2}
    assert counters["errors_by_endpoint"] == {"GET /connect/v3/bills/{id} 404": 1}


def test_faults_do_not_touch_the_control_surface(sandboxes):
    control(sandboxes, "POST", "/faults", {"kind": "error", "path": ".*", "count": None})

    assert control(sandboxes, "GET", "/webhooks").status_code == 200
    assert api(sandboxes, "GET", "/v3/bills", login_headers_without_call(sandboxes)).status_code == 503


def login_headers_without_call(running) -> dict[str, str]:
    bill = running.settings.bill
    return {"devKey": bill.dev_key, "sessionId": "unused"}
