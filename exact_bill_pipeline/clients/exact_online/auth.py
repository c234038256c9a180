"""Exact Online OAuth 2.0: consent, code exchange, and a refresh that is single-flight across processes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import sqlalchemy as sa

from exact_bill_pipeline.clients.exact_online.server_clock import ServerClock, date_of
from exact_bill_pipeline.clients.exact_online.tokens import TokenPair, TokenStore
from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state.db import default_home
from exact_bill_pipeline.state.leases import Leases, new_holder
from exact_bill_pipeline.state.vault import Vault
from exact_bill_pipeline.transport.errors import (
    ApiError,
    AuthenticationFailed,
    ReauthorizationRequired,
    TransientApiError,
    UncertainOutcome,
)
from exact_bill_pipeline.transport.http import Assessment, HttpTransport

log = logging.getLogger(__name__)
SYSTEM = "Exact Online"
# Exact refuses a new token until 570 s after the previous one (api-reference §1.4): refresh only inside
# the last 30 s of a 600 s token, never on a fixed shorter timer, and by Exact's clock, not ours.
TOO_EARLY_SECONDS = 570.0
REFRESH_WINDOW_SECONDS = 30.0
# The Date header has whole seconds: a token issued at 12:00:00.9 says 12:00:00.
DATE_RESOLUTION_SECONDS = 1.0
# How long another process waits for a refresh that never ends (its process died) before taking it over.
LEASE_SECONDS = 60.0
LEASE_MARGIN_SECONDS = 0.5  # for renewing the lease before an attempt
# While another process refreshes, a token with this much life left is used rather than waited for.
STILL_GOOD_SECONDS = 5.0
WAIT_STEP_SECONDS = 0.1
REAUTHORIZE_HINT = "Run `exact-bill auth exact` to consent again."


@dataclass(frozen=True)
class ExactApp:
    """The app registration: where Exact lives for this country, and the app's credentials."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str = ""

    @property
    def token_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/api/oauth2/token"


class TooEarlyToRefresh(ApiError):
    """Exact refused a refresh because the current access token is less than 570 s old."""


class RefreshTakenOver(ApiError):
    """Our refresh lease lapsed before the request went out and another process holds it now."""


def _token_assessment(response: requests.Response) -> Assessment | None:
    if response.ok:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    reason = response.headers.get("Reason", "")
    status = response.status_code
    told = f"{error}: {description}".strip(": ") or f"HTTP {status}"
    if "TooEarlyToRefreshTokens" in reason or "access_token not expired" in description:
        return Assessment(TooEarlyToRefresh(f"{SYSTEM} refused the refresh as too early ({told})",
                                            system=SYSTEM, status=status))
    if status in {408, 429, 502, 503, 504}:
        return Assessment(ApiError(f"{SYSTEM} token endpoint answered {status}", system=SYSTEM, status=status),
                          retry=True, not_processed=status == 429)
    if status in {400, 401} and error in {"invalid_grant", "unauthorized_client", "invalid_request"}:
        refused = ReauthorizationRequired(
            f"{SYSTEM} refused the stored authorization ({told}). The connection cannot be used until someone "
            f"consents again. {REAUTHORIZE_HINT}", system=SYSTEM, status=status)
        refused.told = told
        return Assessment(refused)
    if error == "invalid_client":
        return Assessment(AuthenticationFailed(
            f"{SYSTEM} refused the app credentials ({told}): check the client ID and secret.",
            system=SYSTEM, status=status))
    return Assessment(AuthenticationFailed(f"{SYSTEM} token endpoint refused the request ({told}).",
                                           system=SYSTEM, status=status))


class ExactAuth:
    """The token pair of one app registration, kept encrypted in the vault and refreshed one process at a time.

    One process refreshes at a time: it holds a lease (a row timed by the database's clock), not a transaction,
    while it waits on Exact; the new pair is written in a short transaction of its own, retried, and kept in a
    local file until the database has it. Every decision is timed by Exact's clock (its Date header), and a
    refresh Exact refused as too early is stored with the pair, so no process asks again before it may.
    """

    def __init__(
        self,
        app: ExactApp,
        vault: Vault,
        transport: HttpTransport,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = LEASE_SECONDS,
        fallback_dir: Path | None = None,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.vault = vault
        self.transport = transport
        self.clock = clock
        self.name = f"exact:tokens:{app.client_id}"
        self.server_clock = ServerClock(clock)
        self.tokens = TokenStore(vault, self.name, fallback_dir or default_home() / "exact-token-fallback")
        self.leases = Leases(vault.store)
        self.lease_seconds = lease_seconds
        self.holder = new_holder()
        self.pause = pause  # real time: the lease lapses by the database's clock, not the sandbox's
        REDACTOR.register(app.client_secret)
        self.refreshes = 0  # refreshes this process made, for tests and metadata
        # The pair last read or written; an access token stays valid until its own expiry even when
        # another process refreshes, so it is used from memory until its refresh is due.
        self._cached: TokenPair | None = None
        self._unsaved: TokenPair | None = None  # refreshed, but the database refused it so far
        self._next_save = 0.0

    # ----- onboarding ---------------------------------------------------------------------------
    def authorize_url(self, state: str) -> str:
        query = urlencode({"client_id": self.app.client_id, "redirect_uri": self.app.redirect_uri,
                           "response_type": "code", "state": state, "force_login": "0"})
        return f"{self.app.base_url.rstrip('/')}/api/oauth2/auth?{query}"

    def exchange(self, code_or_redirect: str, *, expected_state: str | None = None) -> TokenPair:
        """Trades the code (or the whole redirect URL it came back on) for a token pair, and stores it."""
        code = self.code_from(code_or_redirect, expected_state)
        try:
            pair = self._token_call({"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": self.app.redirect_uri})
        except ReauthorizationRequired as refused:
            raise AuthenticationFailed(
                f"{SYSTEM} refused the authorization code ({refused.told}). Codes are single use and live "
                f"a few minutes: open the consent URL again and paste the new redirect promptly.",
                system=SYSTEM, status=refused.status) from None
        self.vault.put(self.name, asdict(pair))  # a person is waiting: a failure here is shown to them
        self.tokens.forget_kept()
        self._cached = pair
        return pair

    @staticmethod
    def code_from(code_or_redirect: str, expected_state: str | None = None) -> str:
        text = code_or_redirect.strip()
        if "?" not in text and "code=" not in text:
            if not text:
                raise ValueError("no authorization code given")
            return text
        query = parse_qs(urlsplit(text).query if "?" in text else text)
        if "error" in query:
            raise AuthenticationFailed(f"{SYSTEM} did not grant consent: {query['error'][0]}", system=SYSTEM)
        if "code" not in query:
            raise ValueError("the redirect URL carries no 'code' parameter; paste the whole URL Exact redirected to")
        if expected_state is not None and query.get("state", [""])[0] != expected_state:
            raise AuthenticationFailed(
                f"the redirect's state does not match this onboarding ({SYSTEM} consent from another attempt?); "
                f"start again", system=SYSTEM)
        return query["code"][0]

    def has_tokens(self) -> bool:
        return self.vault.get(self.name) is not None

    # ----- use ----------------------------------------------------------------------------------
    def access_token(self) -> str:
        """A valid access token, refreshing it first when its refresh is due by Exact's clock."""
        self._save_unsaved()
        pair = self._cached
        if pair is None or self._due(pair):
            pair = self._stored()  # another process may have refreshed already
            if self._due(pair):
                return self._refresh(stale=pair.access_token)
        self._cached = pair
        return pair.access_token

    def after_unauthorized(self, used_token: str) -> str:
        """Exact refused ``used_token`` (401): returns a newer token, or says why none can be had."""
        self._cached = None
        pair = self._stored()
        if pair.access_token != used_token:
            return pair.access_token  # another process refreshed meanwhile
        if self.server_clock.now() < pair.expires_at - REFRESH_WINDOW_SECONDS:  # the 401 told us Exact's time
            raise ReauthorizationRequired(
                f"{SYSTEM} refused an access token that should still be valid: the consent was probably "
                f"revoked. {REAUTHORIZE_HINT}", system=SYSTEM, status=401)
        return self._refresh(stale=used_token, expired=True)

    def _due(self, pair: TokenPair) -> bool:
        return self.server_clock.now() >= self._refresh_at(pair)

    @staticmethod
    def _refresh_at(pair: TokenPair) -> float:
        return max(pair.expires_at - REFRESH_WINDOW_SECONDS + DATE_RESOLUTION_SECONDS, pair.refresh_after or 0.0)

    def _stored(self) -> TokenPair:
        """The newest pair: the vault's, or one a process kept in the fallback file when the vault refused it."""
        stored, kept = self.tokens.stored(), self.tokens.kept()
        if kept is not None and (stored is None or kept.issued_at > stored.issued_at):
            self._adopt(kept)
            return kept
        if kept is not None:
            self.tokens.forget_kept()  # the vault has it, or something newer
        if stored is None:
            raise ReauthorizationRequired(f"no {SYSTEM} connection is stored yet. {REAUTHORIZE_HINT}", system=SYSTEM)
        return stored

    def _adopt(self, kept: TokenPair) -> None:
        """Stores a kept pair, unless another process holds the lease (it is refreshing, or storing it itself)."""
        if self._unsaved is not None or not self.leases.take(self.name, self.holder, self.lease_seconds):
            return
        try:
            log.warning("storing the %s token pair a process kept in %s when the database refused it",
                        SYSTEM, self.tokens.fallback)
            self.tokens.save(kept)
        finally:
            self._release_lease()

    def _refresh(self, *, stale: str, expired: bool = False) -> str:
        """Refreshes under the lease; a process that finds it taken uses its token while it lasts, then waits."""
        if not self.server_clock.known:
            self._probe_server_clock()
        deadline = time.monotonic() + 2 * self.lease_seconds
        while True:
            pair = self._stored()
            if (pair.access_token != stale or not expired) and not self._due(pair):
                self._cached = pair  # refreshed by another process, or not due by Exact's clock after all
                return pair.access_token
            if self.leases.take(self.name, self.holder, self.lease_seconds):
                try:
                    return self._refresh_under_lease(stale=stale, expired=expired)
                except RefreshTakenOver:
                    continue
            if not expired and self.server_clock.now() < pair.expires_at - STILL_GOOD_SECONDS:
                return pair.access_token
            if time.monotonic() > deadline:
                raise TransientApiError(
                    f"another process ({self.leases.holder(self.name) or 'gone now'}) has been refreshing the "
                    f"{SYSTEM} token for over {2 * self.lease_seconds:.0f} s; try again shortly", system=SYSTEM)
            self.pause(WAIT_STEP_SECONDS)

    def _refresh_under_lease(self, *, stale: str, expired: bool) -> str:
        try:
            pair = self._stored()  # read again under the lease: another process may have just finished
            if (pair.access_token != stale or not expired) and not self._due(pair):
                self._cached = pair
                return pair.access_token
            try:
                fresh = self._refresh_call(pair)
            except TooEarlyToRefresh:
                return self._remember_too_early(pair).access_token
            except ReauthorizationRequired:
                newer = self._stored()  # a pair kept by a process that could not store it, found just now?
                if newer.refresh_token == pair.refresh_token:
                    raise
                self._cached = newer
                return newer.access_token
            self.refreshes += 1
            self._cached = fresh
            # Stored before anyone uses it. A pair the database refuses stays in the fallback file, where the
            # next process on this machine finds it, and in memory, stored again on a later call.
            if not self.tokens.save(fresh):
                self._unsaved = fresh
            return fresh.access_token
        finally:
            self._release_lease()

    def _remember_too_early(self, pair: TokenPair) -> TokenPair:
        """Stores when a refresh may be asked for, by Exact's clock, so that no process asks again before it."""
        refused_at = self.server_clock.now()  # the refusal's Date header has just set it
        allowed = self._refresh_at(pair)
        if allowed <= refused_at:
            # Our record of the issue is wrong (timed on another clock): the token may be as young as now.
            allowed = refused_at + TOO_EARLY_SECONDS + DATE_RESOLUTION_SECONDS
        remembered = replace(pair, refresh_after=allowed)
        log.warning("%s refused the token refresh as too early; no process asks again for %.0f s (Exact's clock)",
                    SYSTEM, allowed - refused_at)
        self.tokens.save(remembered)
        self._cached = remembered
        return remembered

    def _save_unsaved(self) -> None:
        if self._unsaved is None or time.monotonic() < self._next_save:
            return
        self._next_save = time.monotonic() + 10.0
        if self.tokens.save(self._unsaved):
            self._unsaved = None

    def _probe_server_clock(self) -> None:
        """Exact's time before a first refresh, from the Date of its home page: no API or token call is spent."""
        try:
            response = self.transport.session.head(f"{self.app.base_url.rstrip('/')}/", timeout=self.transport.timeout,
                                                   allow_redirects=False)
        except requests.RequestException:
            return  # the token call's own answer will tell
        self.server_clock.observe(response)

    def _release_lease(self) -> None:
        try:
            self.leases.release(self.name, self.holder)
        except sa.exc.SQLAlchemyError as exc:  # it lapses by itself; the pair in hand matters more
            log.warning("could not release the %s token refresh lease (%s); it lapses in %.0f s",
                        SYSTEM, type(exc).__name__, self.lease_seconds)

    def _renew_lease(self) -> None:
        if not self.leases.take(self.name, self.holder, self.lease_seconds):
            raise RefreshTakenOver(f"another process took over the {SYSTEM} token refresh", system=SYSTEM)

    def _refresh_call(self, pair: TokenPair) -> TokenPair:
        form = {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
        try:
            return self._token_call(form, before_attempt=self._renew_lease)
        except UncertainOutcome:
            # The refresh may have rotated the token without our seeing the answer; trying the same one
            # again either works or tells us plainly (Old refresh token used) that consent is needed.
            return self._token_call(form, before_attempt=self._renew_lease)

    def _token_call(self, form: dict[str, str], *, before_attempt: Callable[[], None] | None = None) -> TokenPair:
        REDACTOR.register(form.get("refresh_token"), form.get("code"))
        # An attempt never outlives the lease renewed just before it: no two refreshes are ever in flight.
        budget = self.lease_seconds - LEASE_MARGIN_SECONDS
        connect = min(self.transport.timeout[0], budget / 2)
        read = min(self.transport.timeout[1], budget - connect)
        response = self.transport.request(
            "POST", self.app.token_url, assess=_token_assessment,
            data={**form, "client_id": self.app.client_id, "client_secret": self.app.client_secret},
            headers={"Accept": "application/json"}, before_attempt=before_attempt,
            after_response=self.server_clock.observe, timeout=(connect, read),
        )
        try:
            body = response.json()
            access, refresh = body["access_token"], body["refresh_token"]
            lifetime = float(body.get("expires_in") or 600)  # a string such as "600"
        except (ValueError, KeyError, TypeError):
            raise ApiError(f"{SYSTEM} token endpoint answered without a token pair", system=SYSTEM,
                           status=response.status_code) from None
        REDACTOR.register(access, refresh)
        # Timed by Exact's clock: the issue is when its answer says it was sent.
        issued_at = date_of(response) or self.server_clock.now()
        return TokenPair(access, refresh, issued_at, issued_at + lifetime)
