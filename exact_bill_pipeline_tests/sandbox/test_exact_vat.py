"""Exact sandbox contract: VAT codes with percentages, and the VAT Exact computes on purchase lines."""

from __future__ import annotations

import pytest

from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    control,
    gl_accounts,
    odata_message,
    onboard,
    purchase_entry,
)

PE = "purchaseentry/PurchaseEntries"
TL = "financialtransaction/TransactionLines"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


@pytest.fixture
def taxed(sandboxes):
    """VAT code 7 adds 6 % on top (excluding), 8 takes 8.25 % out (including); 4640 defaults to 7."""
    for code, kind, percentage in (("7", "E", 0.06), ("8", "I", 0.0825)):
        response = control(sandboxes, "POST", "vat-codes", {"code": code, "description": f"Tax {code}", "type": kind,
                                                            "percentage": percentage, "gl_to_claim": "1500"})
        assert response.status_code == 201, response.text
    assert control(sandboxes, "POST", "gl-accounts/4640/vat-code", {"vat_code": "7"}).status_code == 200
    return sandboxes


def problems(response) -> set[str]:
    assert response.status_code == 500, response.text
    return set(odata_message(response).split("\n"))


def lines_of(client, entry_id: str) -> list[dict]:
    rows = client.results(TL, {"$select": "LineNumber,GLAccountCode,AmountDC,AmountVATFC,VATCode,VATPercentage,"
                                          "VATType,Account", "$filter": f"EntryID eq guid'{entry_id}'"})
    return sorted(rows, key=lambda r: r["LineNumber"])


def test_vat_codes_are_listed_with_type_and_percentage(client, taxed):
    rows = client.results("vat/VATCodes", {"$select": "Code,Description,Type,Percentage,GLToClaimCode",
                                           "$filter": "Code ne null"})
    codes = {r["Code"]: (r["Type"], r["Percentage"], r["GLToClaimCode"]) for r in rows}
    # Exact pads VAT codes to three characters (ossobv/exactonline issue 18).
    assert codes["0  "] == ("N", 0.0, None)
    assert codes["7  "] == ("E", 0.06, "1500")
    assert codes["8  "] == ("I", 0.0825, "1500")


def test_a_line_without_vat_code_takes_its_accounts_code_and_vat_goes_on_top(client, taxed):
    entry = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    # 4140 has no VAT code; 4640 defaults to 7: 25.50 + 6 % = 27.03.
    assert (entry["AmountFC"], entry["VATAmountFC"]) == (127.03, 1.53)
    lines = {line["LineNumber"]: line for line in entry["PurchaseEntryLines"]["results"]}
    assert (lines[2]["VATCode"], lines[2]["VATPercentage"], lines[2]["VATAmountFC"], lines[2]["VATBaseAmountFC"]) == \
        ("7  ", 0.06, 1.53, 25.5)
    assert (lines[1]["VATCode"], lines[1]["VATAmountFC"]) == (None, 0.0)
    rows = lines_of(client, entry["EntryID"])
    assert [(r["LineNumber"], r["GLAccountCode"], r["AmountDC"]) for r in rows] == [
        (0, "1600", -127.03), (1, "4140", 100.0), (2, "4640", 25.5), (3, "1500", 1.53)]
    assert (rows[3]["VATCode"], rows[3]["VATType"], rows[2]["VATType"], rows[2]["AmountVATFC"]) == (
        "7  ", "O", "I", 1.53)
    assert rows[3]["Account"] == rows[0]["Account"]


def test_an_including_code_takes_the_vat_out_of_the_amount(client, taxed):
    body = purchase_entry(client)
    body["PurchaseEntryLines"][0]["VATCode"] = "8"
    body["PurchaseEntryLines"][1]["VATCode"] = "0"
    entry = client.post(PE, body, prefer=True).json()["d"]
    # 100.00 including 8.25 %: VAT 7.62, base 92.38; the total stays what was sent.
    assert (entry["AmountFC"], entry["VATAmountFC"]) == (125.5, 7.62)
    rows = lines_of(client, entry["EntryID"])
    assert [(r["GLAccountCode"], r["AmountDC"]) for r in rows] == [
        ("1600", -125.5), ("4140", 92.38), ("4640", 25.5), ("1500", 7.62)]


def test_vat_amount_fc_overrides_what_exact_computes(client, taxed):
    body = purchase_entry(client)
    body["PurchaseEntryLines"][1]["VATAmountFC"] = 1.5
    entry = client.post(PE, body, prefer=True).json()["d"]
    assert (entry["AmountFC"], entry["VATAmountFC"]) == (127.0, 1.5)


def test_vat_refusals(client, taxed):
    body = purchase_entry(client)
    body["PurchaseEntryLines"][0]["VATAmountFC"] = 5.0
    assert problems(client.post(PE, body)) == {"A VAT amount is not allowed when using a VAT code of the type 'No VAT'"}
    accounts = gl_accounts(client)
    gje = {"JournalCode": "90", "GeneralJournalEntryLines": [
        {"GLAccount": accounts["1650"]["ID"], "AmountFC": -10.0},
        {"GLAccount": accounts["4600"]["ID"], "AmountFC": 10.0, "VATCode": "7"}]}
    assert problems(client.post("generaljournalentry/GeneralJournalEntries", gje)) == {"Not allowed: VAT code"}


def test_a_credit_note_with_vat_credits_the_vat_too(client, taxed):
    body = purchase_entry(client)
    body["PurchaseEntryLines"] = [{**body["PurchaseEntryLines"][1], "AmountFC": -25.5}]
    entry = client.post(PE, body, prefer=True).json()["d"]
    assert (entry["Type"], entry["AmountFC"], entry["VATAmountFC"]) == (31, -27.03, -1.53)
    rows = lines_of(client, entry["EntryID"])
    assert [(r["GLAccountCode"], r["AmountDC"], r["VATType"]) for r in rows] == [
        ("1600", 27.03, None), ("4640", -25.5, "W"), ("1500", -1.53, "Q")]


def test_control_surface_checks_vat_codes(sandboxes):
    assert control(sandboxes, "POST", "vat-codes", {"code": "9", "description": "x", "type": "E",
                                                    "percentage": 0.1}).status_code == 400  # no account to claim
    assert control(sandboxes, "POST", "vat-codes", {"code": "9", "description": "x", "type": "Z"}).status_code == 400
    assert control(sandboxes, "POST", "vat-codes", {"code": "9", "description": "x", "type": "E",
                                                    "percentage": 6, "gl_to_claim": "1500"}).status_code == 400
    assert control(sandboxes, "POST", "gl-accounts/4640/vat-code", {"vat_code": "99"}).status_code == 400
