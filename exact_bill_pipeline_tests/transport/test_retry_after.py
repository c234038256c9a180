"""Retry-After is honoured in both of its forms; full-jitter delays stay within their exponential cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import requests

from exact_bill_pipeline.transport.http import RetryPolicy, retry_after_seconds


def response_with(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.headers.update(headers)
    return response


def test_retry_after_in_seconds_and_as_a_date():
    assert retry_after_seconds(response_with({"Retry-After": "7"})) == 7.0
    later = format_datetime(datetime.now(tz=UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds(response_with({"Retry-After": later})) <= 30
    assert retry_after_seconds(response_with({})) is None
    assert retry_after_seconds(response_with({"Retry-After": "soon"})) is None


def test_full_jitter_delays_never_exceed_the_capped_exponential():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    for attempt in range(8):
        cap = min(4.0, 0.5 * 2**attempt)
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap / 2  # spread over the whole range, not a fixed value
