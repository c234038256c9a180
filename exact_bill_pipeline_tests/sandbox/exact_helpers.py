"""Helpers for the Exact sandbox contract tests: consent and tokens through OAuth, and API calls over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from exact_bill_pipeline.sandbox.server import RunningSandboxes

JSON = {"Accept": "application/json"}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def authorize(run: RunningSandboxes, **overrides: str | None) -> requests.Response:
    """GET /api/oauth2/auth as a browser would, without following the redirect."""
    exact = run.settings.exact
    params = {"client_id": exact.client_id, "redirect_uri": exact.redirect_uri, "response_type": "code",
              "state": "state-123", **overrides}
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(f"{run.exact_url}/api/oauth2/auth", params=params, allow_redirects=False, timeout=10)


def consent_code(run: RunningSandboxes) -> str:
    response = authorize(run)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def token_call(run: RunningSandboxes, **form: str) -> requests.Response:
    exact = run.settings.exact
    data = {"client_id": exact.client_id, "client_secret": exact.client_secret, **form}
    return requests.post(f"{run.exact_url}/api/oauth2/token", data=data, timeout=10)


def exchange(run: RunningSandboxes, code: str, **overrides: str) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": run.settings.exact.redirect_uri}
    return token_call(run, **{**form, **overrides})


def refresh(run: RunningSandboxes, refresh_token: str) -> requests.Response:
    return token_call(run, grant_type="refresh_token", refresh_token=refresh_token)


def advance(run: RunningSandboxes, seconds: float) -> None:
    """Moves the sandbox clock through the control surface."""
    response = requests.post(f"{run.exact_url}/_sandbox/clock", json={"advance": seconds}, timeout=10)
    assert response.status_code == 200, response.text


def control(run: RunningSandboxes, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, f"{run.exact_url}/_sandbox/{path}", json=body, timeout=10)


@dataclass
class ExactClient:
    """An onboarded app: its tokens and a session that talks JSON to the division."""

    run: RunningSandboxes
    access_token: str
    refresh_token: str
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def division(self) -> int:
        return self.run.settings.exact.division

    @property
    def root(self) -> str:
        return f"{self.run.exact_url}/api/v1/{self.division}"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", **JSON, **extra}

    def get(self, path: str, params: dict[str, str] | None = None, **headers: str) -> requests.Response:
        url = path if path.startswith("http") else f"{self.root}/{path}"
        return self.session.get(url, params=params, headers=self.headers(**headers), timeout=10)

    def post(self, path: str, body: Any, prefer: bool = False, **headers: str) -> requests.Response:
        extra = {"Prefer": "return=representation"} if prefer else {}
        return self.session.post(f"{self.root}/{path}", json=body, headers=self.headers(**extra, **headers),
                                 timeout=10)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(f"{self.root}/{path}", headers=self.headers(), timeout=10)

    def results(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()["d"]["results"]

    def all_pages(self, path: str, params: dict[str, str]) -> list[list[dict[str, Any]]]:
        """Every page of a collection, following __next."""
        pages = []
        response = self.get(path, params)
        while True:
            assert response.status_code == 200, response.text
            data = response.json()["d"]
            pages.append(data["results"])
            if "__next" not in data:
                return pages
            response = self.get(data["__next"])


def onboard(run: RunningSandboxes) -> ExactClient:
    """Consent, then exchange the code: the only way into the API, as in real life."""
    response = exchange(run, consent_code(run))
    assert response.status_code == 200, response.text
    tokens = response.json()
    return ExactClient(run, tokens["access_token"], tokens["refresh_token"])


def odata_message(response: requests.Response) -> str:
    return response.json()["error"]["message"]["value"]


def gl_accounts(client: ExactClient) -> dict[str, dict[str, Any]]:
    """Seeded G/L accounts by code (the first of duplicated codes wins)."""
    rows = [r for page in client.all_pages("financial/GLAccounts", {
        "$select": "ID,Code,Description,Type,IsBlocked,UseCostcenter", "$filter": "Type ne 0"}) for r in page]
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out.setdefault(row["Code"], row)
    return out


def suppliers(client: ExactClient) -> list[dict[str, Any]]:
    return [r for page in client.all_pages("crm/Accounts", {
        "$select": "ID,Code,Name,Blocked,IsSupplier", "$filter": "IsSupplier eq true"}) for r in page]


def purchase_entry(client: ExactClient, **overrides: Any) -> dict[str, Any]:
    """A valid purchase entry body for a seeded supplier, a unit expense account and its cost center."""
    accounts = gl_accounts(client)
    supplier = next(s for s in suppliers(client) if not s["Blocked"])
    body = {
        "Journal": "60", "Supplier": supplier["ID"], "EntryDate": entry_date(client.run),
        "YourRef": "INV-2025-0042", "Description": "Office supplies June",
        "PurchaseEntryLines": [
            {"GLAccount": accounts["4140"]["ID"], "AmountFC": 100.0, "Description": "Licences", "CostCenter": "100"},
            {"GLAccount": accounts["4640"]["ID"], "AmountFC": 25.5, "Description": "Paper"},
        ],
    }
    return {**body, **overrides}


def entry_date(run: RunningSandboxes, days_ago: int = 10) -> str:
    """A date inside the seeded financial periods, relative to the firm's anchor date."""
    return (run.settings.anchor - timedelta(days=days_ago)).isoformat()


def verify_hashcode(raw: bytes, secret: str) -> bool:
    """Exact's check: HMAC-SHA256 over the raw Content text, upper-case hex, as picqer does it."""
    match = re.fullmatch(rb'\{"Content":(.*),"HashCode":"([0-9A-Fa-f]{64})"\}', raw, re.S)
    if match is None:
        return False
    expected = hmac.new(secret.encode(), match.group(1), hashlib.sha256).hexdigest().upper().encode()
    return hmac.compare_digest(expected, match.group(2))
