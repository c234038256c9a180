"""A running receiver over a test state database, and ways to sign deliveries like Exact and BILL do."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from exact_bill_pipeline.receiver.app import ReceiverSettings, create_receiver_app
from exact_bill_pipeline.receiver.limits import SenderLimits
from exact_bill_pipeline.receiver.signatures import bill_signature
from exact_bill_pipeline.serving import BackgroundServers
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline.state.webhook_keys import WebhookKeys

SECRET = "exact-webhook-secret-for-tests"
BILL_KEY = "bill-security-key-for-tests"


@dataclass
class Receiver:
    url: str
    inbox: Inbox
    keys: WebhookKeys
    limits: SenderLimits

    def post(self, source: str, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
        base = {"Content-Type": "application/json"}
        return requests.post(f"{self.url}/webhooks/{source}", data=body, headers={**base, **(headers or {})},
                             timeout=10)


@contextlib.contextmanager
def running_receiver(state_url: str, limits: SenderLimits) -> Iterator[Receiver]:
    """The receiver app on a free port, over that state database, with one registered BILL key."""
    store = StateStore(state_url)
    keys = WebhookKeys(Vault(store, generate_key()))
    keys.add("sub-1", BILL_KEY, url="http://127.0.0.1/webhooks/bill")
    inbox = Inbox(store)
    app = create_receiver_app(ReceiverSettings(SECRET, 123456), inbox, keys, limits)
    with BackgroundServers([app], name="receiver") as (url,):
        yield Receiver(url, inbox, keys, limits)


@pytest.fixture
def receiver(state_url) -> Iterator[Receiver]:
    """A receiver whose sender limits are out of the way."""
    with running_receiver(state_url, SenderLimits(max_refusals=1000, max_per_second=1000)) as running:
        yield running


def exact_content(key: str | None = None, action: str = "Update", topic: str = "GLAccounts") -> bytes:
    content = {"Topic": topic, "ClientId": str(uuid.uuid4()), "Division": 123456, "Action": action,
               "Key": key or str(uuid.uuid4()),
               "ExactOnlineEndpoint": "https://start.exactonline.nl/api/v1/123456/financial/GLAccounts",
               "EventCreatedOn": "2026-11-26T10:00:00.123"}
    return json.dumps(content, separators=(",", ":")).encode()


def exact_body(content: bytes, hashcode: str | None = None, secret: str = SECRET) -> bytes:
    digest = hashcode
    if digest is None:
        digest = hmac.new(secret.encode(), content, hashlib.sha256).hexdigest().upper()
    return b'{"Content":' + content + b',"HashCode":"' + digest.encode() + b'"}'


def bill_body(event_type: str = "bill.updated", record: dict[str, Any] | None = None,
              event_id: str | None = None) -> bytes:
    entity = event_type.split(".")[0]
    payload = {"metadata": {"eventId": event_id or str(uuid.uuid4()), "subscriptionId": "sub-1",
                            "organizationId": "00801", "eventType": event_type, "version": "1"},
               entity: record or {"id": "00n02SB0000000000001", "createdTime": "2026-11-01T10:00:00.000+00:00"}}
    return json.dumps(payload, separators=(",", ":")).encode()


def signed(body: bytes, key: str = BILL_KEY) -> dict[str, str]:
    return {"x-bill-sha-signature": bill_signature(body, key)}
