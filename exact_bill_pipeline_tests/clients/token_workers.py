"""A worker process for the shared-connection test: calls Exact on a clock the test moves through an hour."""

from __future__ import annotations

import time
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.state.db import StateStore


def call_exact_until(config: dict[str, Any], key: str, offset: Synchronized, end: float,  # type: ignore[type-arg]
                     results: Any, ready: Synchronized) -> None:  # type: ignore[type-arg]
    """Reads current/Me again and again until the shared sandbox time passes ``end``; reports counts.

    ``ready`` is incremented once the first call has been made, so the test starts its hour only when
    every worker is calling (spawning and importing can take seconds on a loaded machine).
    """

    def clock() -> float:
        return time.time() + offset.value

    client = ExactOnlineClient(**config)
    api = client.build_api(store=StateStore(config["state_url"]), vault_key=key, clock=clock,
                           sleep=lambda s: time.sleep(min(s, 0.05)))
    calls, errors = 0, []
    started = False
    while clock() < end:
        try:
            api.me()
            calls += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        if not started:
            started = True
            with ready.get_lock():
                ready.value += 1
        time.sleep(0.01)
    results.put({"calls": calls, "errors": errors, "refreshes": api.auth.refreshes})


def refresh_once(config: dict[str, Any], key: str, offset: float) -> None:
    """Calls Exact once on the sandbox clock (its offset when this process started): the refresh is due."""
    api = ExactOnlineClient(**config).build_api(store=StateStore(config["state_url"]), vault_key=key,
                                                clock=lambda: time.time() + offset)
    api.me()
