"""BILL sandbox contract: list paging (max, nextPage/prevPage), filters and sort."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    advance_clock,
    all_rows,
    api,
    assert_error,
    control,
    create_bill,
    login,
    page,
    seeded_bill_count,
)

LISTS = ["/v3/bills", "/v3/vendors", "/v3/payments", "/v3/classifications/chart-of-accounts",
         "/v3/classifications/departments", "/v3/classifications/locations",
         "/v3/classifications/accounting-classes"]


def ms(timestamp: str) -> int:
    return round(datetime.fromisoformat(timestamp).timestamp() * 1000)


def ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


def test_max_defaults_to_20(sandboxes):
    assert len(page(sandboxes, "/v3/bills", login(sandboxes))["results"]) == 20


@pytest.mark.parametrize("size", [1, 57, 100])
def test_max_from_1_to_100_sets_the_page_size(sandboxes, size):
    assert len(page(sandboxes, "/v3/bills", login(sandboxes), max=size)["results"]) == size


@pytest.mark.parametrize("size", ["0", "101", "-1", "1.5", "abc", ""])
def test_max_outside_1_to_100_is_a_400(sandboxes, size):
    response = api(sandboxes, "GET", "/v3/bills", login(sandboxes), params={"max": size})
    assert "max" in assert_error(response, 400)["message"]


def test_paging_600_bills_by_100_returns_each_bill_exactly_once(sandboxes):
    # Since issue 14 the firm also has the AP documents' bills, so there are a few more than 600, and one more page.
    total = seeded_bill_count(sandboxes)
    headers = login(sandboxes)
    seen: list[str] = []
    params: dict = {"max": 100}
    pages = 0
    while True:
        data = page(sandboxes, "/v3/bills", headers, **params)
        pages += 1
        assert ("prevPage" in data) == (pages > 1)
        seen += ids(data["results"])
        if "nextPage" not in data:
            break
        params["page"] = data["nextPage"]

    assert pages == -(-total // 100)
    assert len(seen) == total
    assert len(set(seen)) == total


def test_prev_page_leads_back_to_the_same_rows(sandboxes):
    headers = login(sandboxes)
    first = page(sandboxes, "/v3/bills", headers, max=50)
    second = page(sandboxes, "/v3/bills", headers, max=50, page=first["nextPage"])
    third = page(sandboxes, "/v3/bills", headers, max=50, page=second["nextPage"])

    back_to_second = page(sandboxes, "/v3/bills", headers, max=50, page=third["prevPage"])
    back_to_first = page(sandboxes, "/v3/bills", headers, max=50, page=back_to_second["prevPage"])

    assert ids(back_to_second["results"]) == ids(second["results"])
    assert ids(back_to_first["results"]) == ids(first["results"])
    assert "prevPage" not in back_to_first
    forward_again = page(sandboxes, "/v3/bills", headers, max=50, page=back_to_first["nextPage"])
    assert ids(forward_again["results"]) == ids(second["results"])


def test_the_last_page_has_no_next_page_and_a_short_list_has_no_tokens(sandboxes):
    headers = login(sandboxes)
    departments = page(sandboxes, "/v3/classifications/departments", headers, max=100)

    assert set(departments) == {"results"}
    assert len(departments["results"]) == len(all_rows(sandboxes, "/v3/classifications/departments", headers))


def test_an_empty_list_is_just_empty_results(sandboxes):
    assert page(sandboxes, "/v3/classifications/locations", login(sandboxes)) == {"results": []}


def test_a_garbage_page_token_is_a_400(sandboxes):
    headers = login(sandboxes)
    token = page(sandboxes, "/v3/bills", headers)["nextPage"]

    for bad in ("garbage", token[:-3] + "AAA", token + "x"):
        assert_error(api(sandboxes, "GET", "/v3/bills", headers, params={"page": bad}), 400)


def test_a_page_token_reused_with_other_filters_or_sort_is_a_400(sandboxes):
    headers = login(sandboxes)
    token = page(sandboxes, "/v3/bills", headers, filters="archived:eq:false")["nextPage"]

    for params in ({}, {"filters": "archived:eq:true"}, {"filters": "archived:eq:false", "sort": "dueDate:asc"}):
        assert_error(api(sandboxes, "GET", "/v3/bills", headers, params={**params, "page": token}), 400)
    assert api(sandboxes, "GET", "/v3/bills", headers,
               params={"filters": "archived:eq:false", "page": token}).status_code == 200


def test_a_page_token_of_one_list_does_not_work_on_another(sandboxes):
    headers = login(sandboxes)
    token = page(sandboxes, "/v3/bills", headers, max=1)["nextPage"]
    assert_error(api(sandboxes, "GET", "/v3/vendors", headers, params={"max": 1, "page": token}), 400)


def test_the_default_order_is_created_time_then_id(sandboxes):
    rows = all_rows(sandboxes, "/v3/bills", login(sandboxes))
    keys = [(ms(row["createdTime"]), row["id"]) for row in rows]
    assert keys == sorted(keys)


def test_archived_records_are_listed_by_default(sandboxes):
    headers = login(sandboxes)
    bills = all_rows(sandboxes, "/v3/bills", headers)
    accounts = all_rows(sandboxes, "/v3/classifications/chart-of-accounts", headers)

    assert any(bill["archived"] for bill in bills)
    assert any(account["archived"] for account in accounts)


def test_an_unknown_query_parameter_is_a_400(sandboxes):
    response = api(sandboxes, "GET", "/v3/bills", login(sandboxes), params={"filter": "archived:eq:false"})
    assert "filter" in assert_error(response, 400)["message"]


class TestFilters:
    def test_eq_takes_quoted_and_unquoted_values(self, sandboxes):
        headers = login(sandboxes)
        vendor_id = all_rows(sandboxes, "/v3/bills", headers)[0]["vendorId"]

        bare = all_rows(sandboxes, "/v3/bills", headers, filters=f"vendorId:eq:{vendor_id}")
        quoted = all_rows(sandboxes, "/v3/bills", headers, filters=f'vendorId:eq:"{vendor_id}"')

        assert bare
        assert ids(bare) == ids(quoted)
        assert all(bill["vendorId"] == vendor_id for bill in bare)

    def test_eq_and_ne_split_the_list(self, sandboxes):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)

        paid = all_rows(sandboxes, "/v3/bills", headers, filters="paymentStatus:eq:PAID")
        unpaid = all_rows(sandboxes, "/v3/bills", headers, filters="paymentStatus:ne:PAID")

        assert ids(paid) == [b["id"] for b in everything if b["paymentStatus"] == "PAID"]
        assert ids(unpaid) == [b["id"] for b in everything if b["paymentStatus"] != "PAID"]
        assert paid
        assert unpaid

    def test_in_takes_a_quoted_comma_list(self, sandboxes):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)
        wanted = sorted({bill["vendorId"] for bill in everything})[:3]

        rows = all_rows(sandboxes, "/v3/bills", headers, filters=f'vendorId:in:"{",".join(wanted)}"')

        assert ids(rows) == [b["id"] for b in everything if b["vendorId"] in wanted]

    def test_an_in_list_combines_with_other_filters(self, sandboxes):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)
        wanted = sorted({bill["vendorId"] for bill in everything})[:2]

        rows = all_rows(sandboxes, "/v3/bills", headers,
                        filters=f'vendorId:in:"{wanted[0]},{wanted[1]}",paymentStatus:eq:PAID')

        expected = [b["id"] for b in everything if b["vendorId"] in wanted and b["paymentStatus"] == "PAID"]
        assert ids(rows) == expected

    def test_nin_excludes_a_set(self, sandboxes):
        headers = login(sandboxes)
        vendors = all_rows(sandboxes, "/v3/vendors", headers)

        rows = all_rows(sandboxes, "/v3/vendors", headers, filters='accountType:nin:"PERSON,NONE"')
        none = all_rows(sandboxes, "/v3/vendors", headers, filters='accountType:nin:"BUSINESS"')

        assert ids(rows) == ids(vendors)
        assert none == []

    def test_sw_matches_the_start_of_a_name(self, sandboxes):
        headers = login(sandboxes)
        vendors = all_rows(sandboxes, "/v3/vendors", headers)

        rows = all_rows(sandboxes, "/v3/vendors", headers, filters='name:sw:"Ac"')

        assert ids(rows) == [v["id"] for v in vendors if v["name"].startswith("Ac")]
        assert rows

    @pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
    def test_created_time_ranges_compare_as_times(self, sandboxes, op):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)
        pivot = everything[300]["createdTime"]
        pivot_ms = ms(pivot)
        compare = {"gt": pivot_ms.__lt__, "gte": pivot_ms.__le__, "lt": pivot_ms.__gt__, "lte": pivot_ms.__ge__}[op]

        rows = all_rows(sandboxes, "/v3/bills", headers, filters=f'createdTime:{op}:"{pivot}"')

        assert ids(rows) == [b["id"] for b in everything if compare(ms(b["createdTime"]))]

    @pytest.mark.parametrize("text", [
        "{d}T00:00:00.000Z", "{d}T00:00:00.000+00:00", "{d}T02:00:00.000+02:00", "{d}T00:00:00.000",
        "{d}T00:00:00", "{d}T00:00", "{d}",
    ])
    def test_the_five_date_time_forms_mean_the_same_moment(self, sandboxes, text):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)
        day = everything[400]["createdTime"][:10]
        midnight = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)

        for quoted in (f'"{text.format(d=day)}"', text.format(d=day)):
            rows = all_rows(sandboxes, "/v3/bills", headers, filters=f"createdTime:gte:{quoted}")
            assert ids(rows) == [b["id"] for b in everything if ms(b["createdTime"]) >= midnight]

    @pytest.mark.parametrize("text", ["2026-01-01T00:00:00Z", "2026/01/01", "01-01-2026", "yesterday",
                                      "2026-13-01", "1767225600000"])
    def test_other_date_time_forms_are_a_400(self, sandboxes, text):
        response = api(sandboxes, "GET", "/v3/bills", login(sandboxes), params={"filters": f"createdTime:gt:{text}"})
        assert "createdTime" in assert_error(response, 400)["message"]

    def test_due_date_filters_take_dates(self, sandboxes):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)
        pivot = sorted(b["dueDate"] for b in everything)[200]

        rows = all_rows(sandboxes, "/v3/bills", headers, filters=f"dueDate:lt:{pivot}")

        assert ids(rows) == [b["id"] for b in everything if b["dueDate"] < pivot]

    def test_archived_filters_take_true_or_false(self, sandboxes):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)

        archived = all_rows(sandboxes, "/v3/bills", headers, filters="archived:eq:true")
        live = all_rows(sandboxes, "/v3/bills", headers, filters="archived:ne:true")

        assert ids(archived) == [b["id"] for b in everything if b["archived"]]
        assert ids(live) == [b["id"] for b in everything if not b["archived"]]
        assert_error(api(sandboxes, "GET", "/v3/bills", headers, params={"filters": "archived:eq:yes"}), 400)

    def test_line_coding_is_not_header_coding(self, sandboxes):
        headers = login(sandboxes)
        line_account = all_rows(sandboxes, "/v3/bills", headers)[0]["billLineItems"][0]["classifications"]

        rows = all_rows(sandboxes, "/v3/bills", headers,
                        filters=f"classifications.chartOfAccountId:eq:{line_account['chartOfAccountId']}")

        assert rows == []  # seeded bills are coded per line only

    @pytest.mark.parametrize("path", LISTS)
    def test_updated_time_gte_works_on_every_list(self, sandboxes, path):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, path, headers)
        pivot = everything[len(everything) // 2]["updatedTime"] if everything else "2026-01-01T00:00:00.000Z"

        rows = all_rows(sandboxes, path, headers, filters=f'updatedTime:gte:"{pivot}"')

        assert sorted(ids(rows)) == sorted(r["id"] for r in everything if ms(r["updatedTime"]) >= ms(pivot))

    def test_payments_filter_by_bill_and_status(self, sandboxes):
        headers = login(sandboxes)
        payments = all_rows(sandboxes, "/v3/payments", headers)

        by_bill = all_rows(sandboxes, "/v3/payments", headers, filters=f"billId:eq:{payments[3]['billId']}")
        paid = all_rows(sandboxes, "/v3/payments", headers, filters='status:in:"PAID,SCHEDULED"')

        assert ids(by_bill) == [payments[3]["id"]]
        assert ids(paid) == ids(payments)

    def test_chart_of_accounts_filters_by_account_number(self, sandboxes):
        headers = login(sandboxes)

        rows = all_rows(sandboxes, "/v3/classifications/chart-of-accounts", headers, filters="account.number:eq:1600")

        assert [row["name"] for row in rows] == ["Accounts Payable"]

    @pytest.mark.parametrize(("filters", "named"), [
        ("approvalStatus:eq:APPROVED", "approvalStatus"),  # used by a third party, not in BILL's table
        ("vendorId:ne:00902SB0000000000000", "ne"),  # bills allow only eq and in on vendorId
        ("amount:gt:100", "amount"),
        ("createdTime:eq:2026-01-01", "eq"),
        ("vendorId:like:x", "like"),
        ("vendorId", "field:operator:value"),
        ('vendorId:in:"a,b', "quote"),
        ("archived:eq:", "archived"),
    ])
    def test_a_filter_bill_does_not_accept_is_a_400_that_says_why(self, sandboxes, filters, named):
        response = api(sandboxes, "GET", "/v3/bills", login(sandboxes), params={"filters": filters})
        assert named in assert_error(response, 400)["message"]

    def test_an_unquoted_in_list_is_refused(self, sandboxes):
        response = api(sandboxes, "GET", "/v3/bills", login(sandboxes),
                       params={"filters": "vendorId:in:00902SB0000000000000,00902SB0000000000001"})
        assert_error(response, 400)


class TestSort:
    @pytest.mark.parametrize(("path", "field"), [
        ("/v3/bills", "dueDate"), ("/v3/bills", "amount"), ("/v3/bills", "createdTime"),
        ("/v3/bills", "updatedTime"), ("/v3/bills", "archived"), ("/v3/vendors", "name"),
        ("/v3/payments", "processDate"), ("/v3/payments", "amount"),
        ("/v3/classifications/chart-of-accounts", "name"),
    ])
    @pytest.mark.parametrize("direction", ["asc", "desc"])
    def test_sort_orders_every_page_without_gaps_or_repeats(self, sandboxes, path, field, direction):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, path, headers)

        rows = all_rows(sandboxes, path, headers, sort=f"{field}:{direction}")

        values = [ms(r[field]) if field.endswith("Time") else r[field] for r in rows]
        assert values == sorted(values, reverse=direction == "desc")
        assert sorted(ids(rows)) == sorted(ids(everything))
        assert len(set(ids(rows))) == len(rows)

    def test_sort_takes_field_colon_direction(self, sandboxes):
        headers = login(sandboxes)
        for sort in ("dueDate", "dueDate:up", "vendorName:asc", "dueDate:asc,amount:desc"):
            assert_error(api(sandboxes, "GET", "/v3/bills", headers, params={"sort": sort}), 400)

    def test_sort_and_a_range_filter_on_the_same_field_page_together(self, sandboxes):
        headers = login(sandboxes)
        everything = all_rows(sandboxes, "/v3/bills", headers)
        low, high = everything[100]["createdTime"], everything[350]["createdTime"]

        rows = all_rows(sandboxes, "/v3/bills", headers, max=30, sort="createdTime:desc",
                        filters=f'createdTime:gte:"{low}",createdTime:lt:"{high}"')

        assert ids(rows) == list(reversed(ids(everything[100:350])))


class TestChangingData:
    def test_an_edited_bill_moves_to_the_end_of_the_updated_time_order(self, sandboxes):
        headers = login(sandboxes)
        advance_clock(sandboxes, 60)
        before = page(sandboxes, "/v3/bills", headers, max=1, sort="updatedTime:desc")["results"][0]
        target = page(sandboxes, "/v3/bills", headers, max=1)["results"][0]

        edited = control(sandboxes, "PATCH", f"/bills/{target['id']}", {"description": "edited"}).json()

        newest = page(sandboxes, "/v3/bills", headers, max=1, sort="updatedTime:desc")["results"][0]
        assert newest["id"] == target["id"]
        assert ms(edited["updatedTime"]) > ms(before["updatedTime"])
        since = all_rows(sandboxes, "/v3/bills", headers, filters=f'updatedTime:gte:"{edited["updatedTime"]}"')
        assert ids(since) == [target["id"]]

    def test_a_bill_created_while_paging_shows_up_once_at_the_end(self, sandboxes):
        headers = login(sandboxes)
        first = page(sandboxes, "/v3/bills", headers, max=100)
        new = create_bill(sandboxes)

        rest = all_rows(sandboxes, "/v3/bills", headers, page=first["nextPage"])

        seen = ids(first["results"]) + ids(rest)
        assert len(seen) == len(set(seen)) == seeded_bill_count(sandboxes) + 1  # AP documents since issue 14
        assert seen[-1] == new["id"]
