"""The Exact token pair is never lost: no transaction waits on Exact, a refused write is kept, a dead refresher
holds nothing up for long. Over real HTTP against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from exact_bill_pipeline.state.db import HOME_ENV, StateStore
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.leases import Leases
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline_tests.clients.client_helpers import (
    add_fault,
    exact_api,
    exact_client,
    onboard,
    sandbox_get,
    token_stats,
)
from exact_bill_pipeline_tests.clients.token_workers import refresh_once

LEASE = 5.0  # seconds; production waits a minute for a refresher that died


@pytest.fixture
def key() -> str:
    return generate_key()


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def token_call_in_flight(running) -> bool:
    """The one-shot delay fault on the token endpoint has fired: the refresh is waiting on Exact now."""
    return not sandbox_get(running, "exact", "faults")["faults"]


def test_other_writers_never_wait_while_a_refresh_waits_on_exact(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    sandboxes.clock.advance(580)
    add_fault(sandboxes, "exact", kind="delay", path="/api/oauth2/token", seconds=2.0)
    thread, errors = in_thread(api.me)
    wait_until(lambda: token_call_in_flight(sandboxes), "the refresh to reach Exact")

    started = time.monotonic()
    assert Inbox(StateStore(state_url)).add("bill", "event-1", "bill.updated", "00n1", {})  # the receiver's write
    waited = time.monotonic() - started
    thread.join(timeout=30)

    assert errors == []
    assert waited < 1.0  # not the 2 s the token call takes (nor SQLite's 30 s busy timeout)
    assert token_stats(sandboxes)["refreshes"] == 1


@pytest.mark.postgres
def test_a_refresh_survives_postgres_ending_transactions_left_idle(sandboxes, make_postgres_url, key):
    state_url = make_postgres_url().replace("?options=", "?options=-cidle_in_transaction_session_timeout%3D500%20")
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    sandboxes.clock.advance(580)
    add_fault(sandboxes, "exact", kind="delay", path="/api/oauth2/token", seconds=1.5)

    api.me()  # the token call takes longer than PostgreSQL lets a transaction sit idle

    stored = Vault(StateStore(state_url), key).get(api.auth.name)
    assert stored["access_token"] == api.auth.access_token()
    sandboxes.clock.advance(580)
    exact_api(sandboxes, state_url, key).me()  # another process refreshes with the stored refresh token
    stats = token_stats(sandboxes)
    assert (stats["refreshes"], stats["old_refresh_token_refusals"]) == (2, 0)


@pytest.fixture
def refuse_token_writes(state_url) -> Callable[[bool], None]:
    """Makes the database refuse every update of a stored credential (a full disk, a revoked grant), or not."""
    engine = sa.create_engine(state_url)
    postgres = engine.dialect.name == "postgresql"

    def refuse(on: bool) -> None:
        with engine.begin() as conn:
            if not on:
                conn.execute(sa.text("DROP TRIGGER refuse_writes" + (" ON credentials" if postgres else "")))
            elif postgres:
                conn.execute(sa.text("CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS "
                                     "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; "
                                     "END $$"))
                conn.execute(sa.text("CREATE TRIGGER refuse_writes BEFORE UPDATE ON credentials "
                                     "FOR EACH ROW EXECUTE FUNCTION refuse_writes()"))
            else:
                conn.execute(sa.text("CREATE TRIGGER refuse_writes BEFORE UPDATE ON credentials "
                                     "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))

    yield refuse
    engine.dispose()


def test_a_refreshed_pair_the_database_refuses_is_kept_and_a_later_process_stores_it(
        sandboxes, state_url, key, refuse_token_writes):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    vault = Vault(StateStore(state_url), key)
    refuse_token_writes(True)
    sandboxes.clock.advance(580)

    api.me()  # refreshed: Exact has rotated the refresh token, and the database will not take the new pair
    fresh = api.auth.access_token()
    assert vault.get(api.auth.name)["access_token"] != fresh

    refuse_token_writes(False)
    later = exact_api(sandboxes, state_url, key)  # the next process on this machine
    later.me()
    assert later.auth.access_token() == fresh
    assert vault.get(api.auth.name)["access_token"] == fresh
    sandboxes.clock.advance(580)
    exact_api(sandboxes, state_url, key).me()
    stats = token_stats(sandboxes)
    assert (stats["refreshes"], stats["old_refresh_token_refusals"]) == (2, 0)


def test_a_fallback_file_that_cannot_be_written_never_costs_the_pair(sandboxes, state_url, key, tmp_path,
                                                                      monkeypatch):
    not_a_directory = tmp_path / "home-is-a-file"
    not_a_directory.write_text("")
    monkeypatch.setenv(HOME_ENV, str(not_a_directory))
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    sandboxes.clock.advance(580)

    api.me()

    assert Vault(StateStore(state_url), key).get(api.auth.name)["access_token"] == api.auth.access_token()
    assert token_stats(sandboxes)["refreshes"] == 1


def start_refresher(running, state_url: str, key: str) -> multiprocessing.Process:
    """Another process whose next call refreshes the token, with a short lease."""
    config = exact_client(running, state_url, budget_enabled=False, token_lease_seconds=LEASE).model_dump()
    worker = multiprocessing.get_context("spawn").Process(target=refresh_once,
                                                          args=(config, key, running.clock.offset))
    worker.start()
    return worker


def kill_once_it_holds_the_lease(worker: multiprocessing.Process, state_url: str, name: str) -> None:
    wait_until(lambda: Leases(StateStore(state_url)).holder(name), "the other process to take the lease", 60)
    worker.kill()  # SIGKILL: no finally, no lease released
    worker.join(timeout=10)


def test_a_refresher_killed_before_exact_saw_its_request_delays_the_others_by_one_lease(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key, token_lease_seconds=LEASE)
    onboard(api)
    first = api.auth.access_token()
    sandboxes.clock.advance(580)
    # Exact answers the token call with 429s, so the other process is waiting to try again when it is killed.
    add_fault(sandboxes, "exact", kind="rate_limit", path="/api/oauth2/token", count=None)
    kill_once_it_holds_the_lease(start_refresher(sandboxes, state_url, key), state_url, api.auth.name)
    requests.delete(f"{sandboxes.exact_url}/_sandbox/faults", timeout=10).raise_for_status()

    started = time.monotonic()
    api.me()  # the token has 20 s left: it is used while the dead process's lease runs out
    assert time.monotonic() - started < 1.0
    assert api.auth.access_token() == first

    sandboxes.clock.advance(17)  # 3 s left: this process waits for the lease to lapse, then refreshes
    started = time.monotonic()
    api.me()
    assert time.monotonic() - started < LEASE + 2.0
    assert api.auth.access_token() != first
    stats = token_stats(sandboxes)
    assert (stats["refreshes"], stats["old_refresh_token_refusals"], stats["too_early_refusals"]) == (1, 0, 0)


def test_a_refresher_killed_after_exact_answered_leaves_the_pair_for_the_next_process(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key, token_lease_seconds=LEASE)
    onboard(api)
    old = api.auth.access_token()
    sandboxes.clock.advance(580)
    add_fault(sandboxes, "exact", kind="delay", path="/api/oauth2/token", seconds=1.0)
    kept = Path(os.environ[HOME_ENV], "exact-token-fallback")
    worker = start_refresher(sandboxes, state_url, key)
    wait_until(lambda: token_call_in_flight(sandboxes), "the other process's refresh to reach Exact", 60)
    with writes_blocked(state_url):  # the database stalls the other process's write of the new pair
        wait_until(lambda: list(kept.glob("*.pair")), "the new pair in the fallback file")
        worker.kill()  # SIGKILL between Exact's answer and the database's commit
        worker.join(timeout=10)

    api.me()  # this process finds the pair the dead one kept, and uses it at once
    new = api.auth.access_token()
    assert new != old
    time.sleep(LEASE)  # the dead process's lease lapses; the next process to read the pair stores it
    later = exact_api(sandboxes, state_url, key)
    later.me()
    assert Vault(StateStore(state_url), key).get(api.auth.name)["access_token"] == new
    assert not list(kept.glob("*.pair"))
    sandboxes.clock.advance(580)
    later.me()
    stats = token_stats(sandboxes)
    assert (stats["refreshes"], stats["old_refresh_token_refusals"]) == (2, 0)


@contextlib.contextmanager
def writes_blocked(state_url: str) -> Iterator[None]:
    """Holds SQLite's write lock, or PostgreSQL's locks on the credential rows, until left: reads go on."""
    url = sa.make_url(state_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(state_url)
    try:
        with engine.connect() as pg, pg.begin() as transaction:
            pg.execute(sa.text("SELECT name FROM credentials FOR UPDATE"))
            yield
            transaction.rollback()
    finally:
        engine.dispose()
