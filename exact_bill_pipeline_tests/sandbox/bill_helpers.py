"""Helpers for the BILL sandbox contract tests: log in, call both API bases, drive the control surface."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from exact_bill_pipeline.sandbox.ap_seed import ApDocuments
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.sandbox.server import RunningSandboxes

TIMEOUT = 10
ERROR_KEYS = {"timestamp", "code", "severity", "category", "message"}


def credentials(running: RunningSandboxes) -> dict[str, str]:
    bill = running.settings.bill
    return {"username": bill.username, "password": bill.password, "organizationId": bill.organization_id,
            "devKey": bill.dev_key}


def login_response(running: RunningSandboxes, **changes: Any) -> requests.Response:
    return requests.post(f"{running.bill_api_url}/v3/login", json={**credentials(running), **changes},
                         timeout=TIMEOUT)


def login(running: RunningSandboxes) -> dict[str, str]:
    """The devKey and sessionId headers of a fresh session."""
    response = login_response(running)
    assert response.status_code == 200, response.text
    return {"devKey": running.settings.bill.dev_key, "sessionId": response.json()["sessionId"]}


def api(running: RunningSandboxes, method: str, path: str, headers: dict[str, str] | None = None,
        **kwargs: Any) -> requests.Response:
    """A call to the API base, e.g. api(running, "GET", "/v3/bills", headers, params={"max": 5})."""
    return requests.request(method, f"{running.bill_api_url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)


def events(running: RunningSandboxes, method: str, path: str, headers: dict[str, str] | None = None,
           **kwargs: Any) -> requests.Response:
    """A call to the webhook-management base, e.g. events(running, "GET", "/v3/events/catalog", headers)."""
    return requests.request(method, f"{running.bill_events_url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)


def control(running: RunningSandboxes, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, f"{running.bill_url}/_sandbox{path}", json=body, timeout=TIMEOUT)


def advance_clock(running: RunningSandboxes, seconds: float) -> None:
    assert control(running, "POST", "/clock", {"advance": seconds}).status_code == 200


def set_clock(running: RunningSandboxes, epoch_seconds: float) -> None:
    assert control(running, "POST", "/clock", {"set": epoch_seconds}).status_code == 200


def page(running: RunningSandboxes, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = api(running, "GET", path, headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def all_rows(running: RunningSandboxes, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every row of a list, following nextPage with the same filters and sort."""
    rows: list[dict[str, Any]] = []
    params = {"max": 100, **params}
    while True:
        data = page(running, path, headers, **params)
        rows += data["results"]
        if "nextPage" not in data:
            return rows
        params["page"] = data["nextPage"]


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Checks BILL's error array and returns its first entry."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list)
    assert body
    for entry in body:
        assert set(entry) == ERROR_KEYS
        assert entry["severity"] == "ERROR"
    if code is not None:
        assert body[0]["code"] == code, body
    return body[0]


def new_key() -> str:
    return str(uuid.uuid4())


def subscription_body(url: str, *event_types: str, name: str = "Pipeline") -> dict[str, Any]:
    types = event_types or ("bill.created", "bill.updated")
    return {"name": name, "status": {"enabled": True},
            "events": [{"type": event_type, "version": "1"} for event_type in types], "notificationUrl": url}


def subscribe(running: RunningSandboxes, headers: dict[str, str], url: str, *event_types: str) -> dict[str, Any]:
    response = events(running, "POST", "/v3/subscriptions", {**headers, "X-Idempotent-Key": new_key()},
                      json=subscription_body(url, *event_types))
    assert response.status_code == 200, response.text
    return response.json()


def verify(raw_body: bytes, header_value: str, security_key: str) -> bool:
    """The verification recipe of api-reference bill.md §6.4, as a receiver would run it."""
    mac = hmac.new(security_key.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode("ascii"), header_value or "")


def firm(running: RunningSandboxes) -> Firm:
    """The seeded firm the sandbox serves (deterministic from the settings), to compute expectations."""
    return Firm(running.settings)


def seeded_bill_count(running: RunningSandboxes) -> int:
    """The firm's ordinary bills plus, when it has them, its AP documents' bills (issue 14)."""
    extra = len(ApDocuments(firm(running)).bills) if running.settings.ap_documents else 0
    return running.settings.bills + extra


def create_bill(running: RunningSandboxes, **changes: Any) -> dict[str, Any]:
    """A bill made through the control surface, for the seeded firm's first vendor and expense account."""
    seeded = firm(running)
    expense = next(a for a in seeded.chart_of_accounts if a.type == "EXPENSE")
    body = {
        "vendorId": seeded.vendors[0].id,
        "invoice": {"invoiceNumber": f"T-{uuid.uuid4().hex[:8]}", "invoiceDate": "2026-01-15"},
        "dueDate": "2026-02-14",
        "billLineItems": [{"amount": 125.5, "description": "Test line",
                           "classifications": {"chartOfAccountId": expense.id}}],
        **changes,
    }
    response = control(running, "POST", "/bills", body)
    assert response.status_code == 201, response.text
    return response.json()


def webhook_state(running: RunningSandboxes) -> dict[str, Any]:
    response = control(running, "GET", "/webhooks")
    assert response.status_code == 200
    return response.json()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
