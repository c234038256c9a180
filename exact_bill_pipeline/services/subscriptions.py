"""Registering the webhook subscriptions both systems need, idempotently, and removing them again."""

from __future__ import annotations

from dataclasses import dataclass, field

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.state.webhook_keys import WebhookKeys

# Exact: GL account and relation changes release waiting bills; our own postings need no event.
EXACT_TOPICS = ("GLAccounts", "Accounts")
BILL_EVENTS = ("bill.created", "bill.updated", "bill.archived", "bill.restored", "vendor.created", "vendor.updated",
               "vendor.archived", "vendor.restored", "payment.updated", "payment.failed")
BILL_SUBSCRIPTION_NAME = "exact_bill_pipeline"


@dataclass
class Registration:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def urls(public_url: str, prefix: str) -> tuple[str, str]:
    base = public_url.rstrip("/") + "/" + prefix.strip("/")
    return base.rstrip("/") + "/exact", base.rstrip("/") + "/bill"


def register(exact: ExactApi, bill: BillApi, keys: WebhookKeys, *, public_url: str, prefix: str) -> Registration:
    """Creates what is missing: one Exact subscription per topic, one BILL subscription for our events."""
    exact_url, bill_url = urls(public_url, prefix)
    report = Registration()
    existing = {(s.topic, s.callback_url) for s in exact.webhook_subscriptions()}
    for topic in EXACT_TOPICS:
        if (topic, exact_url) in existing:
            report.kept.append(f"Exact {topic} -> {exact_url}")
        else:
            exact.create_webhook_subscription(topic=topic, callback_url=exact_url)
            report.created.append(f"Exact {topic} -> {exact_url}")
    ours = {sid for sid, url in keys.subscriptions().items() if url == bill_url}
    live = {s.id: s for s in bill.subscriptions()}
    if ours & set(live):
        report.kept.append(f"BILL {', '.join(BILL_EVENTS)} -> {bill_url}")
        return report
    subscription = bill.create_subscription(name=BILL_SUBSCRIPTION_NAME, url=bill_url, events=list(BILL_EVENTS))
    if subscription.security_key is None:
        raise RuntimeError("BILL created the subscription without returning its securityKey")
    # BILL shows the key only now: it is stored (encrypted) before anything else can go wrong.
    keys.add(subscription.id, subscription.security_key, url=bill_url)
    report.created.append(f"BILL {', '.join(BILL_EVENTS)} -> {bill_url}")
    return report


def remove(exact: ExactApi, bill: BillApi, keys: WebhookKeys, *, public_url: str, prefix: str) -> list[str]:
    """Deletes the subscriptions that point at this receiver."""
    exact_url, bill_url = urls(public_url, prefix)
    removed = []
    for subscription in exact.webhook_subscriptions():
        if subscription.callback_url == exact_url:
            exact.delete_webhook_subscription(subscription.id)
            removed.append(f"Exact {subscription.topic} -> {exact_url}")
    live = {s.id for s in bill.subscriptions()}
    for subscription_id, url in keys.subscriptions().items():
        if url == bill_url:
            if subscription_id in live:
                bill.delete_subscription(subscription_id)
            keys.remove(subscription_id)
            removed.append(f"BILL subscription {subscription_id} -> {bill_url}")
    return removed


def rotate_bill_keys(bill: BillApi, keys: WebhookKeys, *, overlap_seconds: float) -> list[str]:
    """New security keys for our BILL subscriptions; the old ones stay valid for ``overlap_seconds``."""
    rotated = []
    for subscription_id in keys.subscriptions():
        keys.rotate(subscription_id, bill.rotate_security_key(subscription_id), overlap_seconds=overlap_seconds)
        rotated.append(subscription_id)
    return rotated
