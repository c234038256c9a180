"""Exact's clock, not ours, times every refresh, and a refusal as too early is remembered by every process."""

from __future__ import annotations

import dataclasses

import pytest

from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline_tests.clients.client_helpers import exact_api, exact_client, onboard, token_stats

HOUR = 3600.0
STEP = 20.0


@pytest.fixture
def running(make_sandboxes):
    """Exact with its API limits out of the way; the token endpoint keeps its own (200 calls a day)."""
    return make_sandboxes(SandboxSettings(exact=dataclasses.replace(
        ExactSandboxSettings(), minutely_limit=10**6, daily_limit=10**6, error_block_threshold=0)))


def process_with_clock_off(running, state_url: str, key: str, seconds: float):
    """A process on a machine whose clock is ``seconds`` away from Exact's."""
    return exact_client(running, state_url, budget_enabled=False).build_api(
        store=StateStore(state_url), vault_key=key, clock=lambda: running.clock.now() + seconds)


@pytest.mark.parametrize("skew", [-300.0, 300.0], ids=["clock 5 min slow", "clock 5 min fast"])
def test_processes_whose_clock_is_minutes_off_spend_a_handful_of_token_calls(running, state_url, skew):
    key = generate_key()
    onboard(exact_api(running, state_url, key))  # consented on a machine whose clock is right
    before = token_stats(running)["token_calls_today"]
    processes = [process_with_clock_off(running, state_url, key, skew) for _ in range(3)]

    for _ in range(int(HOUR // STEP)):
        running.clock.advance(STEP)
        for process in processes:
            process.me()

    stats = token_stats(running)
    assert stats["too_early_refusals"] <= 1
    assert stats["old_refresh_token_refusals"] == 0
    assert HOUR // 600 - 1 <= stats["refreshes"] <= HOUR // 570 + 1
    assert stats["token_calls_today"] - before <= stats["refreshes"] + 2


def test_a_too_early_refusal_is_remembered_by_every_process_until_exact_allows_a_refresh(running, state_url):
    key = generate_key()
    onboard(exact_api(running, state_url, key))
    vault = Vault(StateStore(state_url), key)
    name = f"exact:tokens:{running.settings.exact.client_id}"
    stored = vault.get(name)
    # A pair timed on a clock 400 s slow (as an earlier version stored it): it looks due 400 s too early.
    vault.put(name, {**stored, "issued_at": stored["issued_at"] - 400, "expires_at": stored["expires_at"] - 400})
    running.clock.advance(200)

    exact_api(running, state_url, key).me()  # refused as too early: the pair is 200 s old by Exact's clock
    assert token_stats(running)["too_early_refusals"] == 1
    for _ in range(int(900 // STEP)):  # fifteen minutes of new processes calling every 20 s
        running.clock.advance(STEP)
        exact_api(running, state_url, key).me()

    stats = token_stats(running)
    assert stats["too_early_refusals"] == 1
    assert stats["old_refresh_token_refusals"] == 0
    assert 1 <= stats["refreshes"] <= 2
