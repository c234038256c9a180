"""Exactly once under concurrency, doubt and crashes: each way it broke, counted in what Exact holds (its API)."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import pytest
from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.dead_runs import dead_run_sweep
from exact_bill_pipeline.defs.jobs import REFERENCE_ASSETS
from exact_bill_pipeline.demo import PROJECT_ROOT, sandbox_environment
from exact_bill_pipeline.state.db import STATE_URL_ENV
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import PostingLedger
from exact_bill_pipeline.state.vault import VAULT_KEY_ENV
from exact_bill_pipeline_tests.pipeline.conftest import fast_settings
from exact_bill_pipeline_tests.pipeline.day_worker import post_day, read_days
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import (
    control,
    entries_in_exact,
    exact_reader,
    postings_per_source,
)
from exact_bill_pipeline_tests.pipeline.test_recovery import ENTRIES, busiest_day, only

POOL = "exact_division_writes"


def kill_mid_posting(pipeline, day: str) -> str:
    """Posts a day in a process of its own and kills it when Exact committed its second bill but had not
    answered yet; returns that bill. Both bills in Exact are in doubt now: the ledger records outcomes a
    batch at a time, and the process died before it could."""
    control(pipeline.running, "exact", "POST", "faults", {"kind": "slow_response", "seconds": 60, "skip": 1,
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})
    exact, bill = pipeline.resources["exact"].model_dump(), pipeline.resources["bill"].model_dump()
    worker = multiprocessing.get_context("spawn").Process(target=post_day,
                                                          args=(exact, bill, pipeline.state_url, day))
    worker.start()
    deadline = time.monotonic() + 60
    while len(postings_per_source(pipeline)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    worker.kill()
    worker.join(timeout=30)
    control(pipeline.running, "exact", "DELETE", "faults")
    assert not PostingLedger(pipeline.store).entries(kind="bill", state="posted")
    _, second = sorted(entries_in_exact(pipeline).items(), key=lambda item: item[1][0]["entry_number"])
    return second[0]


def step_failure(result: dg.ExecuteInProcessResult) -> str:
    """What the UI shows first for the failed step: the failure's own description."""
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.event_specific_data.user_failure_data.description


def rerun_day(pipeline, day: str) -> dict:
    pipeline.run(selection=only("bill_bills"), partition=day)
    result = pipeline.run(selection=only(ENTRIES), partition=day)
    return result.asset_materializations_for_node(ENTRIES)[0].metadata


def test_a_bill_whose_invoice_number_changed_while_in_doubt_is_found_as_sent_and_flagged(pipeline):
    """Finding 1: the look-up used the bill as it is now, missed the entry, and posted the bill a second time."""
    day, bills = busiest_day(pipeline)
    doubtful = kill_mid_posting(pipeline, day)
    sent_as = entries_in_exact(pipeline)[doubtful][0]["your_ref"]
    control(pipeline.running, "bill", "PATCH", f"bills/{doubtful}", {"invoice": {"invoiceNumber": "RENUMBERED-1"}})

    metadata = rerun_day(pipeline, day)

    assert postings_per_source(pipeline)[doubtful] == 1
    assert entries_in_exact(pipeline)[doubtful][0]["your_ref"] == sent_as
    assert set(postings_per_source(pipeline)) == set(bills)
    assert metadata["changed_after_posting"].value == 1
    item = FailureQueue(pipeline.store).find("bill", doubtful)
    assert item.reason_code == "changed_after_posting"
    assert item.tried["diff"]["invoiceNumber"] == {"before": sent_as, "after": "RENUMBERED-1"}


def test_a_bill_whose_amount_changed_while_in_doubt_keeps_the_amount_sent_and_is_flagged(pipeline):
    """Finding 1: the old entry was accepted as the posting and the ledger recorded the new amount, unflagged."""
    day, _ = busiest_day(pipeline)
    doubtful = kill_mid_posting(pipeline, day)
    booked = entries_in_exact(pipeline)[doubtful][0]["lines"]
    expenses = sum(Decimal(str(line.amount_dc)) for line in booked if line.line_number != 0)
    control(pipeline.running, "bill", "PATCH", f"bills/{doubtful}", {"amount": 9876.54})

    rerun_day(pipeline, day)

    assert postings_per_source(pipeline)[doubtful] == 1
    item = FailureQueue(pipeline.store).find("bill", doubtful)
    assert item.reason_code == "changed_after_posting"
    assert item.tried["diff"]["amount"]["after"] == "9876.54"
    entry = PostingLedger(pipeline.store).get("bill", doubtful)
    assert entry.state == "posted"
    assert entry.amount == expenses  # what was sent and booked, not what BILL says now


def test_a_post_exact_commits_after_its_client_gave_up_is_never_posted_twice(make_pipeline_for):
    """Finding 3: one empty look-up after a timeout triggered a second POST while Exact was still working."""
    pipeline = make_pipeline_for(doubt_settle_seconds=3.0, doubt_wait_seconds=10.0)
    replace_exact_client(pipeline, read_timeout_seconds=0.5)
    day, bills = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "slow_commit", "seconds": 1.5,
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})

    result = pipeline.run(selection=only(ENTRIES), partition=day)

    metadata = result.asset_materializations_for_node(ENTRIES)[0].metadata
    time.sleep(2)  # every write Exact was still working on has landed by now
    assert postings_per_source(pipeline) == {bill: 1 for bill in bills}
    assert metadata["recovered_after_uncertain_post"].value == 1
    assert metadata["posted"].value == len(bills) - 1
    assert not [e for e in PostingLedger(pipeline.store).entries(kind="bill") if e.unfinished]


def test_a_doubt_exact_settles_after_the_run_is_looked_up_by_the_next_run_not_posted_again(make_pipeline_for):
    pipeline = make_pipeline_for(doubt_settle_seconds=4.0, doubt_wait_seconds=0.0)
    replace_exact_client(pipeline, read_timeout_seconds=0.5)
    day, bills = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "slow_commit", "seconds": 1.5,
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})
    first = pipeline.run(selection=only(ENTRIES), partition=day).asset_materializations_for_node(ENTRIES)[0]
    assert first.metadata["uncertain"].value == 1
    time.sleep(2)
    # Committed by now, but the window is not over: a second run looks, finds it, and posts nothing.
    second = pipeline.run(selection=only(ENTRIES), partition=day).asset_materializations_for_node(ENTRIES)[0]
    assert second.metadata["recovered_after_uncertain_post"].value == 1
    assert second.metadata["posted"].value == 0
    assert postings_per_source(pipeline) == {bill: 1 for bill in bills}


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_a_posting_exact_refuses_waits_in_the_queue_and_the_run_goes_on(pipeline, status):
    """Finding 4: a refused POST aborted the run, and every bill after it waited behind it."""
    day, bills = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "error", "status": status, "skip": 1,
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})

    result = pipeline.run(selection=only(ENTRIES), partition=day)

    metadata = result.asset_materializations_for_node(ENTRIES)[0].metadata
    assert metadata["posted"].value == len(bills) - 1
    refused = [i for i in FailureQueue(pipeline.store).items(kind="bill") if i.reason_code == "exact_rejected"]
    assert len(refused) == 1
    assert f"HTTP {status}" in refused[0].message
    assert refused[0].exact_message
    assert set(postings_per_source(pipeline)) == set(bills) - {refused[0].source_id}

    # A refusal could have been a generic 500 that wrote something: the replay looks first, then posts once.
    replayed = CliRunnerEnv(pipeline).invoke(["failures", "replay", str(refused[0].id)])
    assert replayed.exit_code == 0, replayed.output
    assert postings_per_source(pipeline) == {bill: 1 for bill in bills}


def test_refusals_in_a_row_stop_the_run_with_one_message_naming_the_fix(make_pipeline_for):
    pipeline = make_pipeline_for(refusals_in_a_row=3)
    day, _ = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "error", "status": 400, "count": None,
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})

    result = pipeline.run(selection=only(ENTRIES), partition=day, raise_on_error=False)

    assert not result.success
    assert "refused 3 postings in a row" in step_failure(result)
    assert "exact-bill failures replay" in step_failure(result)
    assert len(FailureQueue(pipeline.store).items(reason="exact_rejected")) == 3
    assert postings_per_source(pipeline) == {}


def test_a_division_exact_blocks_stops_the_run_instead_of_queuing_every_bill(pipeline):
    day, _ = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "error", "status": 403, "reason": "LicenseExpired",
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})
    result = pipeline.run(selection=only(ENTRIES), partition=day, raise_on_error=False)
    assert not result.success
    assert "LicenseExpired" in step_failure(result)
    assert FailureQueue(pipeline.store).items(reason="exact_rejected") == []


def test_runs_reading_the_same_days_at_the_same_time_all_succeed(pipeline):
    """Finding 5: snapshots were read, then inserted; two runs over one day collided (locked, or a duplicate key)."""
    pipeline.run(selection=REFERENCE_ASSETS)
    first, last = pipeline.history()
    middle = (date.fromisoformat(first) + timedelta(days=20)).isoformat()
    exact, bill = pipeline.resources["exact"].model_dump(), pipeline.resources["bill"].model_dump()
    spawn = multiprocessing.get_context("spawn")
    for days in ((first, middle), (middle, last)):  # each round reads days nobody has read yet
        start = spawn.Barrier(3)
        readers = [spawn.Process(target=read_days, args=(exact, bill, pipeline.state_url, *days, start))
                   for _ in range(3)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(120)
        assert [reader.exitcode for reader in readers] == [0] * 3, days


def test_a_posted_payment_voided_in_bill_is_flagged_and_its_entry_kept(pipeline):
    """Finding 6: an unsettled payment was skipped before the ledger was read, so a void went unnoticed."""
    pipeline.sync_everything()
    posted = PostingLedger(pipeline.store).entries(kind="payment", state="posted")
    voided, moved = posted[0], posted[1]
    control(pipeline.running, "bill", "PATCH", f"payments/{voided.source_id}", {"status": "VOID"})
    control(pipeline.running, "bill", "PATCH", f"payments/{moved.source_id}", {"processDate": "2031-01-02"})

    pipeline.sync_everything()

    queue = FailureQueue(pipeline.store)
    item = queue.find("payment", voided.source_id)
    assert item.reason_code == "changed_after_posting"
    assert item.tried["diff"]["settlement"] == {"before": "settled", "after": "voided"}
    assert "reverse the entry in Exact" in item.message
    assert queue.find("payment", moved.source_id).tried["diff"]["processDate"]["after"] == "2031-01-02"
    assert postings_per_source(pipeline, journal="20")[voided.source_id] == 1


class CliRunnerEnv:
    """The command line pointed at a pipeline's sandboxes and database."""

    def __init__(self, pipeline) -> None:
        self.env = {**sandbox_environment(pipeline.running), STATE_URL_ENV: pipeline.state_url}

    def invoke(self, arguments: list[str]):
        return CliRunner(env=self.env).invoke(main, arguments)


def command_environment(pipeline, dagster_home) -> dict[str, str]:
    """What `exact-bill` needs in a process of its own: the sandboxes, the database, the vault key, Dagster."""
    shutil.copy(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    return {**os.environ, **sandbox_environment(pipeline.running), STATE_URL_ENV: pipeline.state_url,
            VAULT_KEY_ENV: os.environ[VAULT_KEY_ENV], "DAGSTER_HOME": str(dagster_home),
            "EXACT_DOUBT_SETTLE_SECONDS": "1", "EXACT_DOUBT_WAIT_SECONDS": "5"}


def exact_bill(env: dict[str, str], *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "exact_bill_pipeline.cli", *arguments], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_replay_and_a_backfill_at_the_same_time_post_each_bill_once(make_pipeline_for, tmp_path):
    """Finding 2: `failures replay --all` raced a backfill over the same days and posted 14 bills twice."""
    pipeline = make_pipeline_for(dataclasses.replace(fast_settings(), latency_ms=30))
    pipeline.sync_everything()
    queue = FailureQueue(pipeline.store)
    waiting = {i.source_id for i in queue.items(kind="bill") if i.reason_code.startswith("unmapped")}
    control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4995", "description": "Conference fees"})
    control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4996", "description": "Research materials"})
    control(pipeline.running, "exact", "POST", "cost-centers", {"code": "600", "description": "Research Lab"})
    override = CliRunnerEnv(pipeline).invoke(["mapping", "override", "account", "6500", "4640", "--note", "x"])
    assert override.exit_code == 0, override.output
    pipeline.run(selection=REFERENCE_ASSETS)
    env = command_environment(pipeline, tmp_path)
    first, last = pipeline.history()

    processes = [exact_bill(env, "failures", "replay", "--all"), exact_bill(env, "backfill", first, last),
                 exact_bill(env, "failures", "replay", "--all"), exact_bill(env, "failures", "replay", "--all")]
    try:
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()

    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    counts = postings_per_source(pipeline)
    assert waiting <= set(counts)
    assert set(counts.values()) == {1}, {bill: n for bill, n in counts.items() if n > 1}


def start_backfill_and_kill_it_mid_posting(pipeline, env: dict[str, str]) -> int:
    first, last = pipeline.history()
    process = exact_bill(env, "backfill", first, last)
    deadline = time.monotonic() + 120
    while len(postings_per_source(pipeline)) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    return process.pid


def test_a_backfill_killed_mid_posting_does_not_block_the_next_one(make_pipeline_for, tmp_path):
    """Finding 7: the killed run kept its slot in the posting pool and the next backfill waited forever."""
    pipeline = make_pipeline_for(dataclasses.replace(fast_settings(), latency_ms=25))
    pipeline.run(selection=REFERENCE_ASSETS)
    env = command_environment(pipeline, tmp_path)
    killed = start_backfill_and_kill_it_mid_posting(pipeline, env)
    assert sum(postings_per_source(pipeline).values()) > 0

    first, last = pipeline.history()
    again = exact_bill(env, "backfill", first, last)
    try:
        output = again.communicate(timeout=240)[0]
    finally:
        again.kill()

    assert again.returncode == 0, output
    assert re.search(rf"Run \S+ \(process {killed} on \S+ is gone\) held the Exact posting pool", output)
    assert "its pool slot is freed" in output
    counts = postings_per_source(pipeline)
    assert set(counts.values()) == {1}
    assert set(counts) == {e.source_id for e in PostingLedger(pipeline.store).entries(kind="bill", state="posted")}


def test_the_sensor_frees_the_pool_from_a_run_that_died_and_marks_it_failed(make_pipeline_for, tmp_path):
    pipeline = make_pipeline_for(dataclasses.replace(fast_settings(), latency_ms=25))
    pipeline.run(selection=REFERENCE_ASSETS)
    env = command_environment(pipeline, tmp_path)
    start_backfill_and_kill_it_mid_posting(pipeline, env)
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    (run,) = [r for r in instance.get_runs() if r.job_name == "payables_sync"]
    assert not run.is_finished
    assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots

    with dg.build_sensor_context(instance=instance, resources=pipeline.resources) as context:
        tick = dead_run_sweep(context)

    assert run.run_id in tick.skip_message
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
    with dg.build_sensor_context(instance=instance, resources=pipeline.resources) as context:
        assert dead_run_sweep(context).skip_message == "no posting run died"


def test_a_person_settles_a_doubt_by_hand_and_it_is_audited(pipeline):
    day, bills = busiest_day(pipeline)
    doubtful = kill_mid_posting(pipeline, day)
    cli = CliRunnerEnv(pipeline)
    listed = cli.invoke(["ledger", "doubts"])
    assert doubtful in listed.output
    number = entries_in_exact(pipeline)[doubtful][0]["entry_number"]

    wrong = cli.invoke(["ledger", "settle", "bill", doubtful, "--entry", "99999999", "--note", "typo"])
    assert wrong.exit_code != 0
    assert "Exact has no entry 99999999" in wrong.output
    settled = cli.invoke(["ledger", "settle", "bill", doubtful, "--entry", str(number), "--note", "seen in Exact"])
    assert settled.exit_code == 0, settled.output

    rerun_day(pipeline, day)
    assert postings_per_source(pipeline) == {bill: 1 for bill in bills}
    entry = PostingLedger(pipeline.store).get("bill", doubtful)
    assert entry.entry_number == number
    with pipeline.store.transaction() as conn:
        from exact_bill_pipeline.state import audit

        actions = [(row["action"], row["after"].get("note")) for row in audit.history(conn, "bill", doubtful)]
    assert ("settled_by_hand", "seen in Exact") in actions


def test_a_doubt_settled_as_not_posted_is_posted_by_the_next_run_without_waiting(make_pipeline_for):
    pipeline = make_pipeline_for(doubt_settle_seconds=600.0, doubt_wait_seconds=0.0)
    day, bills = busiest_day(pipeline)
    doubtful = kill_mid_posting(pipeline, day)
    # Someone deleted the half-posted entry in Exact by hand, and says so.
    entry_id = entries_in_exact(pipeline)[doubtful][0]["entry_id"]
    api = exact_reader(pipeline)
    api.request("DELETE", api.url(f"purchaseentry/PurchaseEntries(guid'{entry_id}')"))
    cli = CliRunnerEnv(pipeline)
    assert cli.invoke(["ledger", "settle", "bill", doubtful, "--not-posted", "--note", "deleted"]).exit_code == 0

    metadata = rerun_day(pipeline, day)

    # Posted at once, although the bills the killed run never got to stay in doubt for the settle window.
    assert postings_per_source(pipeline)[doubtful] == 1
    assert set(postings_per_source(pipeline).values()) == {1}
    assert metadata["uncertain"].value == len(bills) - 2


def replace_exact_client(pipeline, **changes: object) -> None:
    pipeline.resources["exact"] = ExactOnlineClient(**{**pipeline.resources["exact"].model_dump(), **changes})

