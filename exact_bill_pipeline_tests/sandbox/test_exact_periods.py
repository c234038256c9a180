"""Exact sandbox contract: periods a bookkeeper closes per journal, and postings into them refused."""

from __future__ import annotations

from datetime import date

import pytest

from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    control,
    entry_date,
    gl_accounts,
    odata_message,
    onboard,
    purchase_entry,
)

PE = "purchaseentry/PurchaseEntries"
STATUS = "read/financial/JournalStatusList"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def year_period(day: str) -> tuple[int, int]:
    moment = date.fromisoformat(day)
    return moment.year, moment.month


def close(run, day: str, journal: str | None = None, action: str = "close") -> dict:
    year, period = year_period(day)
    body = {"year": year, "period": period, **({"journal": journal} if journal else {})}
    response = control(run, "POST", f"periods/{action}", body)
    assert response.status_code == 200, response.text
    return response.json()


def test_posting_into_a_closed_period_is_a_500_in_exact_words(client, sandboxes):
    day = entry_date(sandboxes, 40)
    year, period = year_period(day)
    closed = close(sandboxes, day)
    assert {(row["Journal"], row["Status"]) for row in closed["journals"]} == {
        ("10", 1), ("20", 1), ("60", 1), ("70", 1), ("90", 1)}

    response = client.post(PE, purchase_entry(client, EntryDate=day))

    assert response.status_code == 500
    assert odata_message(response) == f"Period is closed: {year} - {period}"
    close(sandboxes, day, action="reopen")
    assert client.post(PE, purchase_entry(client, EntryDate=day)).status_code == 201


def test_a_period_is_closed_per_journal(client, sandboxes):
    day = entry_date(sandboxes, 40)
    close(sandboxes, day, journal="60")
    accounts = gl_accounts(client)
    gje = {"JournalCode": "90", "GeneralJournalEntryLines": [
        {"GLAccount": accounts["1650"]["ID"], "AmountFC": -10.0, "Date": day},
        {"GLAccount": accounts["4600"]["ID"], "AmountFC": 10.0, "Date": day}]}
    assert client.post("generaljournalentry/GeneralJournalEntries", gje).status_code == 201
    assert client.post(PE, purchase_entry(client, EntryDate=day)).status_code == 500
    close(sandboxes, day, journal="90")
    assert client.post("generaljournalentry/GeneralJournalEntries", gje).status_code == 500


def test_journal_status_list_shows_every_journal_and_period_and_pages_on_its_composite_key(client, sandboxes):
    day = entry_date(sandboxes, 40)
    year, period = year_period(day)
    close(sandboxes, day, journal="60")
    pages = client.all_pages(STATUS, {"$select": "Journal,Year,Period,Status,StatusDescription,JournalType"})
    rows = [row for page in pages for row in page]
    assert len(pages) > 1
    assert len({(r["Journal"], r["Year"], r["Period"]) for r in rows}) == len(rows)
    closed = [r for r in rows if r["Status"] == 1 and (r["Year"], r["Period"]) == (year, period)]
    assert [(r["Journal"], r["Year"], r["Period"], r["StatusDescription"], r["JournalType"]) for r in closed] == [
        ("60", year, period, "Closed", 22)]
    uri = closed[0]["__metadata"]["uri"]
    assert uri.endswith(f"{STATUS}(Journal='60',Period={period},Year={year})")
    filtered = client.results(STATUS, {"$select": "Journal", "$filter": f"Status eq 1 and Year eq {year} and "
                                                                        f"Period eq {period}"})
    assert [r["Journal"] for r in filtered] == ["60"]


def test_closing_an_unknown_period_or_journal_is_a_400(sandboxes):
    assert control(sandboxes, "POST", "periods/close", {"year": 1999, "period": 1}).status_code == 400
    assert control(sandboxes, "POST", "periods/close", {"year": sandboxes.settings.anchor.year, "period": 1,
                                                        "journal": "99"}).status_code == 400
