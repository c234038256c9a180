"""Contract tests of the Exact sandbox's limits (minutely, daily, error block) and of its fault switches."""

from __future__ import annotations

import time

import pytest
import requests

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    advance,
    consent_code,
    control,
    exchange,
    odata_message,
    onboard,
    purchase_entry,
)

GL = "financial/GLAccounts"
PARAMS = {"$select": "ID", "$filter": "Code eq '1600'"}
DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
MINUTELY = ("X-RateLimit-Minutely-Limit", "X-RateLimit-Minutely-Remaining", "X-RateLimit-Minutely-Reset")


def to_next_minute(run) -> None:
    """Moves the clock just past the next minute boundary."""
    now_ms = requests.get(f"{run.exact_url}/_sandbox/clock", timeout=10).json()["now_ms"]
    advance(run, (60_000 - now_ms % 60_000) / 1000 + 0.05)


def test_every_api_answer_carries_both_limit_headers_with_millisecond_resets(sandboxes):
    client = onboard(sandboxes)
    to_next_minute(sandboxes)
    first = client.get(GL, PARAMS)
    second = client.get(GL, {"$select": "Nope", "$filter": "Code eq '1600'"})  # errors carry them too
    for response in (first, second):
        for name in DAILY + MINUTELY:
            assert name in response.headers
    assert first.headers["X-RateLimit-Limit"] == "5000"
    assert first.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    daily_reset = int(first.headers["X-RateLimit-Reset"])
    minutely_reset = int(first.headers["X-RateLimit-Minutely-Reset"])
    assert len(str(daily_reset)) == len(str(minutely_reset)) == 13
    assert daily_reset % 86_400_000 == 0
    assert minutely_reset % 60_000 == 0
    now_ms = requests.get(f"{sandboxes.exact_url}/_sandbox/clock", timeout=10).json()["now_ms"]
    assert 0 < minutely_reset - now_ms <= 60_000
    assert 0 < daily_reset - now_ms <= 86_400_000
    token = exchange(sandboxes, consent_code(sandboxes))
    assert "X-RateLimit-Limit" not in token.headers


def test_a_spent_minute_is_a_429_with_an_empty_body_and_only_minutely_headers(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"minutely_limit": 3}))
    client = onboard(run)
    to_next_minute(run)
    statuses = [client.get(GL, PARAMS) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 200]
    assert statuses[-1].headers["X-RateLimit-Minutely-Remaining"] == "0"
    refused = client.get(GL, PARAMS)
    assert refused.status_code == 429
    assert refused.content == b""
    for name in MINUTELY:
        assert name in refused.headers
    for name in DAILY:
        assert name not in refused.headers
    client.get(GL, PARAMS)  # refused calls do not count
    to_next_minute(run)
    again = client.get(GL, PARAMS)
    assert again.status_code == 200
    assert int(again.headers["X-RateLimit-Remaining"]) == 5000 - 4


def test_a_spent_day_is_a_429_with_the_daily_headers_until_utc_midnight(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"daily_limit": 2}))
    client = onboard(run)
    assert [client.get(GL, PARAMS).status_code for _ in range(2)] == [200, 200]
    refused = client.get(GL, PARAMS)
    assert refused.status_code == 429
    assert refused.content == b""
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Limit" not in refused.headers
    reset_ms = int(refused.headers["X-RateLimit-Reset"])
    now_ms = requests.get(f"{run.exact_url}/_sandbox/clock", timeout=10).json()["now_ms"]
    advance(run, (reset_ms - now_ms) / 1000 + 1)
    assert onboard(run).get(GL, PARAMS).status_code == 200


def test_more_than_ten_errors_an_hour_on_one_endpoint_block_the_app_everywhere(sandboxes):
    client = onboard(sandboxes)
    bad = {"$select": "Nope", "$filter": "Code eq '1600'"}
    for _ in range(10):
        assert client.get(GL, bad).status_code == 400
    assert client.get(GL, PARAMS).status_code == 200  # ten errors are tolerated
    assert client.get(GL, bad).status_code == 400  # the eleventh one blocks
    blocked = client.get("hrm/Costcenters", {"$select": "ID"})
    assert blocked.status_code == 403
    assert blocked.headers["Reason"] == "ApplicationBlocked"
    assert control(sandboxes, "GET", "rate-limits").json()["blocks"] == 1
    advance(sandboxes, 3601)
    assert onboard(sandboxes).get("hrm/Costcenters", {"$select": "ID"}).status_code == 200


def test_errors_on_different_endpoints_do_not_add_up(sandboxes):
    client = onboard(sandboxes)
    for path in (GL, "hrm/Costcenters"):
        for _ in range(10):
            assert client.get(path, {"$select": "Nope"}).status_code == 400
    assert client.get(GL, PARAMS).status_code == 200


def test_validation_500s_and_401s_count_towards_the_error_block(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"error_block_threshold": 2, "error_block_seconds": 60}))
    client = onboard(run)
    body = purchase_entry(client, Journal="99")
    assert [client.post("purchaseentry/PurchaseEntries", body).status_code for _ in range(3)] == [500, 500, 500]
    assert client.get(GL, PARAMS).status_code == 403
    advance(run, 61)
    client = onboard(run)
    expired = onboard(run)
    advance(run, 601)
    client = onboard(run)
    for _ in range(3):
        assert expired.get(GL, PARAMS).status_code == 401
    assert client.get(GL, PARAMS).status_code == 403


def test_a_zero_threshold_turns_the_error_block_off(make_sandboxes):
    client = onboard(make_sandboxes(sandbox_settings(exact={"error_block_threshold": 0})))
    for _ in range(15):
        assert client.get(GL, {"$select": "Nope"}).status_code == 400
    assert client.get(GL, PARAMS).status_code == 200


def test_the_rate_limit_fault_is_a_storm_of_real_looking_minutely_429s(sandboxes):
    client = onboard(sandboxes)
    rule = control(sandboxes, "POST", "faults", {"kind": "rate_limit", "path": "GLAccounts", "count": 3})
    assert rule.status_code == 201
    storm = [client.get(GL, PARAMS) for _ in range(3)]
    for response in storm:
        assert response.status_code == 429
        assert response.content == b""
        assert response.headers["X-RateLimit-Minutely-Remaining"] == "0"
        assert "X-RateLimit-Limit" not in response.headers
    assert client.get(GL, PARAMS).status_code == 200


def test_the_error_and_delay_faults(sandboxes):
    client = onboard(sandboxes)
    control(sandboxes, "POST", "faults", {"kind": "error", "status": 503, "path": "GLAccounts"})
    failed = client.get(GL, PARAMS)
    assert failed.status_code == 503
    assert odata_message(failed).startswith("A problem has occurred")
    control(sandboxes, "POST", "faults", {"kind": "delay", "seconds": 0.3, "path": "GLAccounts"})
    started = time.monotonic()
    assert client.get(GL, PARAMS).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_dropped_response_loses_the_answer_but_the_entry_was_created(sandboxes):
    client = onboard(sandboxes)
    control(sandboxes, "POST", "faults", {"kind": "drop_response", "method": "POST", "path": "PurchaseEntries"})
    body = purchase_entry(client, YourRef="LOST-1")
    with pytest.raises(requests.exceptions.RequestException):
        client.post("purchaseentry/PurchaseEntries", body, prefer=True)
    found = client.results("purchaseentry/PurchaseEntries", {
        "$select": "EntryID,EntryNumber", "$filter": f"Supplier eq guid'{body['Supplier']}' and YourRef eq 'LOST-1'"})
    assert len(found) == 1


def test_an_error_fault_can_carry_exacts_reason_and_fire_on_a_share_of_requests(make_sandboxes):
    sandboxes = make_sandboxes(exact={"minutely_limit": 10**6})
    client = onboard(sandboxes)
    control(sandboxes, "POST", "faults", {"kind": "error", "status": 403, "reason": "DivisionBlocked",
                                          "path": "GLAccounts", "count": 1})
    blocked = client.get(GL, PARAMS)
    assert (blocked.status_code, blocked.headers["Reason"]) == (403, "DivisionBlocked")
    control(sandboxes, "POST", "faults", {"kind": "error", "status": 503, "path": "GLAccounts", "count": None,
                                          "probability": 0.25})
    statuses = [client.get(GL, PARAMS).status_code for _ in range(200)]
    assert 25 <= statuses.count(503) <= 75
    assert set(statuses) == {200, 503}
    refused = control(sandboxes, "POST", "faults", {"kind": "error", "probability": 1.5})
    assert refused.status_code == 400
    assert "probability" in refused.text


def test_a_slow_commit_writes_the_entry_after_its_client_has_given_up(sandboxes):
    """A server still working on a write whose client timed out: a look-up before the commit finds nothing."""
    client = onboard(sandboxes)
    control(sandboxes, "POST", "faults", {"kind": "slow_commit", "seconds": 1.5, "method": "POST",
                                          "path": "PurchaseEntries"})
    body = purchase_entry(client, YourRef="SLOW-1")
    lookup = {"$select": "EntryID", "$filter": f"Supplier eq guid'{body['Supplier']}' and YourRef eq 'SLOW-1'"}
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.session.post(f"{client.root}/purchaseentry/PurchaseEntries", json=body, headers=client.headers(),
                            timeout=(5, 0.3))
    assert client.results("purchaseentry/PurchaseEntries", lookup) == []
    deadline = time.monotonic() + 10
    while not client.results("purchaseentry/PurchaseEntries", lookup) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(client.results("purchaseentry/PurchaseEntries", lookup)) == 1


def test_counters_name_endpoints_without_division_or_keys_and_skip_the_control_surface(sandboxes):
    client = onboard(sandboxes)
    row = client.results(GL, PARAMS)[0]
    client.get(f"{GL}(guid'{row['ID']}')")
    calls = control(sandboxes, "GET", "counters").json()["calls"]
    assert calls["GET /api/v1/{division}/financial/GLAccounts"] == 1
    assert calls["GET /api/v1/{division}/financial/GLAccounts({key})"] == 1
    assert calls["POST /api/oauth2/token"] == 1
    assert not any("_sandbox" in name for name in calls)
