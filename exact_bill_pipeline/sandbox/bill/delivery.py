"""Signed webhook POSTs on background threads, on a schedule, so the event loop never waits on a receiver."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import ipaddress
import itertools
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)


def sign(body: bytes, security_key: str) -> str:
    """BILL's x-bill-sha-signature: base64 HMAC-SHA256 of the raw body, keyed with the key's UTF-8 bytes."""
    # UNCONFIRMED officially that the key is used as UTF-8 text (not base64-decoded); third-party
    # verifiers do this (bill.md §6.4).
    return base64.b64encode(hmac.new(security_key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Poster:
    """Sends one notification and says which HTTP status came back (None when none did)."""

    def __init__(self, timeout_seconds: float, loopback_only: bool) -> None:
        self._timeout = timeout_seconds
        self._loopback_only = loopback_only
        self._local = threading.local()

    def post(self, url: str, body: bytes, security_key: str) -> int | None:
        # The sandbox machine may reach only loopback; a receiver elsewhere counts as unreachable.
        if self._loopback_only and not is_loopback_host(urlsplit(url).hostname):
            return None
        headers = {"Content-Type": "application/json", "x-bill-sha-signature": sign(body, security_key)}
        try:
            response = self._session().post(
                url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            )
        except requests.RequestException:
            return None
        response.close()
        return response.status_code

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies from the environment for loopback receivers
            self._local.session = session
        return session


class Dispatcher:
    """A few worker threads that run jobs when they fall due (now, or after a retry delay)."""

    def __init__(self, run: Callable[[object], None], workers: int = 4) -> None:
        self._run = run
        self._due: list[tuple[float, int, object]] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"bill-webhooks-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: object, delay_seconds: float = 0.0) -> None:
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + delay_seconds, next(self._sequence), job))
            self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._due)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._due.clear()
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=15)

    def _work(self) -> None:
        while True:
            with self._wake:
                job = self._next_due()
                if job is None:
                    return
            try:
                self._run(job)
            except Exception:  # a broken job must not take a worker down with it
                log.exception("BILL sandbox webhook job failed")

    def _next_due(self) -> object | None:
        while not self._stopped:
            if self._due and self._due[0][0] <= time.monotonic():
                return heapq.heappop(self._due)[2]
            self._wake.wait(timeout=self._due[0][0] - time.monotonic() if self._due else None)
        return None
