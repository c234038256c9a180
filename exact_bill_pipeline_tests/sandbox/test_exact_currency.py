"""Exact sandbox contract: the division's base currency, exchange rates, and entries in another currency."""

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
TL = "financialtransaction/TransactionLines"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def problems(response) -> set[str]:
    assert response.status_code == 500, response.text
    return set(odata_message(response).split("\n"))


def allow_gbp(run, rate: float = 1.25, variable_rate: bool = True) -> None:
    """A GBP rate in the division, and a purchase journal that books other currencies at a rate it is sent."""
    ok(control(run, "POST", "exchange-rates", {"currency": "GBP", "rate": rate,
                                               "start_date": entry_date(run, 60)}), 201)
    ok(control(run, "PATCH", "journals/60", {"allow_variable_currency": True,
                                             "allow_variable_exchange_rate": variable_rate}))


def test_the_division_names_its_base_currency_and_it_can_be_set(make_sandboxes):
    euro = onboard(make_sandboxes(sandbox_settings(exact={"currency": "EUR"})))
    divisions = euro.results("system/Divisions", {"$select": "Code,Currency,Current"})
    assert divisions == [{"__metadata": divisions[0]["__metadata"], "Code": euro.division, "Currency": "EUR",
                          "Current": True}]
    entry = ok(euro.post(PE, purchase_entry(euro), prefer=True), 201)["d"]
    assert (entry["Currency"], entry["Rate"], entry["AmountDC"]) == ("EUR", 1.0, 125.5)


def test_an_entry_without_a_currency_is_in_the_journals_currency(client):
    entry = ok(client.post(PE, purchase_entry(client), prefer=True), 201)["d"]
    assert (entry["Currency"], entry["Rate"], entry["AmountFC"], entry["AmountDC"]) == ("USD", 1.0, 125.5, 125.5)


def test_a_foreign_currency_entry_books_amount_dc_as_amount_fc_times_the_rate(client, sandboxes):
    allow_gbp(sandboxes)
    body = purchase_entry(client, Currency="GBP", Rate=1.2731)
    entry = ok(client.post(PE, body, prefer=True), 201)["d"]
    assert (entry["Currency"], entry["Rate"], entry["AmountFC"], entry["AmountDC"]) == ("GBP", 1.2731, 125.5, 159.77)
    lines = sorted(entry["PurchaseEntryLines"]["results"], key=lambda line: line["LineNumber"])
    assert [(line["AmountFC"], line["AmountDC"]) for line in lines] == [(100.0, 127.31), (25.5, 32.46)]
    rows = client.results(TL, {"$select": "LineNumber,AmountFC,AmountDC,Currency,ExchangeRate",
                               "$filter": f"EntryID eq guid'{entry['EntryID']}'"})
    by_line = {r["LineNumber"]: r for r in rows}
    assert (by_line[0]["AmountFC"], by_line[0]["AmountDC"]) == (-125.5, -159.77)
    assert {(r["Currency"], r["ExchangeRate"]) for r in rows} == {("GBP", 1.2731)}
    assert round(sum(r["AmountDC"] for r in rows), 2) == 0


def test_without_a_variable_rate_the_rate_table_of_the_entry_date_applies(client, sandboxes):
    allow_gbp(sandboxes, rate=1.25, variable_rate=False)
    ok(control(sandboxes, "POST", "exchange-rates", {"currency": "GBP", "rate": 1.3,
                                                     "start_date": entry_date(sandboxes, 5)}), 201)
    older = ok(client.post(PE, purchase_entry(client, Currency="GBP", EntryDate=entry_date(sandboxes, 10)),
                           prefer=True), 201)["d"]
    newer = ok(client.post(PE, purchase_entry(client, Currency="GBP", EntryDate=entry_date(sandboxes, 2)),
                           prefer=True), 201)["d"]
    assert (older["Rate"], older["AmountDC"]) == (1.25, 156.88)
    assert (newer["Rate"], newer["AmountDC"]) == (1.3, 163.15)
    rates = client.results("financial/ExchangeRates", {"$select": "SourceCurrency,TargetCurrency,Rate",
                                                       "$filter": "SourceCurrency eq 'GBP'"})
    assert sorted((r["SourceCurrency"], r["TargetCurrency"], r["Rate"]) for r in rates) == [
        ("GBP", "USD", 1.25), ("GBP", "USD", 1.3)]
    assert problems(client.post(PE, purchase_entry(client, Currency="GBP", Rate=1.4))) == {
        "Not allowed: Exchange rate"}


def test_currency_refusals_in_exact_words(client, sandboxes):
    assert problems(client.post(PE, purchase_entry(client, Currency="XYZ"))) == {"Invalid reference: Currency"}
    ok(control(sandboxes, "POST", "exchange-rates", {"currency": "GBP", "rate": 1.25}), 201)
    ok(control(sandboxes, "PATCH", "journals/60", {"allow_variable_currency": False,
                                                   "allow_variable_exchange_rate": False}))
    assert problems(client.post(PE, purchase_entry(client, Currency="GBP", Rate=1.25))) >= {"Not allowed: Currency"}
    ok(control(sandboxes, "PATCH", "journals/60", {"allow_variable_currency": True,
                                                   "allow_variable_exchange_rate": True}))
    assert problems(client.post(PE, purchase_entry(client, Currency="GBP"))) == {
        "Exchange rate - Must be greater than: 0"}
    assert problems(client.post(PE, purchase_entry(client, Currency="GBP", Rate=0.0))) == {
        "Exchange rate - Must be greater than: 0"}
    assert problems(client.post(PE, purchase_entry(client, Rate=1.1))) == {"Invalid value: Rate"}


def test_a_bank_line_carries_its_own_exchange_rate(client, sandboxes):
    allow_gbp(sandboxes)
    ok(control(sandboxes, "PATCH", "journals/20", {"allow_variable_currency": True,
                                                   "allow_variable_exchange_rate": True}))
    accounts = gl_accounts(client)
    supplier = purchase_entry(client)["Supplier"]
    body = {"JournalCode": "20", "Currency": "GBP", "BankEntryLines": [
        {"GLAccount": accounts["1600"]["ID"], "Account": supplier, "AmountFC": -40.0, "ExchangeRate": 1.3,
         "Date": entry_date(sandboxes, 3)}]}
    entry = ok(client.post("financialtransaction/BankEntries", body, prefer=True), 201)["d"]
    line = entry["BankEntryLines"]["results"][0]
    assert (entry["Currency"], line["AmountFC"], line["AmountDC"], line["ExchangeRate"]) == ("GBP", -40.0, -52.0, 1.3)
    rows = client.results(TL, {"$select": "LineNumber,AmountFC,AmountDC",
                               "$filter": f"EntryID eq guid'{entry['EntryID']}'"})
    assert sorted((r["LineNumber"], r["AmountFC"], r["AmountDC"]) for r in rows) == [(0, -40.0, -52.0),
                                                                                    (1, 40.0, 52.0)]


def test_control_surface_refuses_bad_rates_and_journals(sandboxes):
    assert control(sandboxes, "POST", "exchange-rates", {"currency": "USD", "rate": 1}).status_code == 400
    assert control(sandboxes, "POST", "exchange-rates", {"currency": "GBP", "rate": -1}).status_code == 400
    assert control(sandboxes, "PATCH", "journals/99", {"allow_variable_currency": True}).status_code == 400
    assert control(sandboxes, "PATCH", "journals/60", {"currency": "XYZ"}).status_code == 400
