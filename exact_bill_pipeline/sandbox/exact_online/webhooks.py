"""Exact webhooks: subscriptions with the callback probe, and signed deliveries from a background thread.

A delivery is compact JSON ``{"Content":{…},"HashCode":"…"}``; HashCode is the upper-case hex HMAC-SHA256 of
the exact Content bytes, keyed with the app's webhook secret (api-reference §6.3-6.4). The event loop never
waits on a callback: the probe runs in a worker thread, deliveries on the dispatcher thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import uuid
from collections import deque
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.exact_online.errors import ValidationFailed
from exact_bill_pipeline.sandbox.exact_online.store import ChangeEvent, DivisionStore, Row
from exact_bill_pipeline.sandbox.settings import SandboxSettings

# Topics from the reference pages and the endpoint index (api-reference §6.5). "FinancialTransactions", the
# 2016 name, is refused: whether Exact still accepts it is UNCONFIRMED (stricter). "GLAccounts" is the topic
# name the sandbox uses for financial/GLAccounts (UNCONFIRMED).
TOPICS = frozenset({
    "Accounts", "BankAccounts", "BankEntries", "CashEntries", "Contacts", "CostTransactions", "Documents",
    "GeneralJournalEntries", "GLAccounts", "GoodsDeliveries", "Items", "PurchaseEntries", "PurchaseOrders",
    "Quotations", "SalesEntries", "SalesInvoices", "SalesOrders", "StockPositions", "Subscriptions",
    "TimeTransactions",
})
INSTANT_TOPICS = frozenset({"GoodsDeliveries"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
SEND_FAILURE = "500 An error occurred while sending the request."  # observed wording (api-reference §6.2)
DELIVERY_LOG_SIZE = 1000


def sign(content: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest().upper()


def delivery_body(content: dict[str, Any], secret: str) -> bytes:
    """The exact bytes Exact posts: the compact Content object, then the HashCode computed over those bytes."""
    raw = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    return b'{"Content":' + raw + b',"HashCode":"' + sign(raw, secret).encode() + b'"}'


class Dispatcher:
    """Posts deliveries once they are due on the sandbox clock, on a background thread."""

    def __init__(
        self, clock: SandboxClock, timeout: float, retry_delays: tuple[float, ...], log: deque[dict[str, Any]]
    ) -> None:
        self.clock = clock
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.log = log
        self._queue: list[tuple[float, int, str, bytes, int]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="exact-webhooks", daemon=True)
        self._thread.start()

    def submit(self, due: float, url: str, body: bytes, attempt: int = 0) -> None:
        with self._condition:
            heapq.heappush(self._queue, (due, next(self._order), url, body, attempt))
            self._condition.notify()

    def pending(self) -> int:
        with self._condition:
            return len(self._queue)

    def close(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        self._thread.join(timeout=5)
        self._session.close()

    def _run(self) -> None:
        while True:
            with self._condition:
                if self._stopped:
                    return
                if not self._queue or self._queue[0][0] > self.clock.now():
                    # The sandbox clock can jump, so look again soon rather than sleeping until the due time.
                    self._condition.wait(timeout=0.05)
                    continue
                _due, _n, url, body, attempt = heapq.heappop(self._queue)
            if not self._deliver(url, body, attempt) and attempt < len(self.retry_delays):
                self.submit(self.clock.now() + self.retry_delays[attempt], url, body, attempt + 1)

    def _deliver(self, url: str, body: bytes, attempt: int) -> bool:
        entry: dict[str, Any] = {"url": url, "body": body.decode(), "at": self.clock.now(), "attempt": attempt + 1}
        try:
            response = self._session.post(url, data=body, timeout=self.timeout,
                                          headers={"Content-Type": "application/json; charset=utf-8"})
            entry["status"] = response.status_code
        except requests.RequestException as exc:
            entry["error"] = type(exc).__name__
        self.log.append(entry)
        return 200 <= entry.get("status", 0) < 300


class WebhookHub:
    """Subscriptions of the division and the deliveries their topics cause."""

    def __init__(self, settings: SandboxSettings, clock: SandboxClock, store: DivisionStore) -> None:
        self.settings = settings
        self.exact = settings.exact
        self.clock = clock
        self.store = store
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=DELIVERY_LOG_SIZE)
        self.dispatcher = Dispatcher(clock, self.exact.webhook_delivery_timeout_seconds,
                                     self.exact.webhook_retry_delays, self.deliveries)
        self._base_urls: dict[str, str] = {}

    async def subscribe(self, client_id: str, values: Row, base_url: str) -> Row:
        """Validates the subscription, probes its callback with an empty POST, and stores it."""
        problems = self._problems(client_id, values)
        if problems:
            raise ValidationFailed(problems)
        failure = await asyncio.to_thread(self._probe, values["CallbackURL"])
        if failure:
            raise ValidationFailed([f"Invalid: Post to callback URL endpoint returns {failure}"])
        problems = self._problems(client_id, values)  # again: another request may have subscribed meanwhile
        if problems:
            raise ValidationFailed(problems)
        row = {
            "ID": str(uuid.uuid4()), "CallbackURL": values["CallbackURL"], "Topic": values["Topic"],
            "ClientID": client_id, "UserID": self.store.user_id, "Division": self.store.division,
            "Description": "Exact Online sandbox app", "IsInstant": bool(values.get("IsInstant")),
        }
        self.store.insert("WebhookSubscriptions", row)
        self._base_urls[row["ID"]] = base_url
        return row

    def unsubscribe(self, client_id: str, key: str) -> Row | None:
        row = self.store.get("WebhookSubscriptions", key)
        if row is None or row["ClientID"] != client_id:
            return None
        self._base_urls.pop(key, None)
        return self.store.delete("WebhookSubscriptions", key)

    def _problems(self, client_id: str, values: Row) -> list[str]:
        problems = []
        url, topic = values.get("CallbackURL"), values.get("Topic")
        if not url:
            problems.append("Mandatory: CallbackURL")
        if not topic:
            problems.append("Mandatory: Topic")
        elif topic not in TOPICS:
            problems.append(f"Invalid value: Topic {topic}")
        if values.get("IsInstant") and topic not in INSTANT_TOPICS:
            problems.append(f"Invalid value: IsInstant is only available for topic GoodsDeliveries, not {topic}")
        if values.get("UserID") not in {None, self.store.user_id}:
            problems.append("Invalid reference: UserID")
        if url:
            problems.extend(self._url_problems(url))
            if any(r["Topic"] == topic and r["CallbackURL"] == url and r["ClientID"] == client_id
                   for r in self.store.table("WebhookSubscriptions").rows.values()):
                # A duplicate topic subscription appears to be refused; wording UNCONFIRMED.
                problems.append(f"Duplicate: there already is a subscription to topic {topic} for this CallbackURL")
        return problems

    def _url_problems(self, url: str) -> list[str]:
        # The rules are documented (https only, the redirect URL's domain); the wordings are UNCONFIRMED.
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        loopback = host in LOOPBACK_HOSTS and self.settings.allow_http_loopback_callbacks
        loopback_http = parts.scheme == "http" and loopback
        problems = []
        if parts.scheme != "https" and not loopback_http:
            problems.append("Invalid: CallbackURL must be an https URL")
        redirect_host = (urlsplit(self.exact.redirect_uri).hostname or "").lower()
        if host != redirect_host:
            problems.append("Invalid: the domain of the CallbackURL must be the domain of the app's redirect URL")
        return problems

    def _probe(self, url: str) -> str | None:
        """None when the callback answers 2xx to an empty POST (Content-Length: 0, no HashCode)."""
        try:
            response = requests.post(url, data=b"", timeout=self.exact.webhook_probe_timeout_seconds)
        except requests.RequestException:
            return SEND_FAILURE
        if 200 <= response.status_code < 300:
            return None
        reason = response.reason or _phrase(response.status_code)
        return f"{response.status_code} {reason}."

    def on_change(self, event: ChangeEvent) -> None:
        """Queues one delivery per subscription to the event's topic."""
        if event.action not in self.exact.webhook_actions:
            return
        created_on = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        stamp = created_on.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created_on.microsecond // 1000:03d}"
        due = self.clock.now() + self.exact.webhook_delay_seconds
        division = self.store.division
        for sub in list(self.store.table("WebhookSubscriptions").rows.values()):
            if sub["Topic"] != event.topic or sub["Division"] != division:
                continue
            base = self._base_urls.get(sub["ID"], "")
            content = {
                "Topic": event.topic, "ClientId": sub["ClientID"], "Division": division, "Action": event.action,
                "Key": event.key, "ExactOnlineEndpoint": f"{base}/api/v1/{division}/{event.path}(guid'{event.key}')",
                "EventCreatedOn": stamp,
            }
            self.dispatcher.submit(due, sub["CallbackURL"], delivery_body(content, self.exact.webhook_secret))

    def snapshot(self) -> dict[str, Any]:
        return {"pending": self.dispatcher.pending(), "deliveries": list(self.deliveries)}

    def close(self) -> None:
        self.dispatcher.close()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
