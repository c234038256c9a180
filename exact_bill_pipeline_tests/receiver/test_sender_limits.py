"""Sender limits keep forgers out and never a correctly signed delivery, wherever it comes from."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from exact_bill_pipeline.processes import stop_process
from exact_bill_pipeline.receiver.limits import SenderLimits
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline.state.webhook_keys import WebhookKeys
from exact_bill_pipeline_tests.receiver.conftest import (
    BILL_KEY,
    SECRET,
    bill_body,
    exact_body,
    exact_content,
    running_receiver,
    signed,
)

FORGED = bill_body()  # no signature header


def test_signed_deliveries_get_in_from_an_address_blocked_for_forgeries(state_url):
    with running_receiver(state_url, SenderLimits()) as receiver:  # the defaults `webhooks serve` uses
        forged = [receiver.post("bill", FORGED).status_code for _ in range(25)]
        bill = bill_body()
        accepted = [receiver.post("bill", bill, signed(bill)), receiver.post("exact", exact_body(exact_content()))]
        still_forged = receiver.post("bill", FORGED).status_code
        health = requests.get(f"{receiver.url}/webhooks/health", timeout=5).json()
    assert forged[:20] == [401] * 20
    assert set(forged[20:]) == {429}
    assert [(r.status_code, r.json()["status"]) for r in accepted] == [(200, "accepted")] * 2
    assert still_forged == 429
    assert health["blocked_senders"] == 1
    assert receiver.inbox.count() == 2


def test_signed_deliveries_are_never_slowed_by_the_per_second_limit(state_url):
    with running_receiver(state_url, SenderLimits(max_per_second=3)) as receiver:
        bodies = [bill_body() for _ in range(12)]
        statuses = [receiver.post("bill", body, signed(body)).status_code for body in bodies]
        unsigned = [receiver.post("exact", b"").status_code for _ in range(6)]  # Exact's empty probe
    assert statuses == [200] * 12
    assert 429 in unsigned
    assert receiver.inbox.count() == 12


class FromAddress(HTTPAdapter):
    """Connections from one loopback source address: a proxy on another host, as the receiver sees it."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


@pytest.mark.skipif(sys.platform != "linux", reason="needs the whole of 127.0.0.0/8 on loopback")
def test_behind_a_proxy_on_another_host_each_forwarded_sender_has_its_own_limits(tmp_path):
    state_url, key = f"sqlite:///{tmp_path / 'state.sqlite'}", generate_key()
    WebhookKeys(Vault(StateStore(state_url), key)).add("sub-1", BILL_KEY, url="https://hooks.example.com/webhooks/bill")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "EXACT_BILL_STATE_URL": state_url, "EXACT_BILL_VAULT_KEY": key,
           "EXACT_WEBHOOK_SECRET": SECRET, "EXACT_DIVISION": "123456"}
    command = [sys.executable, "-m", "exact_bill_pipeline.cli", "webhooks", "serve", "--port", str(port),
               "--forwarded-allow-ips", "127.0.0.2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proxy = requests.Session()
    proxy.mount("http://", FromAddress("127.0.0.2"))
    url = f"http://127.0.0.1:{port}/webhooks/bill"

    def via_proxy(client: str, body: bytes, headers: dict[str, str] | None = None) -> int:
        headers = {"Content-Type": "application/json", "X-Forwarded-For": client, **(headers or {})}
        return proxy.post(url, data=body, headers=headers, timeout=10).status_code

    try:
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/webhooks/health"):
            assert server.poll() is None, "the receiver exited"
            assert time.monotonic() < deadline, "the receiver did not start within 60 s"
            time.sleep(0.1)
        forger = [via_proxy("203.0.113.9", FORGED) for _ in range(22)]
        other_client = via_proxy("198.51.100.4", FORGED)
        bill = bill_body()
        bill_servers = via_proxy("198.51.100.7", bill, signed(bill))
        via_proxy(SECRET, FORGED)  # a sender name that is a secret ends up in the log line: masked there
    finally:
        stop_process(server, timeout=15)
    log = server.stderr.read().decode(errors="replace") if server.stderr else ""
    assert forger[:20] == [401] * 20
    assert set(forger[20:]) == {429}
    assert other_client == 401  # refused for its own missing signature, not blocked with the forger
    assert bill_servers == 200
    assert "refused bill delivery from 203.0.113.9" in log
    assert "127.0.0.2" not in log
    assert "refused bill delivery from ***" in log
    assert SECRET not in log
    assert Inbox(StateStore(state_url)).count() == 1


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
