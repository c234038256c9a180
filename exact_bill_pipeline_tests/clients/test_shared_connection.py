"""Eight processes share one Exact connection through a simulated hour of refreshes without losing it."""

from __future__ import annotations

import dataclasses
import multiprocessing
import time

from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.vault import generate_key
from exact_bill_pipeline_tests.clients.client_helpers import exact_api, exact_client, onboard, token_stats
from exact_bill_pipeline_tests.clients.token_workers import call_exact_until

PROCESSES = 8
HOUR = 3600.0
STEP = 20.0  # sandbox seconds per tick


def test_eight_processes_share_one_connection_through_an_hour_of_refreshes(make_sandboxes, state_url):
    running = make_sandboxes(SandboxSettings(exact=dataclasses.replace(
        ExactSandboxSettings(), minutely_limit=10**6, daily_limit=10**6, error_block_threshold=0)))
    key = generate_key()
    onboard(exact_api(running, state_url, key))
    config = exact_client(running, state_url, budget_enabled=False).model_dump()
    context = multiprocessing.get_context("spawn")
    offset = context.Value("d", running.clock.offset)
    results, ready = context.Queue(), context.Value("i", 0)
    end = running.clock.now() + HOUR
    workers = [context.Process(target=call_exact_until, args=(config, key, offset, end, results, ready))
               for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 120
    while ready.value < PROCESSES:  # the hour starts once every worker is calling
        assert time.monotonic() < deadline, f"only {ready.value} of {PROCESSES} workers started within 120 s"
        time.sleep(0.05)
    while running.clock.now() < end + STEP:
        running.clock.advance(STEP)
        with offset.get_lock():
            offset.value = running.clock.offset
        time.sleep(0.06)
    reports = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    stats = token_stats(running)
    assert [r["errors"] for r in reports] == [[]] * PROCESSES
    assert all(r["calls"] > 0 for r in reports)
    assert stats["old_refresh_token_refusals"] == 0
    assert stats["too_early_refusals"] == 0
    # One refresh per token lifetime (570-600 s) for the whole group, not one per process.
    assert HOUR // 600 - 1 <= stats["refreshes"] <= HOUR // 570 + 1
    assert sum(r["refreshes"] for r in reports) == stats["refreshes"]
