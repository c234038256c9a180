"""Contract tests of the Exact sandbox's webhooks: subscribing with the callback probe, and signed deliveries."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    GUID,
    advance,
    control,
    odata_message,
    onboard,
    purchase_entry,
    verify_hashcode,
)

SUBS = "webhooks/WebhookSubscriptions"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def subscribe(client, url: str, topic: str = "PurchaseEntries", **extra):
    return client.post(SUBS, {"CallbackURL": url, "Topic": topic, **extra}, prefer=True)


def subscriptions(client) -> list[dict]:
    return client.results(SUBS, {"$select": "ID,CallbackURL,Topic,ClientID"})


def test_subscribing_probes_the_callback_with_an_empty_post_first(client, webhook_catcher):
    response = subscribe(client, f"{webhook_catcher.url}/exact")
    assert response.status_code == 201, response.text
    created = response.json()["d"]
    assert GUID.match(created["ID"])
    assert (created["Topic"], created["Division"]) == ("PurchaseEntries", client.division)
    probe = webhook_catcher.wait_for(1)[0]
    assert probe.path == "/exact"
    assert probe.body == b""
    assert probe.headers.get("content-length") == "0"
    assert [s["ID"] for s in subscriptions(client)] == [created["ID"]]


def test_a_failing_probe_refuses_the_subscription_with_a_500_and_stores_nothing(client, webhook_catcher):
    webhook_catcher.status = 503
    response = subscribe(client, f"{webhook_catcher.url}/exact")
    assert response.status_code == 500
    assert odata_message(response) == "Invalid: Post to callback URL endpoint returns 503 Service Unavailable."
    assert subscriptions(client) == []


def test_an_unreachable_callback_is_refused_like_exact_does(client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    response = subscribe(client, f"http://127.0.0.1:{port}/exact")
    assert response.status_code == 500
    assert odata_message(response) == ("Invalid: Post to callback URL endpoint returns 500 An error occurred while "
                                       "sending the request.")


def test_subscription_validation(client, webhook_catcher):
    url = f"{webhook_catcher.url}/exact"
    cases = [
        ({"CallbackURL": url, "Topic": "Nonsense"}, "Invalid value: Topic Nonsense"),
        ({"CallbackURL": url, "Topic": "FinancialTransactions"}, "Invalid value: Topic FinancialTransactions"),
        ({"CallbackURL": url, "Topic": "PurchaseEntries", "IsInstant": True},
         "Invalid value: IsInstant is only available for topic GoodsDeliveries, not PurchaseEntries"),
        ({"CallbackURL": "https://elsewhere.example/hook", "Topic": "Accounts"},
         "Invalid: the domain of the CallbackURL must be the domain of the app's redirect URL"),
        ({"Topic": "Accounts"}, "Mandatory: CallbackURL"),
    ]
    for body, expected in cases:
        response = client.post(SUBS, body)
        assert response.status_code == 500, body
        assert odata_message(response) == expected
    assert webhook_catcher.requests == []  # invalid subscriptions are never probed
    assert subscribe(client, url).status_code == 201
    duplicate = subscribe(client, url)
    assert duplicate.status_code == 500
    assert odata_message(duplicate).startswith("Duplicate:")


def test_plain_http_callbacks_need_the_loopback_exception(make_sandboxes, webhook_catcher):
    client = onboard(make_sandboxes(sandbox_settings(allow_http_loopback_callbacks=False)))
    response = subscribe(client, f"{webhook_catcher.url}/exact")
    assert response.status_code == 500
    assert odata_message(response) == "Invalid: CallbackURL must be an https URL"


def test_a_posted_purchase_entry_is_delivered_signed_with_the_webhook_secret(client, webhook_catcher, sandboxes):
    subscribe(client, f"{webhook_catcher.url}/exact")
    entry = client.post("purchaseentry/PurchaseEntries", purchase_entry(client)).json()["d"]
    delivery = webhook_catcher.wait_for(2)[1]
    raw = delivery.body
    secret = sandboxes.settings.exact.webhook_secret
    assert verify_hashcode(raw, secret)
    assert not verify_hashcode(raw, "another-secret")
    assert raw == json.dumps(json.loads(raw), separators=(",", ":")).encode()  # compact JSON
    content = json.loads(raw)["Content"]
    assert list(content) == ["Topic", "ClientId", "Division", "Action", "Key", "ExactOnlineEndpoint",
                             "EventCreatedOn"]
    assert content["Topic"] == "PurchaseEntries"
    assert content["ClientId"] == sandboxes.settings.exact.client_id
    assert content["Division"] == client.division
    assert content["Action"] == "Create"
    assert content["Key"] == entry["EntryID"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}", content["EventCreatedOn"])
    record = client.get(content["ExactOnlineEndpoint"])
    assert record.status_code == 200
    assert record.json()["d"]["EntryID"] == entry["EntryID"]


def test_a_deleted_purchase_entry_is_delivered_as_a_delete_of_its_key(client, webhook_catcher, sandboxes):
    subscribe(client, f"{webhook_catcher.url}/exact")
    entry = client.post("purchaseentry/PurchaseEntries", purchase_entry(client)).json()["d"]
    assert client.delete(f"purchaseentry/PurchaseEntries(guid'{entry['EntryID']}')").status_code == 204
    caught = webhook_catcher.wait_for(3)[1:]
    assert all(verify_hashcode(c.body, sandboxes.settings.exact.webhook_secret) for c in caught)
    actions = [(json.loads(c.body)["Content"]["Action"], json.loads(c.body)["Content"]["Key"]) for c in caught]
    assert actions == [("Create", entry["EntryID"]), ("Delete", entry["EntryID"])]


def test_control_surface_changes_reach_gl_account_and_account_subscribers(client, webhook_catcher, sandboxes):
    subscribe(client, f"{webhook_catcher.url}/gl", topic="GLAccounts")
    subscribe(client, f"{webhook_catcher.url}/accounts", topic="Accounts")
    control(sandboxes, "POST", "gl-accounts/4930/block")
    supplier = control(sandboxes, "POST", "suppliers", {"name": "Fresh Supplier LLC"}).json()
    caught = webhook_catcher.wait_for(4)[2:]
    by_path = {c.path: json.loads(c.body)["Content"] for c in caught}
    assert by_path["/gl"]["Action"] == "Update"
    assert "/financial/GLAccounts(guid'" in by_path["/gl"]["ExactOnlineEndpoint"]
    assert (by_path["/accounts"]["Action"], by_path["/accounts"]["Key"]) == ("Create", supplier["ID"])


def test_deliveries_wait_for_the_configured_delay_on_the_sandbox_clock(make_sandboxes, webhook_catcher):
    run = make_sandboxes(sandbox_settings(exact={"webhook_delay_seconds": 120}))
    client = onboard(run)
    subscribe(client, f"{webhook_catcher.url}/exact", topic="Accounts")
    control(run, "POST", "suppliers", {"name": "Later Supplier"})
    time.sleep(0.3)
    assert len(webhook_catcher.requests) == 1  # only the probe so far
    advance(run, 121)
    webhook_catcher.wait_for(2)


def test_a_failed_delivery_is_not_retried(client, webhook_catcher, sandboxes):
    subscribe(client, f"{webhook_catcher.url}/exact", topic="Accounts")
    webhook_catcher.status = 500
    control(sandboxes, "POST", "suppliers", {"name": "Unlucky Supplier"})
    webhook_catcher.wait_for(2)
    advance(sandboxes, 3600)
    time.sleep(0.3)
    assert len(webhook_catcher.requests) == 2
    deliveries = control(sandboxes, "GET", "webhooks").json()["deliveries"]
    assert [d["status"] for d in deliveries] == [500]


def test_deleting_a_subscription_stops_deliveries(client, webhook_catcher, sandboxes):
    created = subscribe(client, f"{webhook_catcher.url}/exact", topic="Accounts").json()["d"]
    assert client.delete(f"{SUBS}(guid'{created['ID']}')").status_code == 204
    assert client.delete(f"{SUBS}(guid'{created['ID']}')").status_code == 404
    control(sandboxes, "POST", "suppliers", {"name": "Unheard Supplier"})
    time.sleep(0.3)
    assert len(webhook_catcher.requests) == 1


def test_retries_and_the_actions_sent_can_be_configured(make_sandboxes, webhook_catcher):
    run = make_sandboxes(sandbox_settings(exact={"webhook_retry_delays": (10.0,), "webhook_actions": ("Update",)}))
    client = onboard(run)
    subscribe(client, f"{webhook_catcher.url}/exact", topic="Accounts")
    supplier = control(run, "POST", "suppliers", {"name": "Quiet Supplier"}).json()
    webhook_catcher.statuses = [500]
    control(run, "PATCH", f"suppliers/{supplier['ID']}", {"city": "Boise"})
    webhook_catcher.wait_for(2)
    advance(run, 11)
    caught = webhook_catcher.wait_for(3)
    assert len(caught) == 3
    assert caught[1].body == caught[2].body
    assert json.loads(caught[2].body)["Content"]["Action"] == "Update"
    attempts = [d["attempt"] for d in control(run, "GET", "webhooks").json()["deliveries"]]
    assert attempts == [1, 2]
