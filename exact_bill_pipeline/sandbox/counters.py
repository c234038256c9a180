"""Counters of what a sandbox served: calls per endpoint and answers per status code."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Counters:
    """Calls served per endpoint and per status; tests and benchmarks read them to count API spend."""

    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._by_endpoint_status: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def record(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._calls[endpoint] += 1
            self._statuses[status] += 1
            self._by_endpoint_status[(endpoint, status)] += 1

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._statuses.clear()
            self._by_endpoint_status.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._calls.values()),
                "calls": dict(sorted(self._calls.items())),
                "statuses": {str(code): n for code, n in sorted(self._statuses.items())},
                "rate_limited": self._statuses.get(429, 0),
                "errors_by_endpoint": {
                    f"{endpoint} {status}": n
                    for (endpoint, status), n in sorted(self._by_endpoint_status.items())
                    if status >= 400
                },
            }
