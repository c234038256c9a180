"""BILL sandbox contract at scale: 100,000 seeded bills start in seconds and pages stay fast.

The bounds are generous on purpose; the real figures belong to the benchmarks."""

from __future__ import annotations

import time

from exact_bill_pipeline.sandbox.seed import bill_id, iso_ms
from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.bill_helpers import api, firm, login


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_100k_bills_start_in_seconds_and_a_created_time_page_takes_well_under_a_second(make_sandboxes):
    running, start_seconds = timed(lambda: make_sandboxes(sandbox_settings(bills=100_000)))
    headers = login(running)
    seeded = firm(running)
    low, high = iso_ms(seeded.bill_created_ms(70_000)), iso_ms(seeded.bill_created_ms(70_250))
    params = {"max": 100, "filters": f'createdTime:gte:"{low}",createdTime:lt:"{high}"'}

    first, first_seconds = timed(lambda: api(running, "GET", "/v3/bills", headers, params=params))
    second, second_seconds = timed(
        lambda: api(running, "GET", "/v3/bills", headers, params={**params, "page": first.json()["nextPage"]})
    )

    assert start_seconds < 10
    assert first_seconds < 1
    assert second_seconds < 1
    assert [bill["id"] for bill in first.json()["results"]] == [bill_id("00n", i) for i in range(70_000, 70_100)]
    assert [bill["id"] for bill in second.json()["results"]] == [bill_id("00n", i) for i in range(70_100, 70_200)]


def test_100k_bills_serve_the_first_page_a_record_and_an_incremental_query_quickly(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bills=100_000))
    headers = login(running)
    since = iso_ms(firm(running).bill_created_ms(99_000))

    first_page, page_seconds = timed(lambda: api(running, "GET", "/v3/bills", headers, params={"max": 100}))
    record, record_seconds = timed(lambda: api(running, "GET", f"/v3/bills/{bill_id('00n', 99_999)}", headers))
    changed, changed_seconds = timed(lambda: api(
        running, "GET", "/v3/bills", headers,
        params={"max": 100, "sort": "updatedTime:asc", "filters": f'updatedTime:gte:"{since}"'},
    ))

    assert first_page.status_code == record.status_code == changed.status_code == 200
    assert page_seconds < 1
    assert record_seconds < 1
    assert changed_seconds < 5  # the first updatedTime query builds that order once
    assert len(changed.json()["results"]) == 100
