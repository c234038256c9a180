"""Signature vectors for both senders, over real HTTP: only what the real sender would sign gets in."""

from __future__ import annotations

import base64
import hashlib
import hmac

from exact_bill_pipeline_tests.receiver.conftest import (
    SECRET,
    bill_body,
    exact_body,
    exact_content,
    signed,
)


def test_a_correctly_signed_exact_event_is_stored_once(receiver):
    body = exact_body(exact_content(key="8c2c6a9e-0000-4000-8000-000000000001"))
    first, again = receiver.post("exact", body), receiver.post("exact", body)
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")  # a replayed delivery
    [event] = receiver.inbox.after(0)
    assert (event.source, event.event_type, event.entity_key) == (
        "exact", "GLAccounts.Update", "8c2c6a9e-0000-4000-8000-000000000001")


def test_exact_events_that_are_not_signed_as_exact_signs_are_refused_and_not_stored(receiver):
    content = exact_content()
    raw_mac = hmac.new(SECRET.encode(), content, hashlib.sha256)
    variants = {
        "tampered": exact_body(content).replace(b'"Update"', b'"Delete"'),
        "wrong key": exact_body(content, secret="another-secret"),
        "lowercase hex": exact_body(content, hashcode=raw_mac.hexdigest()),
        "base64": exact_body(content, hashcode=base64.b64encode(raw_mac.digest()).decode()),
        "missing": b'{"Content":' + content + b"}",
        "empty hashcode": exact_body(content, hashcode=""),
        "re-serialised": exact_body(content).replace(b'{"Content":{', b'{"Content": {'),
    }
    for name, body in variants.items():
        response = receiver.post("exact", body)
        assert response.status_code == 401, name
    assert receiver.inbox.count() == 0


def test_the_exact_validation_probe_gets_200_and_stores_nothing(receiver):
    response = receiver.post("exact", b"", headers={"Content-Type": ""})
    assert response.status_code == 200
    assert receiver.inbox.count() == 0


def test_events_of_another_division_are_acknowledged_but_not_stored(receiver):
    body = exact_body(exact_content().replace(b'"Division":123456', b'"Division":999'))
    assert receiver.post("exact", body).json()["status"] == "ignored"
    assert receiver.inbox.count() == 0


def test_a_correctly_signed_bill_event_is_stored_once(receiver):
    body = bill_body(event_id="2d4c0a4e-1111-4111-8111-000000000001")
    first = receiver.post("bill", body, signed(body))
    again = receiver.post("bill", body, signed(body))
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert again.json()["status"] == "duplicate"
    [event] = receiver.inbox.after(0)
    assert (event.event_id, event.event_type, event.entity_key) == (
        "2d4c0a4e-1111-4111-8111-000000000001", "bill.updated", "00n02SB0000000000001")


def test_bill_events_with_a_bad_signature_are_refused_and_not_stored(receiver):
    body = bill_body()
    variants = {
        "tampered": (body.replace(b"bill.updated", b"bill.created"), signed(body)),
        "wrong key": (body, signed(body, key="not-the-key")),
        "missing header": (body, {}),
        "hex instead of base64": (body, {"x-bill-sha-signature": hmac.new(
            b"bill-security-key-for-tests", body, hashlib.sha256).hexdigest()}),
        "prefixed": (body, {"x-bill-sha-signature": "sha256=" + signed(body)["x-bill-sha-signature"]}),
    }
    for name, (raw, headers) in variants.items():
        assert receiver.post("bill", raw, headers).status_code == 401, name
    assert receiver.inbox.count() == 0


def test_a_bill_payload_sent_as_a_json_string_is_understood(receiver):
    import json

    inner = bill_body()
    body = json.dumps(inner.decode()).encode()
    response = receiver.post("bill", body, signed(body))
    assert response.json()["status"] == "accepted"


def test_during_a_key_rotation_both_keys_are_valid_then_only_the_new_one(receiver):
    current = [0.0]
    receiver.keys.clock = lambda: current[0]
    receiver.keys.rotate("sub-1", "the-new-key", overlap_seconds=600)
    old_body, new_body = bill_body(), bill_body()
    assert receiver.post("bill", old_body, signed(old_body)).status_code == 200
    assert receiver.post("bill", new_body, signed(new_body, key="the-new-key")).status_code == 200
    current[0] = 601
    import time

    time.sleep(2.1)  # the receiver re-reads the keys every 2 s
    late = bill_body()
    assert receiver.post("bill", late, signed(late)).status_code == 401
    assert receiver.post("bill", late, signed(late, key="the-new-key")).status_code == 200
