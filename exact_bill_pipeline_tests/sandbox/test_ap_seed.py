"""The seeded firm's AP documents (issue 14), as both sandboxes serve them, and the ordinary firm left as it was."""

from __future__ import annotations

from collections import Counter

import pytest

from exact_bill_pipeline.sandbox.ap_seed import EURO_TAX_ID, ApDocuments
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox import bill_helpers
from exact_bill_pipeline_tests.sandbox.exact_helpers import gl_accounts, odata_message, onboard, purchase_entry


@pytest.fixture
def bill_rows(sandboxes):
    headers = bill_helpers.login(sandboxes)

    def rows(path: str, **params: object) -> list[dict]:
        return bill_helpers.all_rows(sandboxes, path, headers, **params)

    return rows


def test_bill_has_vendor_credits_applied_in_part_in_full_and_not_at_all(bill_rows):
    credits = bill_rows("/v3/vendor-credits")
    assert Counter(c["status"] for c in credits) == {"FULLY_APPLIED": 1, "PARTIALLY_APPLIED": 1, "NOT_APPLIED": 1}
    payments = {p["id"]: p for p in bill_rows("/v3/payments")}
    for credit in credits:
        for use in credit["usage"]:
            part = payments[use["paymentId"]]["billPayments"][0]
            assert {"id": credit["id"], "amount": use["amount"]} in part["vendorCredits"]


def test_bill_has_a_part_payment_and_a_bill_paid_in_two_payments(bill_rows):
    bills = {b["id"]: b for b in bill_rows("/v3/bills")}
    partial = [b for b in bills.values() if b["paymentStatus"] == "PARTIAL"]
    assert [(b["invoice"]["invoiceNumber"], b["paidAmount"], b["dueAmount"]) for b in partial] == [
        ("ACME-88412", 2000.0, 2800.0)]
    per_bill = Counter(p["billId"] for p in bill_rows("/v3/payments"))
    [(twice, _n)] = [(bill_id, n) for bill_id, n in per_bill.items() if n > 1]
    assert (bills[twice]["paymentStatus"], bills[twice]["amount"]) == ("PAID", 9600.0)


def test_bill_has_a_vendor_billing_in_euro_with_exchange_rates_on_its_bills(bill_rows):
    [vendor] = bill_rows("/v3/vendors", filters='billCurrency:eq:"EUR"')
    bills = bill_rows("/v3/bills", filters=f"vendorId:eq:{vendor['id']}")
    assert len(bills) == 2
    for bill in bills:
        assert bill["fundingAmount"] == round(bill["amount"] * bill["exchangeRate"], 2)
    [payment] = bill_rows("/v3/payments", filters=f"vendorId:eq:{vendor['id']}")
    paid = next(b for b in bills if b["id"] == payment["billId"])
    assert payment["exchangeRate"] != paid["exchangeRate"]  # paid at another rate: a realized difference in Exact
    assert vendor["additionalInfo"]["taxId"] == EURO_TAX_ID


def test_bill_has_an_invoice_number_twice_from_one_vendor_and_a_zero_amount_line(bill_rows):
    bills = bill_rows("/v3/bills")
    numbers = Counter((b["vendorId"], b["invoice"]["invoiceNumber"]) for b in bills)
    assert [key[1] for key, n in numbers.items() if n > 1] == ["NSA-2291"]
    assert [b["invoice"]["invoiceNumber"] for b in bills if any(not line["amount"] for line in b["billLineItems"])] \
        == ["SLC-118"]


def test_exact_has_vat_accounts_euro_rates_the_euro_supplier_and_a_closed_period(sandboxes):
    client = onboard(sandboxes)
    accounts = gl_accounts(client)
    assert {code: accounts[code]["ID"] is not None for code in ("4670", "4680", "4790")} == {
        "4670": True, "4680": True, "4790": True}
    vat = {r["Code"]: r["VATCode"] for r in client.results("financial/GLAccounts", {
        "$select": "Code,VATCode", "$filter": "Type eq 121 and VATCode ne null"})}
    assert vat == {"4670": "2  ", "4680": "3  "}
    codes = {r["Code"]: (r["Type"], r["Percentage"]) for r in client.results("vat/VATCodes", {
        "$select": "Code,Type,Percentage", "$filter": "Code ne null"})}
    assert codes == {"0  ": ("N", 0.0), "2  ": ("E", 0.06), "3  ": ("I", 0.0825)}
    rates = client.results("financial/ExchangeRates", {"$select": "Rate", "$filter": "SourceCurrency eq 'EUR'"})
    assert len(rates) == 3
    [supplier] = client.results("crm/Accounts", {"$select": "Name,PurchaseCurrency,IsSupplier",
                                                 "$filter": f"VATNumber eq '{EURO_TAX_ID}'"})
    assert (supplier["PurchaseCurrency"], supplier["IsSupplier"]) == ("EUR", True)

    closed_day = ApDocuments(Firm(sandboxes.settings)).closed_day
    year, period = closed_day.year, closed_day.month
    statuses = client.results("read/financial/JournalStatusList", {
        "$select": "Journal,Status", "$filter": f"Year eq {year} and Period eq {period}"})
    assert {r["Status"] for r in statuses} == {1}
    refused = client.post("purchaseentry/PurchaseEntries", purchase_entry(client, EntryDate=closed_day.isoformat()))
    assert (refused.status_code, odata_message(refused)) == (500, f"Period is closed: {year} - {period}")


def test_the_documents_come_from_the_seed_and_leave_the_ordinary_firm_as_it_was(make_sandboxes):
    plain = make_sandboxes(sandbox_settings(ap_documents=False))
    full = make_sandboxes(sandbox_settings())
    assert ApDocuments(Firm(full.settings)).bills == ApDocuments(Firm(full.settings)).bills
    plain_bills = bill_helpers.all_rows(plain, "/v3/bills", bill_helpers.login(plain))
    full_bills = {b["id"]: b for b in bill_helpers.all_rows(full, "/v3/bills", bill_helpers.login(full))}
    assert all(full_bills[b["id"]] == b for b in plain_bills)
    assert len(full_bills) - len(plain_bills) == len(ApDocuments(Firm(full.settings)).bills)
    plain_gl = gl_accounts(onboard(plain))
    full_gl = gl_accounts(onboard(full))
    assert {code: row["ID"] for code, row in plain_gl.items()} == {
        code: row["ID"] for code, row in full_gl.items() if code in plain_gl}
