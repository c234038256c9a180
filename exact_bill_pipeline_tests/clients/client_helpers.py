"""Building the real clients against running sandboxes, on the sandbox's clock, for the client tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.sandbox.server import RunningSandboxes
from exact_bill_pipeline.state.db import StateStore


def exact_client(running: RunningSandboxes, state_url: str, **overrides: Any) -> ExactOnlineClient:
    exact = running.settings.exact
    fields = {"base_url": running.exact_url, "client_id": exact.client_id, "client_secret": exact.client_secret,
              "redirect_uri": exact.redirect_uri, "division": exact.division, "state_url": state_url}
    return ExactOnlineClient(**{**fields, **overrides})


def exact_api(running: RunningSandboxes, state_url: str, key: str, **overrides: Any) -> ExactApi:
    """An ExactApi on the sandbox clock, whose waits move that clock instead of sleeping."""
    return exact_client(running, state_url, **overrides).build_api(
        store=StateStore(state_url), vault_key=key, clock=running.clock.now, sleep=running.clock.advance)


def consent_redirect(api: ExactApi, state: str = "s") -> str:
    """What a browser would do: open the consent URL; the sandbox consents and redirects."""
    response = requests.get(api.auth.authorize_url(state), allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def onboard(api: ExactApi) -> None:
    api.auth.exchange(consent_redirect(api), expected_state="s")


def bill_client(running: RunningSandboxes, state_url: str, **overrides: Any) -> BillClient:
    bill = running.settings.bill
    fields = {"api_url": running.bill_api_url, "events_url": running.bill_events_url, "username": bill.username,
              "password": bill.password, "organization_id": bill.organization_id, "dev_key": bill.dev_key,
              "state_url": state_url}
    return BillClient(**{**fields, **overrides})


def bill_api(running: RunningSandboxes, state_url: str, key: str, **overrides: Any) -> BillApi:
    return bill_client(running, state_url, **overrides).build_api(
        store=StateStore(state_url), vault_key=key, clock=running.clock.now, sleep=running.clock.advance)


def sandbox_get(running: RunningSandboxes, system: str, path: str) -> Any:
    base = running.exact_url if system == "exact" else running.bill_url
    response = requests.get(f"{base}/_sandbox/{path}", timeout=10)
    assert response.ok, response.text
    return response.json()


def sandbox_post(running: RunningSandboxes, system: str, path: str, body: Any = None) -> Any:
    base = running.exact_url if system == "exact" else running.bill_url
    response = requests.post(f"{base}/_sandbox/{path}", json=body if body is not None else {}, timeout=10)
    assert response.ok, response.text
    return response.json() if response.content else None


def add_fault(running: RunningSandboxes, system: str, **fault: Any) -> None:
    sandbox_post(running, system, "faults", fault)


def token_stats(running: RunningSandboxes) -> dict[str, int]:
    return sandbox_get(running, "exact", "token-stats")


def counters(running: RunningSandboxes, system: str) -> dict[str, Any]:
    return sandbox_get(running, system, "counters")


def query(**params: str) -> str:
    return urlencode(params)
