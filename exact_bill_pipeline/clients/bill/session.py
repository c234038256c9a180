"""BILL sessions: one login reused across calls and processes, stored encrypted, renewed once when it dies."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
import sqlalchemy as sa

from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state.leases import Leases, new_holder
from exact_bill_pipeline.state.schema import call_budget
from exact_bill_pipeline.state.vault import Vault
from exact_bill_pipeline.transport.errors import (
    AuthenticationFailed,
    BudgetExhausted,
    TransientApiError,
    format_moment,
)
from exact_bill_pipeline.transport.http import Assessment, HttpTransport

SYSTEM = "BILL"
# BILL ends a session after 35 minutes without a call (api-reference bill.md §2.3); log in again a
# minute early rather than spend a failed call finding out.
IDLE_SECONDS = 35 * 60
IDLE_MARGIN_SECONDS = 60
TOUCH_EVERY_SECONDS = 30
# One process logs in at a time, so that a burst of processes spends one of the 200 logins an hour, not one
# each. A lease, not a transaction, while BILL answers: a login that outlives it costs a second login, no more.
LOGIN_LEASE_SECONDS = 30.0
WAIT_STEP_SECONDS = 0.1


@dataclass(frozen=True)
class BillLogin:
    api_url: str  # e.g. https://gateway.stage.bill.com/connect
    username: str
    password: str = field(repr=False)
    organization_id: str = ""
    dev_key: str = field(repr=False, default="")


def error_codes(response: requests.Response) -> list[tuple[str, str]]:
    """(code, message) pairs of BILL's error array, empty when the body is something else."""
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        return []
    return [(str(item.get("code", "")), str(item.get("message", ""))) for item in body if isinstance(item, dict)]


def _login_assessment(response: requests.Response) -> Assessment | None:
    if response.ok:
        return None
    codes = error_codes(response)
    told = "; ".join(f"{code} {message}".strip() for code, message in codes) or f"HTTP {response.status_code}"
    if any(code in {"BDC_1322"} for code, _ in codes) or response.status_code in {502, 503, 504}:
        return Assessment(AuthenticationFailed(f"{SYSTEM} login failed: {told}", system=SYSTEM),
                          retry=True, not_processed=True)
    return Assessment(AuthenticationFailed(
        f"{SYSTEM} refused the login ({told}): check the username, password, organization ID and developer "
        f"key, and that they belong to the environment at this base URL.", system=SYSTEM,
        status=response.status_code))


class LoginLimiter:
    """BILL allows 200 logins an hour per developer key; counted per organization across processes."""

    def __init__(self, scope: str, per_hour: int, clock: Callable[[], float]) -> None:
        self.scope, self.per_hour, self.clock = scope, per_hour, clock

    def take(self, conn: sa.Connection) -> None:
        """Counts one login inside the caller's exclusive transaction, or raises when the hour's are used up."""
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        hour = now.strftime("%Y-%m-%dT%H")
        row = conn.execute(sa.select(call_budget).where(call_budget.c.scope == self.scope)
                           .with_for_update()).mappings().first()
        used = row["period_calls"] if row and row["period"] == hour else 0
        if used >= self.per_hour:
            resume = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            raise BudgetExhausted(
                f"{SYSTEM} allows {self.per_hour} logins an hour per developer key and they are used up; "
                f"sessions are reused, so something keeps losing them. Run again after {format_moment(resume)}.",
                resume_at=resume)
        values = {"period": hour, "period_calls": used + 1, "updated_at": now}
        if row is None:
            conn.execute(sa.insert(call_budget).values(scope=self.scope, **values))
        else:
            conn.execute(sa.update(call_budget).where(call_budget.c.scope == self.scope).values(**values))


class BillSessions:
    """The session of one BILL user and organization, shared by every process through the vault."""

    def __init__(self, login: BillLogin, vault: Vault, transport: HttpTransport, *,
                 logins_per_hour: int = 200, clock: Callable[[], float] = time.time,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.login_settings = login
        self.vault = vault
        self.transport = transport
        self.clock = clock
        self.pause = pause  # real time: the lease lapses by the database's clock
        self.leases = Leases(vault.store)
        self.holder = new_holder()
        self.name = f"bill:session:{login.organization_id}:{login.username}"
        self.limiter = LoginLimiter(f"bill-logins:{login.organization_id}", logins_per_hour, clock)
        self.logins = 0  # logins this process made, for tests and metadata
        self._in_use: tuple[str, float] | None = None  # (session, last used by this process)
        self._written_at = 0.0  # when last_used was last stored for other processes
        REDACTOR.register(login.password, login.dev_key)

    def session_id(self) -> str:
        """A live session ID: the one in use unless it has idled out, else the stored one, else a new login."""
        if self._in_use and self._alive(self._in_use[1]):
            return self._in_use[0]
        stored = self.vault.get(self.name)
        if stored and self._alive(stored["last_used"]):
            return stored["sessionId"]
        return self._login(stale=stored["sessionId"] if stored else None)

    def _alive(self, last_used: float) -> bool:
        return self.clock() - last_used < IDLE_SECONDS - IDLE_MARGIN_SECONDS

    def after_invalid(self, used: str) -> str:
        """BILL said ``used`` is invalid (BDC_1109): a session another process made, or a new login."""
        return self._login(stale=used)

    def touch(self, session_id: str) -> None:
        """Remembers that the session was just used (it slides BILL's idle timer); written at most every 30 s."""
        now = self.clock()
        known = self._in_use is not None and self._in_use[0] == session_id
        self._in_use = (session_id, now)
        if known and now - self._written_at < TOUCH_EVERY_SECONDS:
            return
        with self.vault.store.exclusive() as conn:
            stored = self.vault.get(self.name, conn, lock=True)
            if stored and stored["sessionId"] == session_id:
                self.vault.put(self.name, {**stored, "last_used": now}, conn)
        self._written_at = now

    def logout(self) -> None:
        stored = self.vault.get(self.name)
        if not stored:
            return
        self.transport.request(
            "POST", f"{self.login_settings.api_url}/v3/logout", idempotent=True,
            headers={"devKey": self.login_settings.dev_key, "sessionId": stored["sessionId"]},
            assess=lambda r: None if r.ok or r.status_code == 401 else Assessment(
                AuthenticationFailed(f"{SYSTEM} logout failed: HTTP {r.status_code}", system=SYSTEM)),
        )
        self.vault.delete(self.name)

    def _login(self, *, stale: str | None) -> str:
        """Logs in under the lease; a process that waited uses the session the other one stored."""
        deadline = time.monotonic() + 2 * LOGIN_LEASE_SECONDS
        while not self.leases.take(self.name, self.holder, LOGIN_LEASE_SECONDS):
            if (session := self._fresh_stored(stale)) is not None:
                return session
            if time.monotonic() > deadline:
                raise TransientApiError(f"another process has been logging in to {SYSTEM} for over "
                                        f"{2 * LOGIN_LEASE_SECONDS:.0f} s; try again shortly", system=SYSTEM)
            self.pause(WAIT_STEP_SECONDS)
        try:
            return self._fresh_stored(stale) or self._new_session()
        finally:
            self.leases.release(self.name, self.holder)

    def _fresh_stored(self, stale: str | None) -> str | None:
        stored = self.vault.get(self.name)
        if stored and stored["sessionId"] != stale and self._alive(stored["last_used"]):
            self._in_use = (stored["sessionId"], stored["last_used"])
            return stored["sessionId"]
        return None

    def _new_session(self) -> str:
        with self.vault.store.exclusive() as conn:
            self.limiter.take(conn)
        login = self.login_settings
        response = self.transport.request(
            "POST", f"{login.api_url}/v3/login", assess=_login_assessment, idempotent=True,
            json={"username": login.username, "password": login.password,
                  "organizationId": login.organization_id, "devKey": login.dev_key},
        )
        try:
            session_id = str(response.json()["sessionId"])
        except (ValueError, KeyError, TypeError):
            raise AuthenticationFailed(f"{SYSTEM} login answered without a sessionId", system=SYSTEM) from None
        REDACTOR.register(session_id)
        self.vault.put(self.name, {"sessionId": session_id, "last_used": self.clock()})
        self.logins += 1
        self._in_use, self._written_at = (session_id, self.clock()), self.clock()
        return session_id
