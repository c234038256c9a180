"""BILL sandbox contract: logins per hour, requests per hour, concurrent requests, and the fault switches."""

from __future__ import annotations

import math
import threading
import time

import requests

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    advance_clock,
    api,
    assert_error,
    control,
    login,
    login_response,
    set_clock,
)


def start_of_next_hour(running) -> float:
    now = control(running, "GET", "/clock").json()["now"]
    return math.floor(now / 3600) * 3600 + 3600


def test_200_logins_an_hour_pass_and_the_201st_is_refused_until_the_hour_rolls_on(sandboxes):
    for _ in range(200):
        assert login_response(sandboxes).status_code == 200

    error = assert_error(login_response(sandboxes), 429, "BDC_1144")

    assert error["category"] == "DOWNSTREAM"
    assert "200" in error["message"]
    advance_clock(sandboxes, 3601)
    assert login_response(sandboxes).status_code == 200


def test_the_login_cap_is_a_rolling_hour(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bill={"logins_per_hour": 2}))
    set_clock(running, start_of_next_hour(running) - 60)
    login(running)
    login(running)

    advance_clock(running, 120)  # a new clock hour, but not an hour since the logins

    assert_error(login_response(running), 429, "BDC_1144")
    advance_clock(running, 3600)
    assert login_response(running).status_code == 200


def test_requests_past_the_hourly_limit_fail_with_bdc_1144_until_the_next_clock_hour(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bill={"requests_per_hour": 5}))
    set_clock(running, start_of_next_hour(running) + 1)
    headers = login(running)  # the login is request 1
    for _ in range(4):
        assert api(running, "GET", "/v3/vendors", headers, params={"max": 1}).status_code == 200

    refused = api(running, "GET", "/v3/vendors", headers)

    error = assert_error(refused, 429, "BDC_1144")
    assert error["message"] == "Max number of allowed requests per hour reached: 5."
    assert error["category"] == "DOWNSTREAM"
    assert "Retry-After" not in refused.headers
    assert not [name for name in refused.headers if name.lower().startswith("x-ratelimit")]
    advance_clock(running, 3000)
    assert_error(api(running, "GET", "/v3/vendors", headers), 429, "BDC_1144")
    advance_clock(running, 600)  # the session idled out meanwhile: refused calls do not keep it alive
    assert api(running, "GET", "/v3/vendors", login(running)).status_code == 200


def test_the_limit_status_is_a_setting(make_sandboxes):
    running = make_sandboxes(sandbox_settings(bill={"requests_per_hour": 1, "limit_status": 503}))
    set_clock(running, start_of_next_hour(running) + 1)
    headers = login(running)
    assert_error(api(running, "GET", "/v3/vendors", headers), 503, "BDC_1144")


def in_parallel(calls: list) -> list[requests.Response]:
    """Starts the calls 50 ms apart on threads, so that each is in flight before the next starts."""
    results: list[requests.Response | None] = [None] * len(calls)

    def run(n: int) -> None:
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def test_a_fourth_concurrent_request_is_refused_with_bdc_1322(make_sandboxes):
    running = make_sandboxes(sandbox_settings(latency_ms=600))
    headers = login(running)

    responses = in_parallel([lambda: api(running, "GET", "/v3/vendors", headers, params={"max": 1})] * 4)

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    error = assert_error(responses[3], 429, "BDC_1322")
    assert error["message"] == "Max number of concurrent requests per organization reached."
    assert error["category"] == "DOWNSTREAM"
    assert api(running, "GET", "/v3/vendors", headers).status_code == 200  # the slots are free again


def test_three_concurrent_requests_all_pass(make_sandboxes):
    running = make_sandboxes(sandbox_settings(latency_ms=400))
    headers = login(running)

    responses = in_parallel([lambda: api(running, "GET", "/v3/bills", headers, params={"max": 1})] * 3)

    assert [r.status_code for r in responses] == [200, 200, 200]


def test_the_concurrency_limit_counts_all_sessions_of_the_dev_key(make_sandboxes):
    running = make_sandboxes(sandbox_settings(latency_ms=600, bill={"concurrent_requests": 2}))
    sessions = [login(running) for _ in range(3)]

    responses = in_parallel([lambda h=h: api(running, "GET", "/v3/vendors", h) for h in sessions])

    assert [r.status_code for r in responses[:2]] == [200, 200]
    assert_error(responses[2], 429, "BDC_1322")


def test_the_rate_limit_fault_answers_like_a_bill_limit(sandboxes):
    headers = login(sandboxes)
    assert control(sandboxes, "POST", "/faults", {"kind": "rate_limit", "path": "/v3/bills"}).status_code == 201

    assert_error(api(sandboxes, "GET", "/v3/bills", headers), 429, "BDC_1322")
    assert api(sandboxes, "GET", "/v3/bills", headers).status_code == 200


def test_the_error_fault_answers_the_error_array_with_a_server_category(sandboxes):
    headers = login(sandboxes)
    control(sandboxes, "POST", "/faults", {"kind": "error", "path": "/v3/vendors", "status": 503})

    error = assert_error(api(sandboxes, "GET", "/v3/vendors", headers), 503)

    assert error["category"] == "SERVER"
