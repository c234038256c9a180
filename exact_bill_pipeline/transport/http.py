"""The HTTP transport both clients share: timeouts, retries with full jitter, and never a blind POST retry."""

from __future__ import annotations

import logging
import os
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import backoff
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from exact_bill_pipeline.redaction import REDACTOR, Redactor, install_log_redaction
from exact_bill_pipeline.transport.errors import ApiError, TransientApiError, UncertainOutcome

log = logging.getLogger(__name__)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS's "Full Jitter"), via the backoff library."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({408, 429, 502, 503, 504}))

    def delay(self, attempt: int) -> float:
        """How long to wait after failed attempt number ``attempt`` (0-based)."""
        return backoff.full_jitter(min(self.max_delay, self.base_delay * 2**attempt))


@dataclass(frozen=True)
class Assessment:
    """What a system-specific policy makes of a response that is not a success."""

    error: ApiError
    retry: bool = False
    # True when the service certainly did nothing (a 429, a concurrency refusal): a POST may then be resent.
    not_processed: bool = False
    wait: float | None = None


ResponseAssessor = Callable[[requests.Response], Assessment | None]


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header as seconds (it may be a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def _session_with_environment_read_once() -> requests.Session:
    """A session that reads the environment once instead of on every request, when no proxy is configured.

    requests re-scans the whole environment for proxies on each call (trust_env); for a client making
    thousands of calls that costs more than a call to a nearby server. With a proxy configured, requests
    keeps doing it, so that NO_PROXY and friends work exactly as usual.
    """
    session = requests.Session()
    if not urllib.request.getproxies():
        session.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    return session


class _Endpoint:
    """'METHOD redacted-url', built only when an error message or a log line needs it."""

    def __init__(self, method: str, url: str, redactor: Redactor) -> None:
        self.method, self.url, self.redactor = method, url, redactor

    def __str__(self) -> str:
        return f"{self.method} {self.redactor.url(self.url)}"


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the service (refused connection, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class HttpTransport:
    """Sends requests for one system; the system's assessor decides what a failed response means."""

    def __init__(
        self,
        system: str,
        *,
        redactor: Redactor = REDACTOR,
        timeout: tuple[float, float] = (5.0, 60.0),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 10,
    ) -> None:
        self.system = system
        self.redactor = redactor
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.session = session or _session_with_environment_read_once()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        install_log_redaction()

    def request(
        self,
        method: str,
        url: str,
        *,
        assess: ResponseAssessor,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        before_attempt: Callable[[], None] | None = None,
        after_response: Callable[[requests.Response], None] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """Sends the request, retrying what is safe to retry; raises an ApiError subclass on failure.

        A non-idempotent request (POST) is resent only when the service certainly did not process it;
        any other doubt raises UncertainOutcome so that the caller looks the record up first. ``timeout``
        (connect, read) replaces the transport's for this request.
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        endpoint = _Endpoint(method, url, self.redactor)  # redacted only if a message needs it
        for attempt in range(self.retry.max_attempts):
            last = attempt == self.retry.max_attempts - 1
            if before_attempt is not None:
                before_attempt()
            try:
                response = self.session.request(
                    method, url, headers=headers, params=params, json=json, data=data, timeout=timeout or self.timeout
                )
            except requests.RequestException as exc:
                never_sent = _never_sent(exc)
                reason = self.redactor.text(f"{type(exc).__name__}: {exc}")
                if not idempotent and not never_sent:
                    raise UncertainOutcome(
                        f"{self.system} {endpoint}: no complete answer ({reason}); the write may have been "
                        f"applied, look it up before sending it again",
                        system=self.system, endpoint=str(endpoint),
                    ) from None
                if last:
                    raise TransientApiError(
                        f"{self.system} {endpoint} failed {attempt + 1} times; last: {reason}",
                        system=self.system, endpoint=str(endpoint),
                    ) from None
                self._wait(attempt, None, endpoint, reason)
                continue
            if after_response is not None:
                after_response(response)
            assessment = assess(response)
            if assessment is None:
                return response
            if not assessment.retry:
                raise assessment.error
            if not idempotent and not assessment.not_processed:
                raise UncertainOutcome(
                    f"{assessment.error}; the write may have been applied, look it up before sending it again",
                    system=self.system, status=response.status_code, endpoint=str(endpoint),
                ) from None
            if last:
                raise TransientApiError(
                    f"{assessment.error} (gave up after {attempt + 1} attempts)",
                    system=self.system, status=response.status_code, endpoint=str(endpoint),
                ) from None
            self._wait(attempt, assessment.wait, endpoint, f"HTTP {response.status_code}")
        raise AssertionError("unreachable: the retry loop always returns or raises")

    def _wait(self, attempt: int, hint: float | None, endpoint: object, reason: str) -> None:
        delay = max(self.retry.delay(attempt), hint or 0.0)
        log.warning("%s %s: %s; retrying in %.1f s", self.system, endpoint, reason, delay)
        self.sleep(delay)

    def close(self) -> None:
        self.session.close()
