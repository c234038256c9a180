"""A fault campaign against exactly-once posting: thousands of bills and payments through every kind of trouble,
then counted in what Exact holds (through its API, not the connector's ledger): duplicates and missing.

Faults: 5 % of Exact's answers a 5xx, 2 % of postings committed with their answer lost, slow commits that land
after the client gave up, bursts of 429s, three SIGKILLs of the backfill process mid-posting, a concurrent
`exact-bill failures replay --all`, and webhook-style runs (bills_sync, payments_sync) on the days the backfill
is posting. Missing means postable, not in the failure queue, and not in Exact.

Usage: .venv/bin/python benchmarks/fault_campaign.py [--bills 2600] [--storage sqlite|postgres] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from exact_bill_pipeline.demo import environment
from exact_bill_pipeline.domain.payments import is_settled
from exact_bill_pipeline.domain.postings import PostingSettings, is_postable
from exact_bill_pipeline.processes import stop_process
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_throughput import LIFTED, environment_for, start_sandboxes, storage

ENTRIES = r"purchaseentry/PurchaseEntries|financialtransaction/BankEntries"
ENTRY_NAMES = re.compile(ENTRIES)
DAYS = 120
KILLS = 3
BURST_EVERY = 180  # seconds
WEBHOOK_RUNS = 8


def cli(env: dict[str, str], *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "exact_bill_pipeline.cli", *arguments], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def job_run(env: dict[str, str], job: str, day: str) -> subprocess.Popen[str]:
    """A run of the job a webhook starts, for one day, on the same Dagster instance (as the inbox sensor does)."""
    code = ("import dagster as dg; from exact_bill_pipeline.definitions import build_definitions; "
            f"build_definitions().resolve_job_def({job!r}).execute_in_process(instance=dg.DagsterInstance.get(), "
            f"partition_key={day!r}, raise_on_error=False)")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def fault(exact_url: str, **rule: object) -> None:
    requests.post(f"{exact_url}/_sandbox/faults", json=rule, timeout=10).raise_for_status()


def exact_entries(exact_url: str) -> Counter[str]:
    """BILL ID -> entries Exact holds for it (purchase journal 60, bank journal 20), through Exact's API."""
    from exact_bill_pipeline.config import exact_client

    api = exact_client(budget_enabled=False).api()
    by_entry: dict[str, str] = {}
    for line in api.sync_transaction_lines(1):
        words = (line.description or "").split()
        if line.journal_code in {"60", "20"} and len(words) > 1 and words[0] == "BILL" and line.entry_id:
            by_entry[str(line.entry_id)] = words[1]
    return Counter(by_entry.values())


def in_exact_now(exact_url: str) -> int:
    """Postings sent to Exact so far, from the sandbox's counters: a progress gauge that no fault touches."""
    calls = requests.get(f"{exact_url}/_sandbox/counters", timeout=60).json()["calls"]
    return sum(n for name, n in calls.items() if name.startswith("POST") and ENTRY_NAMES.search(name))


def burst_429s(exact_url: str, stop: threading.Event, fired: list[int]) -> None:
    """A burst of Exact's own 429s every few minutes: each costs the client a wait for the next minute."""
    while not stop.wait(BURST_EVERY):
        fault(exact_url, kind="rate_limit", count=5, path="/api/v1/")
        fired.append(5)


def kill_mid_posting(env: dict[str, str], exact_url: str, first: str, last: str, grow: int) -> int:
    """Starts a backfill, waits until Exact holds ``grow`` more entries, and SIGKILLs it."""
    before = in_exact_now(exact_url)
    process = cli(env, "backfill", first, last)
    deadline = time.monotonic() + 600
    while in_exact_now(exact_url) < before + grow and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    return process.pid


def run(bills: int, storage_kind: str, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    process, exact_url, bill_url = start_sandboxes(bills, DAYS, LIFTED)
    try:
        with (tempfile.TemporaryDirectory() as home, storage(storage_kind, Path(home)) as (state_url, yaml, env_extra)):
            env = {**os.environ, **environment_for(exact_url, bill_url, state_url, LIFTED), **env_extra,
                   "DAGSTER_HOME": home, "EXACT_READ_TIMEOUT_SECONDS": "2", "EXACT_DOUBT_SETTLE_SECONDS": "6",
                   "EXACT_DOUBT_WAIT_SECONDS": "8", "EXACT_REFUSALS_IN_A_ROW": "50"}
            shutil.copyfile(yaml, Path(home, "dagster.yaml"))
            with environment(env):
                from exact_bill_pipeline.config import exact_client

                api = exact_client().api()
                consent = requests.get(api.auth.authorize_url("c"), allow_redirects=False, timeout=30)
                api.auth.exchange(consent.headers["Location"])
                anchor = datetime.now(tz=UTC).date()
                first, last = (anchor - timedelta(days=DAYS)).isoformat(), (anchor - timedelta(days=1)).isoformat()
                days = [(anchor - timedelta(days=n)).isoformat() for n in range(1, DAYS + 1)]

                reference = cli(env, "backfill", last, last, "--with-reference")
                reference.communicate(timeout=600)
                fault(exact_url, kind="error", status=503, path="/api/v1/", count=None, probability=0.05)
                fault(exact_url, kind="drop_response", path=ENTRIES, method="POST", count=None, probability=0.02)
                fault(exact_url, kind="slow_commit", seconds=4, path=ENTRIES, method="POST", count=None,
                      probability=0.01)
                stop, bursts = threading.Event(), []
                threading.Thread(target=burst_429s, args=(exact_url, stop, bursts), daemon=True).start()

                killed = [kill_mid_posting(env, exact_url, first, last, grow=rng.randint(60, 200))
                          for _ in range(KILLS)]
                print(f"killed backfills (pids): {killed}; {in_exact_now(exact_url)} postings sent so far")
                backfill = cli(env, "backfill", first, last)
                replay = cli(env, "failures", "replay", "--all")
                webhook_runs = [job_run(env, rng.choice(["bills_sync", "payments_sync"]), rng.choice(days))
                                for _ in range(WEBHOOK_RUNS)]
                outputs = {"backfill": backfill.communicate(timeout=3600)[0],
                           "replay": replay.communicate(timeout=3600)[0]}
                for webhook_run in webhook_runs:
                    webhook_run.wait(3600)
                stop.set()
                counters = requests.get(f"{exact_url}/_sandbox/counters", timeout=30).json()
                rules = requests.get(f"{exact_url}/_sandbox/faults", timeout=30).json()["faults"]
                hits = {rule["kind"]: rule["hits"] for rule in rules if rule["kind"] != "rate_limit"}
                requests.delete(f"{exact_url}/_sandbox/faults", timeout=30)
                # A last run without faults, after every doubt's window: what is still in doubt is settled.
                time.sleep(7)
                settle = cli(env, "backfill", first, last)
                outputs["settle"] = settle.communicate(timeout=3600)[0]
                report(exact_url, bill_url, env, state_url, counters, hits, bursts, killed, outputs,
                       [backfill.returncode, replay.returncode, settle.returncode],
                       [w.returncode for w in webhook_runs], time.perf_counter() - started)
    finally:
        stop_process(process)


def report(exact_url: str, bill_url: str, env: dict[str, str], state_url: str, counters: dict, hits: dict,
           bursts: list[int], killed: list[int], outputs: dict[str, str], codes: list[int | None],
           webhook_codes: list[int | None], seconds: float) -> None:
    from exact_bill_pipeline.config import bill_client

    in_exact = exact_entries(exact_url)
    bill = bill_client().api()
    settings = PostingSettings()
    postable = {b.raw["id"] for b in bill.iter_bills() if is_postable(b.raw, settings)}
    settled = {p.id for p in bill.iter_payments() if is_settled(p.model_dump(mode="json", by_alias=True))}
    queue = FailureQueue(StateStore(state_url))
    waiting = set(queue.source_ids(kind="bill")) | set(queue.source_ids(kind="payment"))
    duplicates = {source: n for source, n in in_exact.items() if n > 1}
    missing_bills = postable - waiting - set(in_exact)
    missing_payments = settled - waiting - set(in_exact)
    print(f"fault campaign: {len(postable)} postable bills, {len(settled)} settled payments, {seconds:.0f} s")
    print(f"  faults: {counters['statuses'].get('503', 0)} answers 503, {counters['rate_limited']} answers 429 "
          f"({len(bursts)} bursts), {hits.get('drop_response', 0)} postings committed with the answer lost, "
          f"{hits.get('slow_commit', 0)} slow commits, {len(killed)} backfills SIGKILLed mid-posting, "
          f"1 concurrent failures replay, {WEBHOOK_RUNS} webhook runs on the backfill's days")
    print(f"  exit codes: backfill, replay, settling backfill {codes}; webhook runs {webhook_codes}")
    print(f"  in Exact (read through its API): {sum(in_exact.values())} entries for {len(in_exact)} BILL documents")
    print(f"  DUPLICATES: {sum(n - 1 for n in duplicates.values())} {sorted(duplicates)[:10]}")
    print(f"  MISSING: {len(missing_bills)} bills {sorted(missing_bills)[:10]}, "
          f"{len(missing_payments)} payments {sorted(missing_payments)[:10]}")
    print(f"  waiting in the failure queue: {len(waiting)} (by reason: "
          f"{dict(Counter(i.reason_code for i in queue.items()))})")
    for name, output in outputs.items():
        tail = [line for line in output.strip().splitlines() if line.strip()][-3:]
        print(f"  {name}: " + " | ".join(tail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bills", type=int, default=2500, help="bills to seed (most are postable)")
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run(args.bills, args.storage, args.seed)


if __name__ == "__main__":
    main()
