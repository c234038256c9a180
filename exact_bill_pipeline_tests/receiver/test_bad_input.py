"""Bad input never gets a 5xx: too big, not JSON, wrong type, floods; the receiver keeps answering."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import requests

from exact_bill_pipeline.receiver.app import ReceiverSettings, create_receiver_app
from exact_bill_pipeline.receiver.limits import SenderLimits
from exact_bill_pipeline.serving import BackgroundServers
from exact_bill_pipeline_tests.receiver.conftest import SECRET, bill_body, exact_body, exact_content, signed


def test_a_body_over_the_limit_gets_413(receiver):
    huge = b'{"Content":' + b" " * (300 * 1024) + b"}"
    assert receiver.post("exact", huge).status_code == 413
    streamed = requests.post(f"{receiver.url}/webhooks/bill", timeout=10,
                             data=(b"x" * 1024 for _ in range(400)), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_malformed_or_absurdly_nested_json_gets_400(receiver):
    assert receiver.post("bill", b'{"metadata": ').status_code == 400
    assert receiver.post("exact", b"[" * 50_000).status_code == 400
    body = b'{"no":"metadata"}'
    assert receiver.post("bill", body, signed(body)).status_code == 400


def test_a_signed_bill_body_holding_json_nested_too_deep_inside_a_string_gets_400(receiver):
    body = json.dumps("[" * 100_000).encode()
    assert receiver.post("bill", body, signed(body)).status_code == 400
    assert receiver.inbox.count() == 0


def test_a_sender_that_hangs_up_before_its_body_is_complete_is_refused_and_logged(receiver, caplog):
    url = urlsplit(receiver.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"POST /webhooks/bill HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"metadata\":")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1024) == b""
    deadline = time.monotonic() + 5
    while "hung up before the body was complete" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "refused bill delivery from 127.0.0.1: the sender hung up before the body was complete" in caplog.text
    assert requests.get(f"{receiver.url}/webhooks/health", timeout=5).status_code == 200


def test_a_wrong_content_type_gets_415(receiver):
    body = exact_body(exact_content())
    assert receiver.post("exact", body, {"Content-Type": "text/plain"}).status_code == 415
    assert receiver.post("bill", bill_body(), {"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415


def test_unknown_paths_and_methods_are_not_server_errors(receiver):
    assert requests.get(f"{receiver.url}/webhooks/bill", timeout=5).status_code == 405
    assert requests.post(f"{receiver.url}/webhooks/other", timeout=5).status_code == 404
    assert requests.get(f"{receiver.url}/webhooks/health", timeout=5).json()["status"] == "ok"


def test_a_sender_that_keeps_failing_is_blocked_and_logged_without_its_body(state_url, caplog):
    from exact_bill_pipeline.state.db import StateStore
    from exact_bill_pipeline.state.inbox import Inbox
    from exact_bill_pipeline.state.vault import Vault, generate_key
    from exact_bill_pipeline.state.webhook_keys import WebhookKeys

    store = StateStore(state_url)
    limits = SenderLimits(max_refusals=5, window_seconds=60, block_seconds=60)
    app = create_receiver_app(ReceiverSettings(SECRET), Inbox(store), WebhookKeys(Vault(store, generate_key())), limits)
    secret_looking = b'{"Content":{"password":"hunter2-in-the-body"},"HashCode":"00"}'
    with BackgroundServers([app]) as (url,):
        statuses = [requests.post(f"{url}/webhooks/exact", data=secret_looking, timeout=5,
                                  headers={"Content-Type": "application/json"}).status_code for _ in range(8)]
        health = requests.get(f"{url}/webhooks/health", timeout=5).json()
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3
    assert health == {"status": "ok", "blocked_senders": 1}
    assert "refused exact delivery from 127.0.0.1" in caplog.text
    assert "hunter2" not in caplog.text


def test_a_sender_that_stops_sending_its_body_gets_408_instead_of_holding_the_connection(state_url):
    import socket

    from exact_bill_pipeline.state.db import StateStore
    from exact_bill_pipeline.state.inbox import Inbox
    from exact_bill_pipeline.state.vault import Vault, generate_key
    from exact_bill_pipeline.state.webhook_keys import WebhookKeys

    store = StateStore(state_url)
    app = create_receiver_app(ReceiverSettings(SECRET, body_seconds=0.5), Inbox(store),
                              WebhookKeys(Vault(store, generate_key())))
    with BackgroundServers([app]) as (url,):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /webhooks/bill HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"meta")
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
