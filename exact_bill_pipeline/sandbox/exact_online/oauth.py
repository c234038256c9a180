"""Exact's OAuth 2.0: the consent redirect, the token endpoint (code and refresh grants) and its many rules.

Rules emulated (api-reference §1): codes are single use and short-lived; refresh tokens rotate on every use
and an old one is refused ("Old refresh token used."); no new token within 570 s of the previous one of the
chain (TooEarlyToRefreshTokens); at most 200 token calls a day per app and user; refresh tokens unused for
30 days expire; access tokens live 600 s from issue; revoking consent kills the whole chain.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings

CHAIN_ERROR = "Token is not allowed, because of invalid or empty chainId"
TOO_EARLY = "Rate limit exceeded: access_token not expired"
# UNCONFIRMED: the wording Exact uses when the 200 token calls of a day are spent.
DAILY_LIMIT = "Rate limit exceeded: maximum number of token requests per day reached"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _opaque(prefix: str, size: int) -> str:
    # Real tokens are base64 text with '+', '/', '=' and '!': a client that does not form-encode them breaks.
    return prefix + base64.b64encode(secrets.token_bytes(size)).decode()


@dataclass
class Chain:
    """One consent of the sandbox user for the app: every token it issued, rotation by rotation."""

    id: str
    client_id: str
    issued_at: float  # when the chain last handed out a token pair
    revoked: bool = False


@dataclass
class RefreshToken:
    chain_id: str
    issued_at: float
    superseded: bool = False


@dataclass
class AccessToken:
    chain_id: str
    client_id: str
    expires_at: float


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    issued_at: float
    used: bool = False


@dataclass
class OAuthServer:
    """Token state of the one app the sandbox knows, for the one sandbox user."""

    settings: ExactSandboxSettings
    clock: SandboxClock
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    chains: dict[str, Chain] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    daily_calls: Counter[tuple[str, int]] = field(default_factory=Counter)
    stats: Counter[str] = field(default_factory=Counter)

    # ----- GET /api/oauth2/auth ---------------------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        """Consents for the sandbox user at once and redirects back with a code; bad requests never redirect."""
        params = request.query_params
        client_id = params.get("client_id")
        redirect_uri = params.get("redirect_uri")
        if client_id != self.settings.client_id:
            return _error_page("The client_id is unknown.")
        if redirect_uri != self.settings.redirect_uri:
            return _error_page("The redirect_uri does not match the redirect URL registered for this app.")
        if params.get("response_type") != "code":
            return _error_page("The response_type must be 'code'.")
        code = _opaque("stamp!IAAAA", 96)
        self.codes[code] = AuthorizationCode(client_id, redirect_uri, self.clock.now())
        self.stats["consents"] += 1
        query = f"code={quote(code, safe='')}"
        if params.get("state") is not None:
            query += f"&state={quote(params['state'], safe='')}"
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=302)

    # ----- POST /api/oauth2/token -------------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = (await request.body()).decode("utf-8", "replace")
        form = parse_qsl(raw, keep_blank_values=True) if content_type == "application/x-www-form-urlencoded" else []
        fields = dict(form)
        client_id = fields.get("client_id") or _json_client_id(raw)
        day = int(self.clock.now() // 86_400)
        self.daily_calls[(client_id, day)] += 1  # every call counts, refused ones too
        if self.daily_calls[(client_id, day)] > self.settings.token_calls_per_day:
            self.stats["daily_limit_refusals"] += 1
            return _token_error(400, "access_denied", DAILY_LIMIT, reason=f"TooManyTokenRequests: {DAILY_LIMIT}")
        if content_type != "application/x-www-form-urlencoded":
            return _token_error(400, "invalid_request", "The request must be form-encoded.")
        if len(fields) != len(form):
            return _token_error(400, "invalid_request", "A parameter was sent more than once.")
        grant = fields.get("grant_type")
        if grant not in {"authorization_code", "refresh_token"}:
            return _token_error(400, "unsupported_grant_type" if grant else "invalid_request")
        if client_id != self.settings.client_id or not secrets.compare_digest(
            fields.get("client_secret", ""), self.settings.client_secret
        ):
            # UNCONFIRMED status; RFC 6749 allows 401 for a failed client authentication.
            return _token_error(401, "invalid_client")
        if grant == "authorization_code":
            return self._exchange_code(fields)
        return self._refresh(fields)

    def _exchange_code(self, fields: dict[str, str]) -> Response:
        code = self.codes.get(fields.get("code", ""))
        if code is None or code.client_id != fields["client_id"]:
            return _token_error(400, "invalid_grant", "The authorization code is unknown.")
        if code.used:
            self.stats["code_reuse_refusals"] += 1
            return _token_error(400, "invalid_grant", "The authorization code has already been used.")
        if self.clock.now() - code.issued_at > self.settings.authorization_code_seconds:
            return _token_error(400, "invalid_grant", "The authorization code has expired.")
        if fields.get("redirect_uri") != code.redirect_uri:
            return _token_error(400, "invalid_grant", "The redirect_uri does not match the one of the authorization.")
        code.used = True
        chain = Chain(secrets.token_hex(16), code.client_id, self.clock.now())
        self.chains[chain.id] = chain
        self.stats["code_exchanges"] += 1
        return self._issue(chain)

    def _refresh(self, fields: dict[str, str]) -> Response:
        token = self.refresh_tokens.get(fields.get("refresh_token", ""))
        chain = self.chains.get(token.chain_id) if token else None
        if token is None or chain is None or chain.revoked or chain.client_id != fields["client_id"]:
            self.stats["unknown_refresh_refusals"] += 1
            return _token_error(400, "invalid_grant", CHAIN_ERROR, reason=f"Unknown: {CHAIN_ERROR}")
        if token.superseded:
            self.stats["old_refresh_token_refusals"] += 1
            return _token_error(401, "unauthorized_client", "Old refresh token used.")
        now = self.clock.now()
        expires_at = token.issued_at + self.settings.refresh_token_idle_days * 86_400
        if now >= expires_at:
            self.stats["expired_refresh_refusals"] += 1
            message = f"The refresh token expired at {_dotnet_time(expires_at)} and it is now {_dotnet_time(now)}."
            return _token_error(400, "invalid_request", message)
        if now - chain.issued_at < self.settings.too_early_seconds:
            # The refresh token stays valid: the client may try again once 570 s have passed.
            self.stats["too_early_refusals"] += 1
            return _token_error(400, "access_denied", TOO_EARLY, reason=f"TooEarlyToRefreshTokens: {TOO_EARLY}")
        token.superseded = True
        chain.issued_at = now
        self.stats["refreshes"] += 1
        return self._issue(chain)

    def _issue(self, chain: Chain) -> Response:
        now = self.clock.now()
        self._forget_expired_access_tokens(now)
        access = _opaque("AAEAA", 384)
        refresh = _opaque("Gcp7!IAAAA", 192)
        self.access_tokens[access] = AccessToken(chain.id, chain.client_id, now + self.settings.access_token_seconds)
        self.refresh_tokens[refresh] = RefreshToken(chain.id, now)
        body = {"access_token": access, "token_type": "bearer",
                "expires_in": str(self.settings.access_token_seconds), "refresh_token": refresh}
        return JSONResponse(body, headers=NO_STORE)

    def _forget_expired_access_tokens(self, now: float) -> None:
        # Dead tokens are kept a day, so that the 401s they still cause count against their app.
        for key in [k for k, t in self.access_tokens.items() if t.expires_at <= now - 86_400]:
            del self.access_tokens[key]

    # ----- used by the API and the control surface ---------------------------------------------------------------
    def valid_access(self, token: str | None) -> AccessToken | None:
        """The live access token, or None when it is missing, unknown, expired or its chain revoked."""
        found = self.access_tokens.get(token or "")
        if found is None or found.expires_at <= self.clock.now() or self.chains[found.chain_id].revoked:
            return None
        return found

    def owner_of(self, token: str | None) -> str | None:
        """The app a dead but known access token belonged to, so its 401s count against that app."""
        found = self.access_tokens.get(token or "")
        return found.client_id if found else None

    def revoke_consent(self) -> int:
        """Kills every chain: its access tokens stop working and its refresh tokens are refused."""
        live = [chain for chain in self.chains.values() if not chain.revoked]
        for chain in live:
            chain.revoked = True
        self.stats["revocations"] += len(live)
        return len(live)

    def snapshot(self) -> dict[str, Any]:
        day = int(self.clock.now() // 86_400)
        return {
            **{k: self.stats.get(k, 0) for k in (
                "consents", "code_exchanges", "refreshes", "too_early_refusals", "old_refresh_token_refusals",
                "unknown_refresh_refusals", "expired_refresh_refusals", "code_reuse_refusals",
                "daily_limit_refusals", "revocations")},
            "token_calls_today": sum(n for (_c, d), n in self.daily_calls.items() if d == day),
            "live_chains": sum(1 for c in self.chains.values() if not c.revoked),
        }


def _json_client_id(raw: str) -> str:
    """The client_id of a (wrongly) JSON-encoded token request, so that the call counts against its app."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    return str(body.get("client_id", "")) if isinstance(body, dict) else ""


def _error_page(message: str) -> Response:
    body = f"<html><body><h1>Bad Request</h1><p>{html.escape(message)}</p></body></html>"
    return Response(body, status_code=400, media_type="text/html; charset=utf-8")


def _token_error(status: int, error: str, description: str | None = None, reason: str | None = None) -> Response:
    body = {"error": error}
    if description:
        body["error_description"] = description
    headers = dict(NO_STORE)
    if reason:
        headers["Reason"] = reason
    return JSONResponse(body, status_code=status, headers=headers)


def _dotnet_time(epoch_seconds: float) -> str:
    """The US .NET format Exact writes in its refresh-token expiry message: 10/11/2022 9:18:20 PM."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"
