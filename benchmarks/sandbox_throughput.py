"""Prints how many API calls per second the sandboxes serve on this machine (limits raised out of the way).

Usage: .venv/bin/python benchmarks/sandbox_throughput.py [--seconds 5] [--clients 1,4]
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import requests

from exact_bill_pipeline.sandbox.server import RunningSandboxes, SandboxServers
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, ExactSandboxSettings, SandboxSettings


def settings() -> SandboxSettings:
    exact = dataclasses.replace(ExactSandboxSettings(), minutely_limit=10**9, daily_limit=10**9,
                                error_block_threshold=0)
    bill = dataclasses.replace(BillSandboxSettings(), requests_per_hour=10**9, concurrent_requests=1000)
    return SandboxSettings(exact=exact, bill=bill)


def exact_headers(running: RunningSandboxes) -> dict[str, str]:
    exact = running.settings.exact
    auth = requests.get(f"{running.exact_url}/api/oauth2/auth", allow_redirects=False, timeout=10, params={
        "client_id": exact.client_id, "redirect_uri": exact.redirect_uri, "response_type": "code", "state": "b"})
    code = parse_qs(urlparse(auth.headers["Location"]).query)["code"][0]
    token = requests.post(f"{running.exact_url}/api/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": exact.redirect_uri,
        "client_id": exact.client_id, "client_secret": exact.client_secret}).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def bill_headers(running: RunningSandboxes) -> dict[str, str]:
    bill = running.settings.bill
    session = requests.post(f"{running.bill_api_url}/v3/login", timeout=10, json={
        "username": bill.username, "password": bill.password, "organizationId": bill.organization_id,
        "devKey": bill.dev_key}).json()["sessionId"]
    return {"devKey": bill.dev_key, "sessionId": session}


def measure(call: Callable[[requests.Session], requests.Response], clients: int, seconds: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            response = call(session)
            if not response.ok:
                raise RuntimeError(f"benchmark call failed: {response.status_code} {response.text[:200]}")
            counts[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,4")
    args = parser.parse_args()
    with SandboxServers(settings()) as running:
        division = running.settings.exact.division
        exact, bill = exact_headers(running), bill_headers(running)
        api = f"{running.exact_url}/api/v1/{division}"
        cases: dict[str, Callable[[requests.Session], requests.Response]] = {
            "Exact GET current/Me": lambda s: s.get(f"{running.exact_url}/api/v1/current/Me", headers=exact),
            "Exact GET 60 cost centers page": lambda s: s.get(
                f"{api}/hrm/Costcenters", params={"$select": "ID,Code,Description"}, headers=exact),
            "Exact GET sync GL accounts (94 rows)": lambda s: s.get(
                f"{api}/sync/Financial/GLAccounts", params={"$select": "ID,Code", "$filter": "Timestamp gt 1L"},
                headers=exact),
            "BILL GET 100 bills page": lambda s: s.get(f"{running.bill_api_url}/v3/bills", params={"max": 100},
                                                       headers=bill),
            "BILL GET one vendor": lambda s: s.get(
                f"{running.bill_api_url}/v3/vendors/00902SB0000000000001", headers=bill),
        }
        print(f"{'call':40} " + " ".join(f"{c + ' client(s)':>14}" for c in args.clients.split(",")))
        for name, call in cases.items():
            rates = [measure(call, int(c), args.seconds) for c in args.clients.split(",")]
            print(f"{name:40} " + " ".join(f"{rate:11.0f}/s " for rate in rates))


if __name__ == "__main__":
    main()
