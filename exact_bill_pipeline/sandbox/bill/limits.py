"""BILL's limits (bill.md §5) and the gate that authenticates each API call and holds its in-flight slot."""

from __future__ import annotations

import secrets
from collections import Counter, deque

from starlette.datastructures import Headers

from exact_bill_pipeline.sandbox.bill.errors import (
    BAD_DEV_KEY,
    CONCURRENCY_LIMIT,
    CONCURRENCY_MESSAGE,
    HOURLY_LIMIT,
    BillError,
    Problem,
    error_response,
    invalid,
    session_invalid,
)
from exact_bill_pipeline.sandbox.bill.sessions import Session, SessionBook
from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.middleware import ASGIApp, Receive, Scope, Send
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings

API_PREFIXES = ("/connect/", "/connect-events/")
LOGIN_PATH = "/connect/v3/login"
SESSION_STATE_KEY = "bill_session"


class Limits:
    """Requests per devKey per clock hour, logins per devKey per hour, requests in flight per (devKey, org)."""

    def __init__(self, settings: BillSandboxSettings, clock: SandboxClock) -> None:
        self._settings = settings
        self._clock = clock
        self._hour: int | None = None
        self._requests: Counter[str] = Counter()
        self._logins: dict[str, deque[float]] = {}
        self._in_flight: Counter[tuple[str, str]] = Counter()

    def count_request(self, dev_key: str) -> None:
        """Counts one request; past the hourly limit every request fails until the next clock hour."""
        hour = int(self._clock.now() // 3600)
        if hour != self._hour:
            self._hour = hour
            self._requests.clear()
        self._requests[dev_key] += 1
        if self._requests[dev_key] > self._settings.requests_per_hour:
            raise self.limit_error(
                HOURLY_LIMIT, f"Max number of allowed requests per hour reached: {self._settings.requests_per_hour}."
            )

    def count_login(self, dev_key: str) -> None:
        # UNCONFIRMED: the login cap's window and code. The sandbox uses a rolling hour (stricter than a
        # clock hour, which allows twice the cap across an hour boundary) and a BDC_1144-style error.
        # Refused attempts do not count, so a client that backs off recovers.
        now = self._clock.now()
        logins = self._logins.setdefault(dev_key, deque())
        while logins and logins[0] <= now - 3600:
            logins.popleft()
        if len(logins) >= self._settings.logins_per_hour:
            raise self.limit_error(
                HOURLY_LIMIT, f"Max number of allowed logins per hour reached: {self._settings.logins_per_hour}."
            )
        logins.append(now)

    def enter(self, dev_key: str, organization_id: str) -> bool:
        key = (dev_key, organization_id)
        if self._in_flight[key] >= self._settings.concurrent_requests:
            return False
        self._in_flight[key] += 1
        return True

    def leave(self, dev_key: str, organization_id: str) -> None:
        self._in_flight[(dev_key, organization_id)] -= 1

    def concurrency_error(self) -> BillError:
        return self.limit_error(CONCURRENCY_LIMIT, CONCURRENCY_MESSAGE)

    def limit_error(self, code: str, message: str) -> BillError:
        # Both limits answer with category DOWNSTREAM (bill.md §5); the HTTP status is UNCONFIRMED and a
        # setting (limit_status, 429 by default). No Retry-After or rate-limit headers, as documented.
        return BillError(self._settings.limit_status, [Problem(code, message, "DOWNSTREAM")])


def bad_dev_key() -> BillError:
    # BILL documents BDC_1102 for a bad devKey but no status (UNCONFIRMED): the sandbox answers 401, as
    # the webhook API does for an invalid auth header.
    return BillError(401, [Problem(BAD_DEV_KEY, "Developer key is invalid.")])


def needs_session(path: str) -> bool:
    return path.startswith(API_PREFIXES) and path != LOGIN_PATH


class SessionGate:
    """ASGI middleware: admits an API call (headers, devKey, hourly limit, session), then holds one of the
    organization's in-flight slots until the response is sent. It sits outside the latency middleware, so
    the added latency counts as time in flight."""

    def __init__(
        self, app: ASGIApp, *, settings: BillSandboxSettings, clock: SandboxClock, sessions: SessionBook,
        limits: Limits,
    ) -> None:
        self.app = app
        self.settings = settings
        self.clock = clock
        self.sessions = sessions
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_session(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            session = self._admit(Headers(scope=scope))
            if not self.limits.enter(session.dev_key, session.organization_id):
                raise self.limits.concurrency_error()
        except BillError as error:
            await error_response(self.clock, error)(scope, receive, send)
            return
        try:
            self.sessions.touch(session)
            scope.setdefault("state", {})[SESSION_STATE_KEY] = session
            await self.app(scope, receive, send)
        finally:
            self.limits.leave(session.dev_key, session.organization_id)

    def _admit(self, headers: Headers) -> Session:
        dev_key = headers.get("devKey", "")
        session_id = headers.get("sessionId", "")
        # A missing header is a 400 and a wrong one a 401: BILL documents this for the webhook API only;
        # the sandbox assumes the main API does the same (UNCONFIRMED).
        missing = [name for name, value in (("devKey", dev_key), ("sessionId", session_id)) if not value]
        if missing:
            raise invalid(*(f"The {name} header is required." for name in missing))
        if not secrets.compare_digest(dev_key.encode(), self.settings.dev_key.encode()):
            raise bad_dev_key()
        # Counted per devKey before the session is checked: a call with a dead session still costs one.
        self.limits.count_request(dev_key)
        session = self.sessions.find(session_id, dev_key)
        if session is None:
            raise session_invalid()
        return session
