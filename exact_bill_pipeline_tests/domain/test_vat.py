"""VAT on purchase lines: the code each line sends and the VAT amount, so Exact's total equals BILL's to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exact_bill_pipeline.domain.postings import GLTarget, PostingSettings, plan_purchase_entry
from exact_bill_pipeline.domain.records import Bill
from exact_bill_pipeline.domain.vat import NO_VAT, VatBook, VatCode, VatProblem, VatRule

CODES = {"0": VatCode("0", "N", Decimal(0)), "2": VatCode("2", "E", Decimal("0.06"), "1500"),
         "3": VatCode("3", "I", Decimal("0.0825"), "1500")}
BILL = {"id": "b1", "vendorId": "v", "amount": 1612.5, "createdTime": "2026-06-02T10:00:00Z",
        "invoice": {"invoiceNumber": "INV-1", "invoiceDate": "2026-06-01"},
        "billLineItems": [{"amount": 1180.0, "classifications": {"chartOfAccountId": "equipment"}},
                          {"amount": 432.5, "classifications": {"chartOfAccountId": "catering"}}]}
ACCOUNTS = {"equipment": GLTarget("g-4670", "4670", vat_code="2  "),
            "catering": GLTarget("g-4680", "4680", vat_code="3  ")}


def plan(book: VatBook):
    return plan_purchase_entry(Bill.from_snapshot(BILL), supplier_id="s", accounts=ACCOUNTS, cost_centers={},
                               settings=PostingSettings(), vat=book)


def test_by_default_each_account_keeps_its_own_code_and_the_total_is_bills():
    entry = plan(VatBook(codes=CODES))
    lines = entry.payload["PurchaseEntryLines"]
    # Excluding: the net is sent with the VAT that makes up BILL's amount; including: the gross as it is.
    assert [(line["VATCode"], line["AmountFC"], line["VATAmountFC"]) for line in lines] == [
        ("2", 1113.21, 66.79), ("3", 432.5, 32.96)]
    assert entry.total == Decimal("1612.50")
    assert [(b.gl_code, b.amount) for b in entry.booked] == [
        ("4670", Decimal("1113.21")), ("4680", Decimal("399.54")), ("1500", Decimal("66.79")),
        ("1500", Decimal("32.96"))]  # one VAT line per code


def test_no_vat_sends_a_code_of_type_n_where_the_account_would_add_vat():
    entry = plan(VatBook(rules={"4670": VatRule(NO_VAT), "4680": VatRule(NO_VAT)}, codes=CODES))
    assert [(line["VATCode"], line["AmountFC"]) for line in entry.payload["PurchaseEntryLines"]] == [
        ("0", 1180.0), ("0", 432.5)]
    assert entry.total == Decimal("1612.50")


def test_amounts_without_vat_get_it_on_top():
    entry = plan(VatBook(default=VatRule(None, amounts_include_vat=False), codes=CODES))
    assert [line["AmountFC"] for line in entry.payload["PurchaseEntryLines"]] == [1180.0, 468.18]
    assert entry.total == Decimal("1180.00") + Decimal("70.80") + Decimal("432.50") + Decimal("35.68")


def test_an_account_without_a_code_sends_none():
    bare = VatBook(codes=CODES).line(Decimal("10.00"), gl_code="4000", gl_vat_code=None)
    assert (bare.code, bare.amount, bare.vat) == (None, Decimal("10.00"), Decimal(0))


@pytest.mark.parametrize(("book", "words"), [
    (VatBook(rules={"4670": VatRule("9")}, codes=CODES), "'9'"),
    (VatBook(rules={"4670": VatRule(NO_VAT)}, codes={"2": CODES["2"]}), "no VAT code of type N"),
    (VatBook(codes={"2": VatCode("2", "E", Decimal("0.06"), "1500", blocked=True)}), "blocked"),
])
def test_a_rule_exact_cannot_express_is_a_problem(book: VatBook, words: str):
    with pytest.raises(VatProblem, match=words):
        book.line(Decimal("100.00"), gl_code="4670", gl_vat_code="2")
