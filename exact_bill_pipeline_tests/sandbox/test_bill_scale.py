"""BILL sandbox contract at scale: 100,000 seeded bills are served correctly, page after page.

How fast belongs to benchmarks/sandbox_throughput.py, not to assertions that a busy machine can break."""

from __future__ import annotations

from exact_bill_pipeline.sandbox.seed import bill_id, iso_ms
from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.bill_helpers import api, firm, login


def test_100k_bills_page_by_created_time_without_gaps(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bills=100_000))
    headers = login(running)
    seeded = firm(running)
    low, high = iso_ms(seeded.bill_created_ms(70_000)), iso_ms(seeded.bill_created_ms(70_250))
    params = {"max": 100, "filters": f'createdTime:gte:"{low}",createdTime:lt:"{high}"'}

    first = api(running, "GET", "/v3/bills", headers, params=params)
    second = api(running, "GET", "/v3/bills", headers, params={**params, "page": first.json()["nextPage"]})

    assert [bill["id"] for bill in first.json()["results"]] == [bill_id("00n", i) for i in range(70_000, 70_100)]
    assert [bill["id"] for bill in second.json()["results"]] == [bill_id("00n", i) for i in range(70_100, 70_200)]


def test_100k_bills_serve_a_record_and_an_incremental_query(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bills=100_000))
    headers = login(running)
    since = iso_ms(firm(running).bill_created_ms(99_000))

    first_page = api(running, "GET", "/v3/bills", headers, params={"max": 100})
    record = api(running, "GET", f"/v3/bills/{bill_id('00n', 99_999)}", headers)
    changed = api(running, "GET", "/v3/bills", headers,
                  params={"max": 100, "sort": "updatedTime:asc", "filters": f'updatedTime:gte:"{since}"'})

    assert first_page.status_code == record.status_code == changed.status_code == 200
    assert record.json()["id"] == bill_id("00n", 99_999)
    results = changed.json()["results"]
    assert len(results) == 100
    assert all(bill["updatedTime"] >= since for bill in results)
    assert [b["updatedTime"] for b in results] == sorted(b["updatedTime"] for b in results)
