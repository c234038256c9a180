"""Bill to purchase entry: the right GL account, cost center and amounts, or every reason it cannot post."""

from __future__ import annotations

import copy
from decimal import Decimal

from exact_bill_pipeline.domain.credits import as_credit_note
from exact_bill_pipeline.domain.payments import (
    InvoiceRef,
    PaymentSettings,
    bill_parts,
    credit_applications,
    is_settled,
    paid_bill_ids,
    payment_content,
    payment_diff,
    plan_credit_application,
    plan_payment_entry,
    settled_by,
)
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
from exact_bill_pipeline.domain.records import Bill, Payment, VendorCredit

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
    plan = plan_purchase_entry(Bill.from_snapshot(BILL), supplier_id="s-acme", accounts=ACCOUNTS, cost_centers=CENTERS,
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
    problems = plan_purchase_entry(Bill.from_snapshot(BILL), supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                                   settings=PostingSettings(vat_code="2"))
    assert [p.reason for p in problems] == ["vat_code_unknown", "vat_code_unknown"]
    assert "'2'" in problems[0].message


def test_a_bill_in_the_vendors_currency_carries_it_and_its_rate():
    euro = {**BILL, "billCurrency": "EUR", "exchangeRate": 1.0812}
    plan = plan_purchase_entry(Bill.from_snapshot(euro), supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                               settings=PostingSettings())
    assert (plan.payload["Currency"], plan.payload["Rate"]) == ("EUR", 1.0812)
    assert posting_content(Bill.from_snapshot(euro))["currency"] == "EUR"
    assert "currency" not in posting_content(Bill.from_snapshot(BILL))  # earlier bills keep their content hash


def test_a_currency_the_connector_cannot_book_waits():
    no_rate = {**BILL, "billCurrency": "EUR"}
    unknown = {**BILL, "exchangeRate": 1.08}
    other_division = {**BILL, "billCurrency": "GBP", "exchangeRate": 1.27}
    for bill, settings, words in ((no_rate, PostingSettings(), "no exchange rate"),
                                  (unknown, PostingSettings(), "was not known"),
                                  (other_division, PostingSettings(division_currency="EUR"), "not to the division")):
        problems = plan_purchase_entry(Bill.from_snapshot(bill), supplier_id="s", accounts=ACCOUNTS,
                                       cost_centers=CENTERS, settings=settings)
        assert [p.reason for p in problems] == ["currency_unsupported"], bill
        assert words in problems[0].message


def test_every_unmapped_line_is_reported_with_the_names_tried():
    problems = plan_purchase_entry(Bill.from_snapshot(BILL), supplier_id="s", accounts={}, cost_centers={},
                                   settings=PostingSettings(),
                                   account_names={"b-sw": "4140 Software - Consulting"})
    assert [p.reason for p in problems] == ["unmapped_gl_account", "unmapped_gl_account"]
    assert problems[0].tried == {"line": 1, "bill_account": "4140 Software - Consulting", "bill_department": "d-100"}


def test_a_mandatory_cost_center_without_a_department_is_a_problem():
    bill = copy.deepcopy(BILL)
    del bill["billLineItems"][0]["classifications"]["departmentId"]
    problems = plan_purchase_entry(Bill.from_snapshot(bill), supplier_id="s", accounts=ACCOUNTS, cost_centers=CENTERS,
                                   settings=PostingSettings())
    assert [p.reason for p in problems] == ["cost_center_required"]


def test_an_unmapped_department_is_a_problem():
    problems = plan_purchase_entry(Bill.from_snapshot(BILL), supplier_id="s", accounts=ACCOUNTS, cost_centers={},
                                   settings=PostingSettings())
    assert [p.reason for p in problems] == ["unmapped_cost_center"]


def test_only_approved_live_bills_are_postable_by_default_and_the_set_is_a_setting():
    assert is_postable(Bill.from_snapshot(BILL), PostingSettings())
    assert not is_postable(Bill.from_snapshot({**BILL, "approvalStatus": "ASSIGNED"}), PostingSettings())
    assert not is_postable(Bill.from_snapshot({**BILL, "archived": True}), PostingSettings())
    assert is_postable(Bill.from_snapshot({**BILL, "approvalStatus": "ASSIGNED"}),
                       PostingSettings(postable_statuses=frozenset({"APPROVED", "ASSIGNED"})))


def test_the_content_hash_changes_with_what_reaches_exact_and_only_that():
    changed_amount = copy.deepcopy(BILL)
    changed_amount["billLineItems"][1]["amount"] = 60.25
    def digest(bill):
        return content_hash(posting_content(Bill.from_snapshot(bill)))

    assert digest(changed_amount) != digest(BILL)
    assert digest({**BILL, "approvalStatus": "DENIED", "updatedTime": "2026-06-09T00:00:00Z"}) == digest(BILL)
    posted = posting_content(Bill.from_snapshot(BILL))
    assert content_diff(posted, Bill.from_snapshot({**BILL, "vendorId": "v2", "archived": True})) == {
        "vendorId": {"before": "v1", "after": "v2"}, "archived": {"before": False, "after": True}}


def test_a_payment_becomes_a_bank_entry_paying_out_of_the_bank_on_the_supplier_against_the_invoice_it_pays():
    payment = {"id": "stp1", "amount": 150.5, "processDate": "2026-07-01", "status": "PAID",
               "billPayments": [{"billId": "b1", "amount": 150.5}]}
    invoices = {"b1": InvoiceRef("b1", 60000007, "INV-7")}
    entry = plan_payment_entry(Payment.from_snapshot(payment), supplier_id="s-acme", invoices=invoices,
                               settings=PaymentSettings(journal="20", ap_account_id="g-ap"))
    assert entry == {"JournalCode": "20", "BankEntryLines": [
        {"GLAccount": "g-ap", "AmountFC": -150.5, "Account": "s-acme", "OurRef": 60000007, "Date": "2026-07-01",
         "Description": "BILL stp1 INV-7"}]}
    general = plan_payment_entry(Payment.from_snapshot(payment), supplier_id="s-acme", invoices=invoices,
                                 settings=PaymentSettings("general", "90", "g-ap", "g-bank"))
    assert sum(line["AmountFC"] for line in general["GeneralJournalEntryLines"]) == 0
    assert general["GeneralJournalEntryLines"][0]["OurRef"] == 60000007
    assert is_settled(Payment.from_snapshot(payment))
    assert not is_settled(Payment.from_snapshot({"id": "stp9", "status": "SCHEDULED"}))
    assert paid_bill_ids(Payment.from_snapshot(payment)) == ["b1"]
    assert paid_bill_ids(Payment.from_snapshot({"id": "stp9", "billId": "b9"})) == ["b9"]


def test_a_payment_of_two_bills_books_one_line_per_bill_each_with_its_own_amount_and_invoice():
    payment = {"id": "stp2", "amount": 700.0, "processDate": "2026-07-02", "status": "PAID", "billPayments": [
        {"billId": "b1", "amount": 500.0}, {"billId": "b2", "amount": 200.0}]}
    invoices = {"b1": InvoiceRef("b1", 60000001, "A-1"), "b2": InvoiceRef("b2", 60000002, "A-2")}
    entry = plan_payment_entry(Payment.from_snapshot(payment), supplier_id="s", invoices=invoices,
                               settings=PaymentSettings(journal="20", ap_account_id="g-ap"))
    assert [(line["AmountFC"], line["OurRef"]) for line in entry["BankEntryLines"]] == [
        (-500.0, 60000001), (-200.0, 60000002)]
    assert settled_by(payment_content(Payment.from_snapshot(payment))) == {
        "b1": Decimal("500.00"), "b2": Decimal("200.00")}


def test_a_payment_applying_a_credit_pays_money_by_bank_and_settles_the_credit_note_by_a_journal_entry():
    payment = {"id": "stp3", "amount": 1090.0, "processDate": "2026-07-03", "status": "PAID", "billPayments": [
        {"billId": "b1", "amount": 1090.0, "vendorCredits": [{"id": "vcr1", "amount": 150.0}]}]}
    payment = Payment.from_snapshot(payment)
    (part,) = bill_parts(payment)
    assert (part.amount, part.settles) == (Decimal("1090.00"), Decimal("1240.00"))
    invoices = {"b1": InvoiceRef("b1", 60000001, "EOS-1")}
    settings = PaymentSettings(journal="20", ap_account_id="g-ap", general_journal="90")
    gje = plan_credit_application(payment, "vcr1", credit_applications(payment)["vcr1"], supplier_id="s",
                                  invoices=invoices, credit_note=60000009, settings=settings)
    assert gje["JournalCode"] == "90"
    assert [(line["AmountFC"], line["OurRef"]) for line in gje["GeneralJournalEntryLines"]] == [
        (150.0, 60000001), (-150.0, 60000009)]  # debit on the invoice, credit on the credit note: balanced
    assert all(line["Account"] == "s" and line["GLAccount"] == "g-ap" for line in gje["GeneralJournalEntryLines"])


def test_a_vendor_credit_plans_as_a_purchase_entry_with_negative_amounts():
    credit = {"id": "vcr1", "vendorId": "v1", "referenceNumber": "CR-1", "creditDate": "2026-07-01",
              "amount": 150.0, "createdTime": "2026-07-01T10:00:00.000Z",
              "vendorCreditLineItems": [{"amount": 150.0, "description": "Returned chair",
                                         "classifications": {"chartOfAccountId": "acct-1"}}]}
    plan = plan_purchase_entry(as_credit_note(VendorCredit.from_snapshot(credit)), supplier_id="s-1",
                               accounts={"acct-1": GLTarget("g-1", "4640")}, cost_centers={},
                               settings=PostingSettings())
    assert not isinstance(plan, list)
    assert plan.amount == Decimal("-150.00")
    assert (plan.payload["YourRef"], plan.payload["EntryDate"]) == ("CR-1", "2026-07-01")
    assert [line["AmountFC"] for line in plan.payload["PurchaseEntryLines"]] == [-150.0]
    assert "BILL vcr1" in plan.payload["Description"]


def test_a_payment_posted_before_per_bill_amounts_were_kept_is_not_flagged_as_changed():
    payment = {"id": "stp4", "amount": 80.0, "processDate": "2026-07-04", "status": "PAID",
               "billPayments": [{"billId": "b1", "amount": 80.0}]}
    legacy = {"amount": "80.00", "bills": ["b1"], "processDate": "2026-07-04", "settlement": "settled"}
    assert payment_diff(legacy, Payment.from_snapshot(payment)) == {}
    assert settled_by(legacy) == {"b1": Decimal("80.00")}
