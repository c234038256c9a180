"""BILL webhooks: subscriptions, the event log, and delivery with BILL's retries and auto-disable (bill.md §6)."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from exact_bill_pipeline.sandbox.bill.delivery import Dispatcher, Poster
from exact_bill_pipeline.sandbox.bill.errors import invalid, not_found
from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.seed import iso_ms
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings

VERSION = "1"
# The documented event types (bill.md §6.2) without the Spend & Expense ones, which are out of scope.
CATALOG = (
    "vendor.created", "vendor.updated", "vendor.archived", "vendor.restored", "autopay.failed",
    "bill.created", "bill.updated", "bill.archived", "bill.restored", "payment.updated", "payment.failed",
    "bank-account.created", "bank-account.updated", "card-account.created", "card-account.updated",
    "invoice.created", "invoice.updated", "invoice.archived", "invoice.restored", "risk-verification.updated",
    "mass-payment.updated",
)


def entity_key(event_type: str) -> str:
    """The payload's entity object name: bill.created -> bill, bank-account.created -> bankAccount."""
    head, *rest = event_type.rsplit(".", 1)[0].split("-")
    return head + "".join(word.title() for word in rest)


@dataclass(frozen=True)
class SubscriptionRequest:
    name: str
    enabled: bool
    events: tuple[str, ...]
    url: str


@dataclass
class Subscription:
    id: str
    organization_id: str
    name: str
    enabled: bool
    events: tuple[str, ...]
    url: str
    created_ms: int
    updated_ms: int
    security_key: str = field(repr=False)

    def view(self) -> dict[str, Any]:
        """The subscription as the API shows it; the security key is shown only on create and rotation."""
        return {
            "id": self.id,
            "name": self.name,
            "organizationId": self.organization_id,
            # UNCONFIRMED which fields the status object has beyond `enabled`; the sandbox shows only that.
            "status": {"enabled": self.enabled},
            "events": [{"type": event_type, "version": VERSION} for event_type in self.events],
            "notificationUrl": self.url,
            "createdTime": iso_ms(self.created_ms),
            "updatedTime": iso_ms(self.updated_ms),
        }


@dataclass(frozen=True)
class Notification:
    """One event for one subscription: the exact bytes every attempt sends."""

    event_id: str
    event_type: str
    subscription_id: str
    entity_id: str | None
    body: bytes
    created_ms: int


@dataclass(frozen=True)
class Attempt:
    row_id: str
    event_id: str
    number: int
    created_ms: int
    status_code: int | None
    manual: bool


@dataclass(frozen=True)
class Job:
    event_id: str
    number: int


class Webhooks:
    """Subscriptions per organization, every notification and attempt, and the delivery workers.

    Handlers call in from the event loop, delivery workers from their threads; one lock guards the state
    and is never held while a receiver is being called."""

    def __init__(self, settings: BillSandboxSettings, clock: SandboxClock) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._subscriptions: dict[str, Subscription] = {}
        self._idempotent: dict[tuple[str, str], tuple[str, str]] = {}
        self._notifications: dict[str, Notification] = {}
        self._attempts: dict[str, Attempt] = {}
        self._attempt_counts: Counter[str] = Counter()
        self._poster = Poster(settings.webhook_timeout_seconds, settings.webhook_loopback_only)
        self._dispatcher = Dispatcher(self._run)

    def close(self) -> None:
        self._dispatcher.stop()

    # ----- subscriptions -----------------------------------------------------------------------------
    def create(self, organization_id: str, idempotent_key: str, request: SubscriptionRequest) -> dict[str, Any]:
        """A new subscription with its securityKey; the same X-Idempotent-Key and body again give the same
        subscription back instead of a second one (sandbox choice)."""
        fingerprint = json.dumps(["create", request.name, request.enabled, sorted(request.events), request.url])
        with self._lock:
            earlier = self._replay(organization_id, idempotent_key, fingerprint)
            if earlier is not None:
                subscription = self._subscriptions.get(earlier)
                if subscription is None:
                    raise invalid("The subscription created with this X-Idempotent-Key was deleted.")
                return {**subscription.view(), "securityKey": subscription.security_key}
            mine = [s for s in self._subscriptions.values() if s.organization_id == organization_id]
            if len(mine) >= self._settings.max_subscriptions:
                raise invalid(f"An organization can have at most {self._settings.max_subscriptions} subscriptions.")
            self._refuse_duplicate(mine, request.events, request.url, None)
            now = self._clock.now_ms()
            subscription = Subscription(
                str(uuid.uuid4()), organization_id, request.name, request.enabled, request.events, request.url,
                now, now, secrets.token_urlsafe(32),
            )
            self._subscriptions[subscription.id] = subscription
            self._idempotent[(organization_id, idempotent_key)] = (fingerprint, subscription.id)
            return {**subscription.view(), "securityKey": subscription.security_key}

    def rotate_key(self, organization_id: str, subscription_id: str, idempotent_key: str) -> str:
        """A new security key; later deliveries are signed with it and the old one stops working at once."""
        fingerprint = json.dumps(["security_key", subscription_id])
        with self._lock:
            subscription = self._own(organization_id, subscription_id)
            earlier = self._replay(organization_id, idempotent_key, fingerprint)
            if earlier is not None:
                return earlier
            subscription.security_key = secrets.token_urlsafe(32)
            subscription.updated_ms = self._clock.now_ms()
            self._idempotent[(organization_id, idempotent_key)] = (fingerprint, subscription.security_key)
            return subscription.security_key

    def get(self, organization_id: str, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            return self._own(organization_id, subscription_id).view()

    def views(self, organization_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [s.view() for s in self._subscriptions.values() if s.organization_id == organization_id]

    def update(self, organization_id: str, subscription_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Changes name, enabled, events or url. Re-enabling with status.enabled true (UNCONFIRMED as BILL's
        flow after an auto-disable) resumes delivery of new events only; missed ones can be resent."""
        with self._lock:
            subscription = self._own(organization_id, subscription_id)
            if "url" in changes or "events" in changes:
                mine = [s for s in self._subscriptions.values() if s.organization_id == organization_id]
                events, url = changes.get("events", subscription.events), changes.get("url", subscription.url)
                self._refuse_duplicate(mine, events, url, subscription.id)
            for name, value in changes.items():
                setattr(subscription, name, value)
            subscription.updated_ms = self._clock.now_ms()
            return subscription.view()

    def delete(self, organization_id: str, subscription_id: str) -> None:
        with self._lock:
            self._own(organization_id, subscription_id)
            del self._subscriptions[subscription_id]

    def _own(self, organization_id: str, subscription_id: str) -> Subscription:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None or subscription.organization_id != organization_id:
            raise not_found("Subscription", subscription_id)
        return subscription

    def _replay(self, organization_id: str, idempotent_key: str, fingerprint: str) -> str | None:
        earlier = self._idempotent.get((organization_id, idempotent_key))
        if earlier is None:
            return None
        # Sandbox choice: a key reused for a different request is refused rather than ignored.
        if earlier[0] != fingerprint:
            raise invalid("This X-Idempotent-Key was already used for a different request.")
        return earlier[1]

    @staticmethod
    def _refuse_duplicate(
        mine: list[Subscription], events: tuple[str, ...], url: str, own_id: str | None
    ) -> None:
        for other in mine:
            if other.id != own_id and set(other.events) == set(events) and other.url == url:
                raise invalid(f"Subscription {other.id} already sends these events to this notificationUrl.")

    # ----- events -----------------------------------------------------------------------------------
    def publish(self, organization_id: str, event_type: str, entity: dict[str, Any]) -> list[str]:
        """Queues a notification of ``event_type`` to each enabled subscription of the organization that
        has it; returns the new event ids."""
        with self._lock:
            targets = [
                s for s in self._subscriptions.values()
                if s.organization_id == organization_id and s.enabled and event_type in s.events
            ]
            event_ids = [self._record(s, event_type, entity).event_id for s in targets]
        for event_id in event_ids:
            self._dispatcher.submit(Job(event_id, 0))
        return event_ids

    def record_test(self, organization_id: str, subscription_id: str, event_type: str, entity: dict[str, Any]) -> str:
        with self._lock:
            return self._record(self._own(organization_id, subscription_id), event_type, entity).event_id

    def _record(self, subscription: Subscription, event_type: str, entity: dict[str, Any]) -> Notification:
        event_id = str(uuid.uuid4())
        document = {
            "metadata": {
                "eventId": event_id,
                "subscriptionId": subscription.id,
                "organizationId": subscription.organization_id,
                "eventType": event_type,
                "version": VERSION,
            },
            entity_key(event_type): entity,
        }
        # BILL sends minified JSON. UNCONFIRMED whether the body is ever a JSON-escaped string; the sandbox
        # sends a plain JSON object, as the third-party receivers expect (bill.md §6.3).
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        entity_id = entity.get("id") if isinstance(entity.get("id"), str) else None
        notification = Notification(event_id, event_type, subscription.id, entity_id, body, self._clock.now_ms())
        self._notifications[event_id] = notification
        return notification

    def check_event(self, organization_id: str, subscription_id: str, event_id: str) -> None:
        with self._lock:
            self._own(organization_id, subscription_id)
            notification = self._notifications.get(event_id)
            if notification is None or notification.subscription_id != subscription_id:
                raise not_found("Event", event_id)

    def history(self, organization_id: str, subscription_id: str, entity_id: str | None) -> list[dict[str, Any]]:
        """Every attempt for the subscription as {id (row), createdTime}, for paging."""
        with self._lock:
            self._own(organization_id, subscription_id)
            return [
                {"id": attempt.row_id, "createdTime": iso_ms(attempt.created_ms)}
                for attempt in self._attempts.values()
                if self._notifications[attempt.event_id].subscription_id == subscription_id
                and (entity_id is None or self._notifications[attempt.event_id].entity_id == entity_id)
            ]

    def attempt_view(self, row_id: str) -> dict[str, Any]:
        """An attempt as the event-history API shows it: {id, type, version, subscriptionId, payload,
        createdTime, statusCode} ([PM]); statusCode is left out when no HTTP answer came back (sandbox
        choice, as BILL leaves out nulls)."""
        with self._lock:
            attempt = self._attempts[row_id]
            notification = self._notifications[attempt.event_id]
        view: dict[str, Any] = {
            "id": notification.event_id,
            "type": notification.event_type,
            "version": VERSION,
            "subscriptionId": notification.subscription_id,
            "payload": notification.body.decode("utf-8"),
            "createdTime": iso_ms(attempt.created_ms),
        }
        if attempt.status_code is not None:
            view["statusCode"] = attempt.status_code
        return view

    def deliver_now(self, event_id: str) -> dict[str, Any]:
        """One attempt right away, without retries, even to a disabled subscription (sandbox choice for
        test and resend events); blocks, so run it off the event loop."""
        attempt = self._attempt(Job(event_id, 0), manual=True)
        assert attempt is not None
        return self.attempt_view(attempt.row_id)

    # ----- delivery ---------------------------------------------------------------------------------
    def _run(self, job: object) -> None:
        assert isinstance(job, Job)
        attempt = self._attempt(job, manual=False)
        if attempt is None or attempt.status_code == 200:
            return
        delays = self._settings.webhook_retry_delays
        if job.number < len(delays):
            delay = delays[job.number] * self._settings.webhook_retry_scale
            self._dispatcher.submit(Job(job.event_id, job.number + 1), delay)
            return
        with self._lock:
            subscription = self._subscriptions.get(self._notifications[job.event_id].subscription_id)
            if subscription is not None and subscription.enabled:
                # After the last retry BILL disables the subscription and stops sending (bill.md §6.5).
                subscription.enabled = False
                subscription.updated_ms = self._clock.now_ms()

    def _attempt(self, job: Job, *, manual: bool) -> Attempt | None:
        with self._lock:
            notification = self._notifications[job.event_id]
            subscription = self._subscriptions.get(notification.subscription_id)
            if subscription is None and manual:
                raise not_found("Subscription", notification.subscription_id)
            if subscription is None or (not manual and not subscription.enabled):
                return None
            url, key = subscription.url, subscription.security_key
        # Only an HTTP 200 within the timeout counts (bill.md §6.5); anything else is a failed attempt.
        status = self._poster.post(url, notification.body, key)
        with self._lock:
            number = self._attempt_counts[job.event_id]
            self._attempt_counts[job.event_id] += 1
            attempt = Attempt(f"{job.event_id}.{number}", job.event_id, number, self._clock.now_ms(), status, manual)
            self._attempts[attempt.row_id] = attempt
            return attempt

    # ----- for the control surface ------------------------------------------------------------------
    def control_state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "subscriptions": [s.view() for s in self._subscriptions.values()],
                "deliveries": [
                    {
                        "eventId": a.event_id,
                        "eventType": self._notifications[a.event_id].event_type,
                        "subscriptionId": self._notifications[a.event_id].subscription_id,
                        "attempt": a.number,
                        "manual": a.manual,
                        "statusCode": a.status_code,
                        "time": iso_ms(a.created_ms),
                    }
                    for a in self._attempts.values()
                ],
                "queued": self._dispatcher.pending(),
            }
