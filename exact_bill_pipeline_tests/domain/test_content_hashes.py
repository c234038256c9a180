"""What was posted stays recognised: the content hashes of fixed documents are pinned to the values the
pipeline computed before the domain worked on typed records, so bills, payments and credits posted then are not
flagged changed_after_posting now."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from exact_bill_pipeline.domain.credits import credit_content
from exact_bill_pipeline.domain.payments import payment_content
from exact_bill_pipeline.domain.postings import content_hash, posting_content
from exact_bill_pipeline.domain.records import Bill, Payment, VendorCredit

BILL = {
    "id": "00n02SB0000000000042", "vendorId": "v1", "vendorName": "Acme Cloud Services", "amount": 150.5,
    "approvalStatus": "APPROVED", "archived": False, "dueDate": "2026-07-01", "paymentStatus": "UNPAID",
    "createdTime": "2026-06-02T10:00:00.000+00:00", "updatedTime": "2026-06-03T08:30:00.000+00:00",
    "dueAmount": 150.5, "someFieldBillAddsLater": {"kept": True},
    "invoice": {"invoiceNumber": "INV-7", "invoiceDate": "2026-06-01"},
    "billLineItems": [
        {"id": "l1", "amount": 100.25, "description": "Licences",
         "classifications": {"chartOfAccountId": "b-sw", "departmentId": "d-100"}},
        {"id": "l2", "amount": 50.25, "description": "Paper", "classifications": {"chartOfAccountId": "b-office"}},
    ],
}
BILL_IN_EUR = {**BILL, "id": "00n02SB0000000000043", "amount": 1000, "exchangeRate": 1.0842, "billCurrency": "EUR",
               "dueDate": None, "invoice": {"invoiceNumber": "EU-1", "invoiceDate": "2026-06-01T00:00:00.000+00:00"},
               "billLineItems": [{"amount": 999.999, "classifications": {"chartOfAccountId": "b-sw"}},
                                 {"amount": 0.001, "classifications": {}}]}
BILL_STAMPED_USD = {**BILL, "billCurrency": "USD"}
BILL_VENDOR_UNKNOWN = {**BILL, "exchangeRate": 0.92, "archived": True}
BILL_VENDOR_UNREAD = {**BILL, "billCurrency": None}
PAYMENT = {
    "id": "stp01", "vendorId": "v1", "amount": 120.1, "processDate": "2026-06-10", "status": "PAID",
    "singleStatus": "CLEARED", "exchangeRate": 1.0842, "createdTime": "2026-06-09T12:00:00.000+00:00",
    "billPayments": [
        {"billId": "b1", "amount": 100.05, "vendorCredits": [{"id": "vc1", "amount": 20}]},
        {"billId": "b2", "amount": 20.05},
        {"billId": "b1", "amount": 0, "vendorCredits": [{"id": "vc2", "amount": 5.5}]},
    ],
}
PAYMENT_OF_ONE_BILL = {"id": "stp02", "billId": "b3", "amount": 99.99, "processDate": "2026-06-11",
                       "singleStatus": "VOIDED", "createdTime": "2026-06-11T12:00:00.000+00:00"}
PAYMENT_PENDING = {"id": "stp03", "vendorId": "v2", "amount": 10, "createdTime": "2026-06-11T12:00:00.000+00:00",
                   "billPayments": [{"billId": "b4", "amount": 10}]}
CREDIT = {
    "id": "vc1", "vendorId": "v1", "referenceNumber": "CN-1", "creditDate": "2026-06-05", "amount": 25.5,
    "appliedAmount": 20, "archived": False, "createdTime": "2026-06-05T09:00:00.000+00:00",
    "vendorCreditLineItems": [{"amount": 25.5, "classifications": {"chartOfAccountId": "b-sw"}}],
}

TYPED_CREDIT = VendorCredit.from_snapshot(CREDIT)


@pytest.mark.parametrize(("document", "expected"), [
    (BILL, "104f9f4f1095673aa46a36a06194a0bd306421194943eddc5dda120dc04728fe"),
    (BILL_IN_EUR, "35a11bd783cd027c5006321ff2983cac98af5921c048c5ac0a4fa2c023e24bff"),
    (BILL_STAMPED_USD, "104f9f4f1095673aa46a36a06194a0bd306421194943eddc5dda120dc04728fe"),
    (BILL_VENDOR_UNKNOWN, "4c199c9c224c1dade43432567acb2a35ea9f49ab2d3e5d2b8b27ad658e941e5f"),
    (BILL_VENDOR_UNREAD, "6a6abbfec0acdaee30788b4ac52a3b4a6c0c7a7f5c2dc562a058ef3309cd92fa"),
])
def test_a_bills_content_hash_is_what_it_was_before_typed_records(document, expected):
    assert content_hash(posting_content(Bill.from_snapshot(document))) == expected


@pytest.mark.parametrize(("document", "expected"), [
    (PAYMENT, "7ffa9fe787c9dc8180d3582eb902918662ed5e0e2143e116da937aa926b35b02"),
    (PAYMENT_OF_ONE_BILL, "e7b8acc85e5011053c1d6e3346f25973769575db5cde5e61e8e6b351a5a4a6af"),
    (PAYMENT_PENDING, "199d6f10b138e0f7a95500bffb0748028d137414fd1aa0425dcca7fb666fa675"),
])
def test_a_payments_content_hash_is_what_it_was_before_typed_records(document, expected):
    assert content_hash(payment_content(Payment.from_snapshot(document))) == expected


def test_a_vendor_credits_content_hash_is_what_it_was_before_typed_records():
    expected = "08737664b8d5bb99c2768cb19639b57650a158a1224c39646b2f75b931b925d1"
    assert content_hash(credit_content(TYPED_CREDIT)) == expected


@pytest.mark.parametrize("content", [
    *(posting_content(Bill.from_snapshot(b)) for b in (BILL, BILL_IN_EUR, BILL_VENDOR_UNKNOWN)),
    *(payment_content(Payment.from_snapshot(p)) for p in (PAYMENT, PAYMENT_OF_ONE_BILL)), credit_content(TYPED_CREDIT),
])
def test_content_is_plain_json_so_it_equals_what_the_ledger_stored(content):
    """content_diff compares with content read back from the database: no dates or Decimals may hide in it."""
    assert json.loads(json.dumps(content)) == content


def test_a_payment_snapshot_stored_as_the_old_client_dumped_it_hashes_as_before():
    """Before snapshots kept BILL's raw JSON, a payment was stored as its record dumped: nulls for absent fields,
    an empty vendorCredits on each item, times with a Z. Such a snapshot is still the same payment."""
    dumped = {**PAYMENT, "vendorName": None, "billId": None, "fundingAmount": None, "updatedTime": None,
              "createdTime": "2026-06-09T12:00:00Z",
              "billPayments": [{"vendorCredits": [], **item} for item in PAYMENT["billPayments"]]}
    assert content_hash(payment_content(Payment.from_snapshot(dumped))) == content_hash(
        payment_content(Payment.from_snapshot(PAYMENT)))


def test_a_record_keeps_the_json_it_was_made_from_every_field_of_it():
    bill = Bill.from_snapshot(BILL)
    assert bill.raw == BILL
    assert bill.raw["someFieldBillAddsLater"] == {"kept": True}
    assert "raw" not in bill.model_dump(by_alias=True)
    assert (bill.amount, bill.due_amount) == (Decimal("150.50"), Decimal("150.50"))
    assert Payment.from_snapshot(PAYMENT).raw == PAYMENT
