"""Exact sandbox contract: payments matched to invoices by OurRef, what is still open, credit notes, exchange
differences (docs/ap-documents.md)."""

from __future__ import annotations

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    control,
    entry_date,
    gl_accounts,
    odata_message,
    onboard,
    purchase_entry,
)

PE = "purchaseentry/PurchaseEntries"
BANK = "financialtransaction/BankEntries"
GJE = "generaljournalentry/GeneralJournalEntries"
PAYABLES = "read/financial/PayablesList"
PAYMENTS = "cashflow/Payments"
TL = "financialtransaction/TransactionLines"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


@pytest.fixture
def accounts(client):
    return gl_accounts(client)


def post(client, path: str, body: dict) -> dict:
    response = client.post(path, body, prefer=True)
    assert response.status_code == 201, response.text
    return response.json()["d"]


def pay(client, accounts, invoice: dict, amount: float, our_ref: bool = True, currency: str | None = None,
        **line: object) -> dict:
    """A bank entry paying ``amount`` to the invoice's supplier: money out of the bank is a negative line."""
    body_line = {"GLAccount": accounts["1600"]["ID"], "Account": invoice["Supplier"], "AmountFC": -amount,
                 "Date": entry_date(client.run, 2), "Description": "Payment", **line}
    if our_ref:
        body_line["OurRef"] = invoice["InvoiceNumber"]
    header = {"Currency": currency} if currency else {}
    return post(client, BANK, {"JournalCode": "20", "BankEntryLines": [body_line], **header})


def open_items(client, supplier: str) -> list[dict]:
    return client.results(PAYABLES, {"$select": "HID,Amount,CurrencyCode,InvoiceNumber,YourRef,EntryNumber,JournalCode",
                                     "$filter": f"AccountId eq guid'{supplier}'"})


def terms(client, invoice: dict) -> list[tuple]:
    rows = client.results(PAYMENTS, {"$select": "AmountFC,AmountDC,Status,EndDate,InvoiceNumber,YourRef",
                                     "$filter": f"TransactionEntryID eq guid'{invoice['EntryID']}'"})
    return sorted((r["Status"], r["AmountFC"], r["AmountDC"], r["EndDate"] is not None) for r in rows)


def invoice_for(client, **changes: object) -> dict:
    return post(client, PE, purchase_entry(client, **changes))


def test_an_invoice_is_open_until_a_bank_line_pays_it_by_our_ref(client, accounts):
    invoice = invoice_for(client, YourRef="OPEN-1")
    listed = [r for r in open_items(client, invoice["Supplier"]) if r["InvoiceNumber"] == invoice["InvoiceNumber"]]
    assert [(r["Amount"], r["YourRef"], r["JournalCode"]) for r in listed] == [(125.5, "OPEN-1", "60")]
    assert terms(client, invoice) == [(20, 125.5, 125.5, False)]

    pay(client, accounts, invoice, 125.5)

    assert not [r for r in open_items(client, invoice["Supplier"]) if r["InvoiceNumber"] == invoice["InvoiceNumber"]]
    assert terms(client, invoice) == [(50, 125.5, 125.5, True)]


def test_a_part_payment_splits_the_term_and_a_second_payment_settles_it(client, accounts):
    invoice = invoice_for(client)
    pay(client, accounts, invoice, 50.0)

    [left] = [r for r in open_items(client, invoice["Supplier"]) if r["InvoiceNumber"] == invoice["InvoiceNumber"]]
    assert left["Amount"] == 75.5
    assert terms(client, invoice) == [(20, 75.5, 75.5, False), (50, 50.0, 50.0, True)]

    pay(client, accounts, invoice, 75.5)

    assert terms(client, invoice) == [(50, 50.0, 50.0, True), (50, 75.5, 75.5, True)]
    supplier_lines = client.results(TL, {"$select": "AmountDC", "$filter": (
        f"Account eq guid'{invoice['Supplier']}' and GLAccount eq guid'{accounts['1600']['ID']}' and "
        f"InvoiceNumber eq {invoice['InvoiceNumber']}")})
    assert round(sum(r["AmountDC"] for r in supplier_lines), 2) == 0


def test_a_payment_without_our_ref_matches_nothing_and_stays_open_on_its_own(client, accounts):
    invoice = invoice_for(client)
    payment = pay(client, accounts, invoice, 125.5, our_ref=False)
    items = open_items(client, invoice["Supplier"])
    assert (125.5, invoice["InvoiceNumber"]) in {(r["Amount"], r["InvoiceNumber"]) for r in items}
    assert (-125.5, None, payment["EntryNumber"], "20") in {
        (r["Amount"], r["InvoiceNumber"], r["EntryNumber"], r["JournalCode"]) for r in items}


def test_a_payment_with_the_wrong_sign_adds_to_what_is_owed(client, accounts):
    invoice = invoice_for(client)
    pay(client, accounts, invoice, -125.5)  # a positive bank line: money received, not paid
    assert (20, 251.0, 251.0, False) in terms(client, invoice)


def test_our_ref_must_name_an_invoice_of_the_lines_supplier_on_the_payables_account(client, accounts):
    invoice = invoice_for(client)
    line = {"GLAccount": accounts["4600"]["ID"], "AmountFC": -10.0, "OurRef": invoice["InvoiceNumber"]}
    response = client.post(BANK, {"JournalCode": "20", "BankEntryLines": [line]})
    assert response.status_code == 500
    assert odata_message(response) == f"Invalid reference: Invoice number {invoice['InvoiceNumber']}"


def test_a_credit_note_is_type_31_and_is_settled_against_an_invoice_by_a_journal_entry(client, accounts):
    invoice = invoice_for(client)
    body = purchase_entry(client, YourRef="CN-1")
    body["PurchaseEntryLines"] = [{**body["PurchaseEntryLines"][1], "AmountFC": -25.5}]
    credit = post(client, PE, body)
    assert (credit["Type"], credit["TypeDescription"], credit["AmountFC"]) == (31, "Purchase credit note", -25.5)
    assert terms(client, credit) == [(20, -25.5, -25.5, False)]

    ap, supplier, day = accounts["1600"]["ID"], invoice["Supplier"], entry_date(client.run, 2)
    post(client, GJE, {"JournalCode": "90", "GeneralJournalEntryLines": [
        {"GLAccount": ap, "Account": supplier, "AmountFC": 25.5, "OurRef": invoice["InvoiceNumber"], "Date": day},
        {"GLAccount": ap, "Account": supplier, "AmountFC": -25.5, "OurRef": credit["InvoiceNumber"], "Date": day}]})
    pay(client, accounts, invoice, 100.0)

    assert terms(client, credit) == [(50, -25.5, -25.5, True)]
    assert terms(client, invoice) == [(50, 25.5, 25.5, True), (50, 100.0, 100.0, True)]


def gbp_division(make_sandboxes, account: str = "8960"):
    run = make_sandboxes(sandbox_settings(exact={"exchange_difference_account": account}, ap_documents=False))
    for journal in ("20", "60"):
        assert control(run, "PATCH", f"journals/{journal}", {"allow_variable_currency": True,
                                                             "allow_variable_exchange_rate": True}).status_code == 200
    assert control(run, "POST", "exchange-rates", {"currency": "GBP", "rate": 1.25}).status_code == 201
    return run


def test_a_foreign_invoice_paid_at_another_rate_books_the_realized_exchange_difference(make_sandboxes):
    run = gbp_division(make_sandboxes)
    assert control(run, "POST", "gl-accounts", {"code": "8960", "description": "Exchange rate differences",
                                                "type": 130}).status_code == 201
    client = onboard(run)
    accounts = gl_accounts(client)
    invoice = invoice_for(client, Currency="GBP", Rate=1.25)  # 125.50 GBP = 156.88 USD
    first = pay(client, accounts, invoice, 50.0, currency="GBP", ExchangeRate=1.3)  # 65.00 USD for 62.50 booked

    rows = client.results(TL, {"$select": "LineNumber,GLAccountCode,AmountFC,AmountDC,Currency,Description",
                               "$filter": f"EntryID eq guid'{first['EntryID']}'"})
    assert sorted((r["LineNumber"], r["GLAccountCode"], r["AmountFC"], r["AmountDC"]) for r in rows) == [
        (0, "1100", -50.0, -65.0), (1, "1600", 50.0, 65.0), (2, "1600", 0.0, -2.5), (3, "8960", 2.5, 2.5)]
    assert terms(client, invoice) == [(20, 75.5, 94.38, False), (50, 50.0, 62.5, True)]

    pay(client, accounts, invoice, 75.5, currency="GBP", ExchangeRate=1.2)  # 90.60 USD for 94.38 booked
    assert terms(client, invoice) == [(50, 50.0, 62.5, True), (50, 75.5, 94.38, True)]
    exchange = gl_accounts(client)["8960"]["ID"]
    result = client.results(TL, {"$select": "AmountDC", "$filter": f"GLAccount eq guid'{exchange}'"})
    assert round(sum(r["AmountDC"] for r in result), 2) == round(2.5 - 3.78, 2)


def test_without_an_exchange_difference_account_the_difference_stays_open(make_sandboxes):
    client = onboard(gbp_division(make_sandboxes, account="8999"))
    accounts = gl_accounts(client)
    invoice = invoice_for(client, Currency="GBP", Rate=1.25)
    pay(client, accounts, invoice, 125.5, currency="GBP", ExchangeRate=1.3)
    assert terms(client, invoice) == [(20, 0.0, -6.27, False), (50, 125.5, 163.15, True)]
