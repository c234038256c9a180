"""Exact Online OAuth 2.0: consent, code exchange, and a refresh that is single-flight across processes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state.vault import Vault
from exact_bill_pipeline.transport.errors import (
    ApiError,
    AuthenticationFailed,
    ReauthorizationRequired,
    UncertainOutcome,
)
from exact_bill_pipeline.transport.http import Assessment, HttpTransport

log = logging.getLogger(__name__)
SYSTEM = "Exact Online"
# Exact refuses a new token until 570 s after the previous one (api-reference §1.4): refresh only inside
# the last 30 s of a 600 s token, never on a fixed shorter timer.
REFRESH_WINDOW_SECONDS = 30.0
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


@dataclass(frozen=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    issued_at: float
    expires_at: float


class TooEarlyToRefresh(ApiError):
    """Exact refused a refresh because the current access token is less than 570 s old."""


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
    """The token pair of one app registration, kept encrypted in the vault and refreshed one process at a time."""

    def __init__(
        self,
        app: ExactApp,
        vault: Vault,
        transport: HttpTransport,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.vault = vault
        self.transport = transport
        self.clock = clock
        self.name = f"exact:tokens:{app.client_id}"
        REDACTOR.register(app.client_secret)
        self.refreshes = 0  # refreshes this process made, for tests and metadata
        # The pair last read or written; an access token stays valid until its own expiry even when
        # another process refreshes, so it is used from memory until its last 30 seconds.
        self._cached: TokenPair | None = None

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
        self.vault.put(self.name, asdict(pair))
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
        """A valid access token, refreshing it first when it is inside its last 30 seconds."""
        pair = self._cached
        if pair is None or self.clock() >= pair.expires_at - REFRESH_WINDOW_SECONDS:
            pair = self._stored()  # another process may have refreshed already
            if self.clock() >= pair.expires_at - REFRESH_WINDOW_SECONDS:
                return self._refresh(stale=pair.access_token)
        self._cached = pair
        return pair.access_token

    def after_unauthorized(self, used_token: str) -> str:
        """Exact refused ``used_token`` (401): returns a newer token, or says why none can be had."""
        self._cached = None
        pair = self._stored()
        if pair.access_token != used_token:
            return pair.access_token  # another process refreshed meanwhile
        if self.clock() < pair.expires_at - REFRESH_WINDOW_SECONDS:
            raise ReauthorizationRequired(
                f"{SYSTEM} refused an access token that should still be valid: the consent was probably "
                f"revoked. {REAUTHORIZE_HINT}", system=SYSTEM, status=401)
        return self._refresh(stale=used_token)

    def _stored(self) -> TokenPair:
        secret = self.vault.get(self.name)
        if secret is None:
            raise ReauthorizationRequired(f"no {SYSTEM} connection is stored yet. {REAUTHORIZE_HINT}", system=SYSTEM)
        return TokenPair(**secret)

    def _refresh(self, *, stale: str) -> str:
        """Refreshes under the credentials row lock; a process that waited reuses the fresh pair."""
        with self.vault.store.exclusive() as conn:
            secret = self.vault.get(self.name, conn, lock=True)
            if secret is None:
                raise ReauthorizationRequired(f"no {SYSTEM} connection is stored. {REAUTHORIZE_HINT}", system=SYSTEM)
            pair = TokenPair(**secret)
            if pair.access_token != stale and self.clock() < pair.expires_at - REFRESH_WINDOW_SECONDS:
                self._cached = pair
                return pair.access_token
            try:
                fresh = self._refresh_call(pair)
            except TooEarlyToRefresh:
                # Our clock is ahead of Exact's: the stored token is still good for a while.
                log.info("%s said the token is too young to refresh; using it a little longer", SYSTEM)
                return pair.access_token
            # Written inside the lock and committed before anyone uses it: a rotated refresh token that
            # is lost cannot be recovered without a person.
            self.vault.put(self.name, asdict(fresh), conn)
        self._cached = fresh
        self.refreshes += 1
        return fresh.access_token

    def _refresh_call(self, pair: TokenPair) -> TokenPair:
        form = {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
        try:
            return self._token_call(form)
        except UncertainOutcome:
            # The refresh may have rotated the token without our seeing the answer; trying the same one
            # again either works or tells us plainly (Old refresh token used) that consent is needed.
            return self._token_call(form)

    def _token_call(self, form: dict[str, str]) -> TokenPair:
        REDACTOR.register(form.get("refresh_token"), form.get("code"))
        response = self.transport.request(
            "POST", self.app.token_url, assess=_token_assessment,
            data={**form, "client_id": self.app.client_id, "client_secret": self.app.client_secret},
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json()
            access, refresh = body["access_token"], body["refresh_token"]
            lifetime = float(body.get("expires_in") or 600)  # a string such as "600"
        except (ValueError, KeyError, TypeError):
            raise ApiError(f"{SYSTEM} token endpoint answered without a token pair", system=SYSTEM,
                           status=response.status_code) from None
        REDACTOR.register(access, refresh)
        # Timed from receipt: Exact issued the token before we got it, so 570 s from now is never too early.
        received_at = self.clock()
        return TokenPair(access, refresh, received_at, received_at + lifetime)
