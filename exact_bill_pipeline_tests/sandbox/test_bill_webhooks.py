"""BILL sandbox contract: webhook subscriptions, signed deliveries, retries, auto-disable and key rotation."""

from __future__ import annotations

import itertools
import json
import uuid

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    api,
    assert_error,
    control,
    create_bill,
    events,
    login,
    new_key,
    subscribe,
    subscription_body,
    verify,
    wait_until,
    webhook_state,
)

FAST_RETRIES = {"webhook_retry_scale": 0.02}  # 2/4/8/16 s become 40/80/160/320 ms
# Tests that send nothing subscribe this receiver; the sandbox never calls a host off this machine.
REMOTE = "https://example.org/bill-hook"


def create_subscription(running, headers, body, key=None):
    return events(running, "POST", "/v3/subscriptions", {**headers, "X-Idempotent-Key": key or new_key()}, json=body)


def subscription(running, headers, subscription_id):
    return events(running, "GET", f"/v3/subscriptions/{subscription_id}", headers).json()


class TestSubscriptions:
    def test_the_catalog_lists_the_documented_events_at_version_1(self, sandboxes):
        catalog = events(sandboxes, "GET", "/v3/events/catalog", login(sandboxes)).json()

        types = {entry["type"] for entry in catalog}
        assert {"bill.created", "bill.updated", "bill.archived", "bill.restored", "vendor.created",
                "vendor.updated", "vendor.archived", "vendor.restored", "payment.updated", "payment.failed"} <= types
        assert "payment.created" not in types
        assert all(entry["versions"] == ["1"] for entry in catalog)

    def test_create_answers_200_with_the_security_key_shown_only_then(self, sandboxes):
        headers = login(sandboxes)

        response = create_subscription(sandboxes, headers, subscription_body(REMOTE))

        assert response.status_code == 200
        created = response.json()
        assert created["securityKey"]
        assert created["status"] == {"enabled": True}
        assert created["organizationId"] == sandboxes.settings.bill.organization_id
        assert created["events"] == [{"type": "bill.created", "version": "1"}, {"type": "bill.updated", "version": "1"}]
        shown = subscription(sandboxes, headers, created["id"])
        assert shown == {k: v for k, v in created.items() if k != "securityKey"}
        listed = events(sandboxes, "GET", "/v3/subscriptions", headers).json()
        assert listed == {"results": [shown]}

    def test_create_needs_an_x_idempotent_key_that_is_a_uuid4(self, sandboxes):
        headers = login(sandboxes)
        body = subscription_body(REMOTE)

        assert_error(events(sandboxes, "POST", "/v3/subscriptions", headers, json=body), 400)
        for key in ("not-a-uuid", str(uuid.uuid1()), uuid.uuid4().hex):
            assert_error(create_subscription(sandboxes, headers, body, key), 400)

    def test_the_same_idempotent_key_and_body_give_back_the_same_subscription(self, sandboxes):
        headers = login(sandboxes)
        key = new_key()
        body = subscription_body(REMOTE)

        first = create_subscription(sandboxes, headers, body, key).json()
        again = create_subscription(sandboxes, headers, body, key).json()

        assert again["id"] == first["id"]
        assert len(events(sandboxes, "GET", "/v3/subscriptions", headers).json()["results"]) == 1
        other = subscription_body(REMOTE, "vendor.created")
        assert_error(create_subscription(sandboxes, headers, other, key), 400)

    @pytest.mark.parametrize(("change", "named"), [
        ({"events": [{"type": "bill.deleted", "version": "1"}]}, "bill.deleted"),
        ({"events": [{"type": "bill.created", "version": 1}]}, "version"),
        ({"events": []}, "events"),
        ({"notificationUrl": "http://example.org/hook"}, "https"),
        ({"notificationUrl": "ftp://127.0.0.1/hook"}, "https"),
        ({"status": {}}, "enabled"),
        ({"name": ""}, "name"),
        ({"filters": "x"}, "filters"),
    ])
    def test_a_bad_subscription_is_a_400_that_says_why(self, sandboxes, change, named):
        body = {**subscription_body(REMOTE), **change}

        response = create_subscription(sandboxes, login(sandboxes), body)

        assert_error(response, 400)
        assert named in " ".join(entry["message"] for entry in response.json())

    def test_https_receivers_are_accepted(self, sandboxes):
        response = create_subscription(sandboxes, login(sandboxes), subscription_body("https://example.org/bill-hook"))
        assert response.status_code == 200

    def test_plain_http_on_loopback_can_be_turned_off(self, make_sandboxes):
        running = make_sandboxes(sandbox_settings(allow_http_loopback_callbacks=False))
        body = subscription_body("http://127.0.0.1:8080/bill-hook")
        assert_error(create_subscription(running, login(running), body), 400)

    def test_an_organization_has_at_most_10_subscriptions(self, sandboxes):
        headers = login(sandboxes)
        for n in range(10):
            body = subscription_body(f"https://example.org/hook/{n}")
            assert create_subscription(sandboxes, headers, body).status_code == 200

        assert_error(create_subscription(sandboxes, headers, subscription_body("https://example.org/hook/10")), 400)

    def test_a_duplicate_of_the_same_events_and_url_is_refused(self, sandboxes):
        headers = login(sandboxes)
        create_subscription(sandboxes, headers, subscription_body(REMOTE, "bill.created", "bill.updated"))

        again = subscription_body(REMOTE, "bill.updated", "bill.created")
        assert_error(create_subscription(sandboxes, headers, again), 400)
        assert create_subscription(sandboxes, headers, subscription_body(REMOTE, "bill.created")).status_code == 200

    def test_patch_changes_name_status_and_url_but_not_events(self, sandboxes):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, REMOTE)
        path = f"/v3/subscriptions/{created['id']}"

        patched = events(sandboxes, "PATCH", path, headers,
                         json={"name": "Renamed", "status": {"enabled": False}, "notificationUrl": "https://x.example/h"})

        assert patched.status_code == 200
        assert patched.json()["name"] == "Renamed"
        assert patched.json()["status"] == {"enabled": False}
        assert patched.json()["notificationUrl"] == "https://x.example/h"
        assert_error(events(sandboxes, "PATCH", path, headers, json={"events": []}), 400)
        assert_error(events(sandboxes, "PATCH", path, headers, json={"notificationUrl": "http://x.example/h"}), 400)

    def test_put_replaces_the_events(self, sandboxes):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, REMOTE)

        replaced = events(sandboxes, "PUT", f"/v3/subscriptions/{created['id']}", headers,
                          json=subscription_body(REMOTE, "vendor.created")).json()

        assert replaced["events"] == [{"type": "vendor.created", "version": "1"}]

    def test_delete_removes_the_subscription(self, sandboxes):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, REMOTE)

        deleted = events(sandboxes, "DELETE", f"/v3/subscriptions/{created['id']}", headers)

        assert deleted.status_code == 200
        assert_error(events(sandboxes, "GET", f"/v3/subscriptions/{created['id']}", headers), 404)
        create_bill(sandboxes)
        assert webhook_state(sandboxes)["deliveries"] == []

    def test_the_subscription_list_pages_forward_only(self, sandboxes):
        headers = login(sandboxes)
        for n in range(3):
            create_subscription(sandboxes, headers, subscription_body(f"https://example.org/{n}"))

        first = events(sandboxes, "GET", "/v3/subscriptions", headers, params={"max": 2}).json()
        second = events(sandboxes, "GET", "/v3/subscriptions", headers,
                        params={"max": 2, "page": first["nextPage"]}).json()

        assert len(first["results"]) == 2
        assert "prevPage" not in second
        assert len(second["results"]) == 1


class TestDelivery:
    def test_a_new_bill_is_delivered_signed_with_the_security_key(self, sandboxes, webhook_catcher):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, webhook_catcher.url)

        bill = create_bill(sandboxes)

        caught = webhook_catcher.wait_for(1)[0]
        assert verify(caught.body, caught.headers["x-bill-sha-signature"], created["securityKey"])
        assert not verify(caught.body, caught.headers["x-bill-sha-signature"], "another-key")
        assert caught.headers["content-type"] == "application/json"
        payload = json.loads(caught.body)
        assert caught.body == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()  # minified
        metadata = payload["metadata"]
        assert metadata == {"eventId": metadata["eventId"], "subscriptionId": created["id"],
                            "organizationId": sandboxes.settings.bill.organization_id,
                            "eventType": "bill.created", "version": "1"}
        assert uuid.UUID(metadata["eventId"]).version == 4
        rest = api(sandboxes, "GET", f"/v3/bills/{bill['id']}", headers).json()
        invoice = {**rest["invoice"], "invoiceDate": f"{rest['invoice']['invoiceDate']}T00:00:00.000Z"}
        assert payload["bill"] == {**rest, "invoice": invoice}  # every REST field; invoiceDate as a date-time

    def test_each_event_has_its_own_event_id(self, sandboxes, webhook_catcher):
        subscribe(sandboxes, login(sandboxes), webhook_catcher.url)

        for _ in range(3):
            create_bill(sandboxes)

        caught = webhook_catcher.wait_for(3)
        assert len({json.loads(c.body)["metadata"]["eventId"] for c in caught}) == 3

    def test_only_subscribed_event_types_are_sent(self, sandboxes, webhook_catcher):
        subscribe(sandboxes, login(sandboxes), webhook_catcher.url, "bill.updated")
        bill = create_bill(sandboxes)

        control(sandboxes, "PATCH", f"/bills/{bill['id']}", {"approvalStatus": "DENIED"})

        caught = webhook_catcher.wait_for(1)
        assert [json.loads(c.body)["metadata"]["eventType"] for c in caught] == ["bill.updated"]

    def test_a_failing_receiver_is_retried_after_2_4_8_16_scaled_then_the_subscription_is_disabled(
        self, make_sandboxes, webhook_catcher
    ):
        running = make_sandboxes(sandbox_settings(bill=FAST_RETRIES))
        headers = login(running)
        created = subscribe(running, headers, webhook_catcher.url)
        webhook_catcher.status = 500

        create_bill(running)

        caught = webhook_catcher.wait_for(5)
        gaps = [later.received_at - earlier.received_at for earlier, later in itertools.pairwise(caught)]
        for gap, delay in zip(gaps, (0.04, 0.08, 0.16, 0.32), strict=True):
            assert delay * 0.9 <= gap < delay + 1.0
        assert len({json.loads(c.body)["metadata"]["eventId"] for c in caught}) == 1
        wait_until(lambda: subscription(running, headers, created["id"])["status"] == {"enabled": False},
                   what="the subscription to be disabled")
        create_bill(running)
        assert len(webhook_catcher.requests) == 5

    def test_any_answer_but_200_is_a_failure(self, make_sandboxes, webhook_catcher):
        running = make_sandboxes(sandbox_settings(bill=FAST_RETRIES))
        subscribe(running, login(running), webhook_catcher.url)
        webhook_catcher.statuses = [204, 302, 503]

        create_bill(running)

        assert len(webhook_catcher.wait_for(4)) == 4
        statuses = [d["statusCode"] for d in webhook_state(running)["deliveries"]]
        assert statuses == [204, 302, 503, 200]

    def test_a_receiver_slower_than_the_timeout_counts_as_failed(self, make_sandboxes, webhook_catcher):
        running = make_sandboxes(sandbox_settings(bill={**FAST_RETRIES, "webhook_timeout_seconds": 0.2}))
        headers = login(running)
        created = subscribe(running, headers, webhook_catcher.url)
        webhook_catcher.delay = 0.5

        create_bill(running)

        webhook_catcher.wait_for(2)
        wait_until(lambda: len(webhook_state(running)["deliveries"]) >= 1)
        first = webhook_state(running)["deliveries"][0]
        assert first["statusCode"] is None
        history = events(running, "GET", f"/v3/events/subscription/{created['id']}", headers).json()["results"]
        assert "statusCode" not in history[0]

    def test_a_re_enabled_subscription_receives_new_events_again(self, make_sandboxes, webhook_catcher):
        running = make_sandboxes(sandbox_settings(bill=FAST_RETRIES))
        headers = login(running)
        created = subscribe(running, headers, webhook_catcher.url)
        webhook_catcher.status = 500
        create_bill(running)
        wait_until(lambda: subscription(running, headers, created["id"])["status"] == {"enabled": False})
        webhook_catcher.status = 200

        events(running, "PATCH", f"/v3/subscriptions/{created['id']}", headers, json={"status": {"enabled": True}})
        create_bill(running)

        assert json.loads(webhook_catcher.wait_for(6)[5].body)["metadata"]["eventType"] == "bill.created"

    def test_rotating_the_key_signs_later_deliveries_with_the_new_key_only(self, sandboxes, webhook_catcher):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, webhook_catcher.url)
        path = f"/v3/subscriptions/{created['id']}/security_key"
        key = new_key()

        rotated = events(sandboxes, "POST", path, {**headers, "X-Idempotent-Key": key})
        create_bill(sandboxes)

        new_security_key = rotated.json()["securityKey"]
        assert rotated.status_code == 200
        assert new_security_key != created["securityKey"]
        caught = webhook_catcher.wait_for(1)[0]
        assert verify(caught.body, caught.headers["x-bill-sha-signature"], new_security_key)
        assert not verify(caught.body, caught.headers["x-bill-sha-signature"], created["securityKey"])
        again = events(sandboxes, "POST", path, {**headers, "X-Idempotent-Key": key}).json()
        assert again["securityKey"] == new_security_key
        assert_error(events(sandboxes, "POST", path, headers), 400)
        assert_error(events(sandboxes, "POST", f"/v3/subscriptions/{created['id']}/security-key",
                            {**headers, "X-Idempotent-Key": new_key()}), 404, "BDC_1121")

    def test_the_history_lists_every_attempt_and_pages_forward(self, make_sandboxes, webhook_catcher):
        running = make_sandboxes(sandbox_settings(bill=FAST_RETRIES))
        headers = login(running)
        created = subscribe(running, headers, webhook_catcher.url)
        webhook_catcher.statuses = [500]
        bill = create_bill(running)
        webhook_catcher.wait_for(2)
        wait_until(lambda: len(webhook_state(running)["deliveries"]) == 2)
        path = f"/v3/events/subscription/{created['id']}"

        first = events(running, "GET", path, headers, params={"max": 1}).json()
        second = events(running, "GET", path, headers, params={"max": 1, "page": first["nextPage"]}).json()

        rows = first["results"] + second["results"]
        assert [row["statusCode"] for row in rows] == [500, 200]
        assert {row["id"] for row in rows} == {json.loads(webhook_catcher.requests[0].body)["metadata"]["eventId"]}
        assert set(rows[0]) == {"id", "type", "version", "subscriptionId", "payload", "createdTime", "statusCode"}
        assert json.loads(rows[0]["payload"])["bill"]["id"] == bill["id"]
        assert "prevPage" not in second
        filtered = events(running, "GET", path, headers, params={"entityId": "00n02SBnothere000000"}).json()
        assert filtered == {"results": []}

    def test_resend_delivers_the_same_event_again(self, sandboxes, webhook_catcher):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, webhook_catcher.url)
        create_bill(sandboxes)
        event_id = json.loads(webhook_catcher.wait_for(1)[0].body)["metadata"]["eventId"]

        response = events(sandboxes, "POST", f"/v3/events/subscription/{created['id']}/event/{event_id}", headers)

        assert response.status_code == 200
        assert response.json()["id"] == event_id
        assert response.json()["statusCode"] == 200
        caught = webhook_catcher.wait_for(2)
        assert caught[1].body == caught[0].body
        assert_error(events(sandboxes, "POST", f"/v3/events/subscription/{created['id']}/event/{uuid.uuid4()}",
                            headers), 404)

    def test_a_test_event_is_sent_at_once_and_answered_with_its_status(self, sandboxes, webhook_catcher):
        headers = login(sandboxes)
        created = subscribe(sandboxes, headers, webhook_catcher.url)

        response = events(sandboxes, "POST", f"/v3/subscriptions/{created['id']}/test", headers,
                          json={"eventType": "bill.created", "version": "1", "bill": {"id": "test-bill-id"}})

        assert response.status_code == 200
        assert response.json()["statusCode"] == 200
        caught = webhook_catcher.wait_for(1)[0]
        assert json.loads(caught.body)["bill"] == {"id": "test-bill-id"}
        assert verify(caught.body, caught.headers["x-bill-sha-signature"], created["securityKey"])

    def test_paying_a_bill_sends_payment_updated_in_its_webhook_shape(self, sandboxes, webhook_catcher):
        subscribe(sandboxes, login(sandboxes), webhook_catcher.url, "payment.updated")
        bill = create_bill(sandboxes)

        payment = control(sandboxes, "POST", "/payments", {"billId": bill["id"]}).json()

        body = json.loads(webhook_catcher.wait_for(1)[0].body)
        assert body["metadata"]["eventType"] == "payment.updated"
        sent = body["payment"]
        assert sent["id"] == payment["id"]
        assert sent["billIds"] == [bill["id"]]
        assert sent["vendor"] == {"id": bill["vendorId"], "name": bill["vendorName"]}
        assert sent["status"] == "PAID"
        assert {"transactionNumber", "createdBy", "createdTime", "updatedTime", "processDate", "funding",
                "disbursement", "billingType"} <= set(sent)

    def test_vendor_changes_send_vendor_events(self, sandboxes, webhook_catcher):
        subscribe(sandboxes, login(sandboxes), webhook_catcher.url,
                  "vendor.created", "vendor.updated", "vendor.archived", "vendor.restored")

        vendor = control(sandboxes, "POST", "/vendors", {"name": "Newco Supplies"}).json()
        control(sandboxes, "PATCH", f"/vendors/{vendor['id']}", {"email": "ap@newco.example"})
        control(sandboxes, "POST", f"/vendors/{vendor['id']}/archive")
        control(sandboxes, "POST", f"/vendors/{vendor['id']}/restore")

        caught = sorted(webhook_catcher.wait_for(4), key=lambda c: json.loads(c.body)["vendor"]["updatedTime"])
        types = sorted(json.loads(c.body)["metadata"]["eventType"] for c in caught)
        assert types == ["vendor.archived", "vendor.created", "vendor.restored", "vendor.updated"]

    def test_no_receiver_off_this_machine_is_ever_called(self, make_sandboxes):
        running = make_sandboxes(sandbox_settings(bill=FAST_RETRIES))
        headers = login(running)
        created = subscribe(running, headers, "https://example.org/bill-hook")

        create_bill(running)

        wait_until(lambda: subscription(running, headers, created["id"])["status"] == {"enabled": False})
        assert [d["statusCode"] for d in webhook_state(running)["deliveries"]] == [None] * 5
