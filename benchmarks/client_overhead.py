"""Prints calls per second through ExactApi and BillApi against the sandboxes, next to a bare requests loop.

Limits are off on both sides (sandbox limits raised, client budget disabled), so the figures show what the
client layer itself costs: token handling, retries bookkeeping, redaction, typed records.

Usage: .venv/bin/python benchmarks/client_overhead.py [--calls 2000] [--state-url URL]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable

import requests

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.sandbox.server import SandboxServers
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, ExactSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import generate_key


def timed(calls: int, call: Callable[[], object]) -> float:
    call()  # warm up: connections, tokens, sessions
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--state-url", default=None, help="state database (default: a SQLite file in a temp dir)")
    args = parser.parse_args()
    settings = SandboxSettings(
        exact=dataclasses.replace(ExactSandboxSettings(), minutely_limit=10**9, daily_limit=10**9,
                                  error_block_threshold=0),
        bill=dataclasses.replace(BillSandboxSettings(), requests_per_hour=10**9))
    key = generate_key()
    with tempfile.TemporaryDirectory() as home, SandboxServers(settings) as running:
        state_url = args.state_url or f"sqlite:///{home}/state.sqlite"
        store = StateStore(state_url)
        exact_settings, bill_settings = running.settings.exact, running.settings.bill
        exact = ExactOnlineClient(base_url=running.exact_url, client_id=exact_settings.client_id,
                                  client_secret=exact_settings.client_secret, redirect_uri=exact_settings.redirect_uri,
                                  division=exact_settings.division, state_url=state_url,
                                  budget_enabled=False).build_api(store=store, vault_key=key)
        consent = requests.get(exact.auth.authorize_url("b"), allow_redirects=False, timeout=10)
        exact.auth.exchange(consent.headers["Location"])
        bill = BillClient(api_url=running.bill_api_url, events_url=running.bill_events_url,
                          username=bill_settings.username, password=bill_settings.password,
                          organization_id=bill_settings.organization_id, dev_key=bill_settings.dev_key,
                          state_url=state_url).build_api(store=store, vault_key=key)
        bare = requests.Session()
        token = exact.auth.access_token()
        exact_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        centers_url = exact.url("hrm/Costcenters", {"$select": "ID,Code,Description,EndDate,Modified"})
        session_id = bill.sessions.session_id()
        bill_headers = {"devKey": bill_settings.dev_key, "sessionId": session_id, "Accept": "application/json"}
        vendor_url = f"{running.bill_api_url}/v3/vendors/00902SB0000000000001"

        rows = [
            ("Exact: cost centers (one page)", lambda: exact.cost_centers(),
             lambda: bare.get(centers_url, headers=exact_headers, timeout=30).json()),
            ("BILL: one vendor", lambda: bill.vendor("00902SB0000000000001"),
             lambda: bare.get(vendor_url, headers=bill_headers, timeout=30).json()),
        ]
        print(f"{'calls':32} {'client/s':>10} {'bare/s':>10} {'client time / bare time':>24}")
        for name, client_call, bare_call in rows:
            client_rate, bare_rate = timed(args.calls, client_call), timed(args.calls, bare_call)
            print(f"{name:32} {client_rate:10.0f} {bare_rate:10.0f} {bare_rate / client_rate:24.2f}")


if __name__ == "__main__":
    main()
