"""Bill to purchase entry: the right GL account, cost center and amounts, or every reason it cannot post."""

from __future__ import annotations

import copy

from exact_bill_pipeline.domain.payments import PaymentSettings, is_settled, paid_bill_ids, plan_payment_entry
from exact_bill_pipeline.domain.postings import (
    EntryPlan,
    GLTarget,
    PostingSettings,
    content_diff,
    content_hash,
    is_postable,
    money,
    plan_purchase_entry,
    posting_content,
)

BILL = {
    "id": "00n02SB0000000000042", "vendorId": "v1", "vendorName": "Acme Cloud Services", "amount": 150.5,
    "approvalStatus": "APPROVED", "archived": False, "dueDate": "2026-07-01",
    "createdTime": "2026-06-02T10:00:00.000+00:00",
    "invoice": {"invoiceNumber": "INV-7", "invoiceDate": "2026-06-01"},
    "billLineItems": [
        {"amount": 100.25, "description": "Licences",
         "classifications": {"chartOfAccountId": "b-sw", "departmentId": "d-100"}},
        {"amount": 50.25, "description": "Paper", "classifications": {"chartOfAccountId": "b-office"}},
    ],
}
ACCOUNTS = {"b-sw": GLTarget("g-sw", "4140", use_costcenter=1), "b-office": GLTarget("g-office", "4640")}
CENTERS = {"d-100": "100"}


def test_a_fully_mapped_bill_becomes_one_purchase_entry():
    plan = plan_purchase_entry(BILL, supplier_id="s-acme", accounts=ACCOUNTS, cost_centers=CENTERS,
                               settings=PostingSettings(purchase_journal="60"))
    assert isinstance(plan, EntryPlan)
    assert plan.payload == {
        "Journal": "60", "Supplier": "s-acme", "EntryDate": "2026-06-01", "DueDate": "2026-07-01", "YourRef": "INV-7",
        "Description": "BILL 00n02SB0000000000042 Acme Cloud Services", "Currency": "USD",
        "PurchaseEntryLines": [
            {"GLAccount": "g-sw", "AmountFC": 100.25, "Description": "Licences", "CostCenter": "100"},
            {"GLAccount": "g-office", "AmountFC": 50.25, "Description": "Paper"},
        ],
    }
    assert plan.amount == money("150.50")


def test_a_vat_code_exact_does_not_have_holds_the_bill_back():
    problems = plan_purchase_entry(BILL, supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                                   settings=PostingSettings(vat_code="2"))
    assert [p.reason for p in problems] == ["vat_code_unknown", "vat_code_unknown"]
    assert "'2'" in problems[0].message


def test_a_bill_in_the_vendors_currency_carries_it_and_its_rate():
    euro = {**BILL, "billCurrency": "EUR", "exchangeRate": 1.0812}
    plan = plan_purchase_entry(euro, supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                               settings=PostingSettings())
    assert (plan.payload["Currency"], plan.payload["Rate"]) == ("EUR", 1.0812)
    assert posting_content(euro)["currency"] == "EUR"
    assert "currency" not in posting_content(BILL)  # earlier bills keep their content hash


def test_a_currency_the_connector_cannot_book_waits():
    no_rate = {**BILL, "billCurrency": "EUR"}
    unknown = {**BILL, "exchangeRate": 1.08}
    other_division = {**BILL, "billCurrency": "GBP", "exchangeRate": 1.27}
    for bill, settings, words in ((no_rate, PostingSettings(), "no exchange rate"),
                                  (unknown, PostingSettings(), "was not known"),
                                  (other_division, PostingSettings(division_currency="EUR"), "not to the division")):
        problems = plan_purchase_entry(bill, supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                                       settings=settings)
        assert [p.reason for p in problems] == ["currency_unsupported"], bill
        assert words in problems[0].message


def test_every_unmapped_line_is_reported_with_the_names_tried():
    problems = plan_purchase_entry(BILL, supplier_id="s", accounts={}, cost_centers={}, settings=PostingSettings(),
                                   account_names={"b-sw": "4140 Software - Consulting"})
    assert [p.reason for p in problems] == ["unmapped_gl_account", "unmapped_gl_account"]
    assert problems[0].tried == {"line": 1, "bill_account": "4140 Software - Consulting", "bill_department": "d-100"}


def test_a_mandatory_cost_center_without_a_department_is_a_problem():
    bill = copy.deepcopy(BILL)
    del bill["billLineItems"][0]["classifications"]["departmentId"]
    problems = plan_purchase_entry(bill, supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                                   settings=PostingSettings())
    assert [p.reason for p in problems] == ["cost_center_required"]


def test_an_unmapped_department_is_a_problem():
    problems = plan_purchase_entry(BILL, supplier_id="s", accounts=ACCOUNTS, cost_centers={},
                                   settings=PostingSettings())
    assert [p.reason for p in problems] == ["unmapped_cost_center"]


def test_only_approved_live_bills_are_postable_by_default_and_the_set_is_a_setting():
    assert is_postable(BILL, PostingSettings())
    assert not is_postable({**BILL, "approvalStatus": "ASSIGNED"}, PostingSettings())
    assert not is_postable({**BILL, "archived": True}, PostingSettings())
    assert is_postable({**BILL, "approvalStatus": "ASSIGNED"},
                       PostingSettings(postable_statuses=frozenset({"APPROVED", "ASSIGNED"})))


def test_the_content_hash_changes_with_what_reaches_exact_and_only_that():
    changed_amount = copy.deepcopy(BILL)
    changed_amount["billLineItems"][1]["amount"] = 60.25
    def digest(bill):
        return content_hash(posting_content(bill))

    assert digest(changed_amount) != digest(BILL)
    assert digest({**BILL, "approvalStatus": "DENIED", "updatedTime": "x"}) == digest(BILL)
    posted = posting_content(BILL)
    assert content_diff(posted, {**BILL, "vendorId": "v2", "archived": True}) == {
        "vendorId": {"before": "v1", "after": "v2"}, "archived": {"before": False, "after": True}}


def test_a_payment_becomes_a_bank_entry_paying_out_of_the_bank_on_the_supplier_against_accounts_payable():
    payment = {"id": "stp1", "amount": 150.5, "processDate": "2026-07-01", "status": "PAID",
               "billPayments": [{"billId": "b1", "amount": 150.5}]}
    entry = plan_payment_entry(payment, supplier_id="s-acme", invoice_numbers=["INV-7"],
                               settings=PaymentSettings(journal="20", ap_account_id="g-ap"))
    assert entry == {"JournalCode": "20", "BankEntryLines": [
        {"GLAccount": "g-ap", "AmountFC": -150.5, "Account": "s-acme", "Date": "2026-07-01",
         "Description": "BILL stp1 INV-7"}]}
    general = plan_payment_entry(payment, supplier_id="s-acme", invoice_numbers=["INV-7"],
                                 settings=PaymentSettings("general", "90", "g-ap", "g-bank"))
    assert sum(line["AmountFC"] for line in general["GeneralJournalEntryLines"]) == 0
    assert is_settled(payment)
    assert not is_settled({"status": "SCHEDULED"})
    assert paid_bill_ids(payment) == ["b1"]
    assert paid_bill_ids({"billId": "b9"}) == ["b9"]
