"""Prints what posting costs: Exact calls per posted bill, wall time per bill next to a bare requests loop,
and the pipeline process's peak memory. The sandboxes run in their own process, Exact's limits raised;
with --real-limits, at Exact's own 60 calls a minute and 5,000 a day, it prints what a user feels instead: the
share of the minutely limit spent on postings and the 429s Exact sent.

With --storage postgres, the connector's state and Dagster's runs and events live in a fresh PostgreSQL
database (as in production, deploy/dagster-postgres.yaml), dropped afterwards; by default both are SQLite
files, Dagster's configured by the project's dagster.yaml (the embedded demo set-up).

Usage: .venv/bin/python benchmarks/pipeline_throughput.py --bills 1000 [--bills 10000] [--days 180]
       .venv/bin/python benchmarks/pipeline_throughput.py --bills 1000 --storage postgres
       .venv/bin/python benchmarks/pipeline_throughput.py --bills 100000 --skip-bare
       .venv/bin/python benchmarks/pipeline_throughput.py --bills 1000 --real-limits   (about 25 minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import requests
import sqlalchemy as sa

from exact_bill_pipeline.definitions import build_definitions
from exact_bill_pipeline.defs.partitions import daily_partitions
from exact_bill_pipeline.demo import PROJECT_ROOT, environment
from exact_bill_pipeline.processes import stop_process
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, ExactSandboxSettings
from exact_bill_pipeline.state.db import STATE_URL_ENV, StateStore
from exact_bill_pipeline.state.ledger import PostingLedger
from exact_bill_pipeline.state.vault import VAULT_KEY_ENV, generate_key

POSTGRES_SERVER = os.environ.get("EXACT_BILL_BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
LIFTED = (100_000_000, 1_000_000_000)  # calls a minute, a day
EXACT_LIMITS = (60, 5_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandboxes(bills: int, days: int, limits: tuple[int, int]) -> tuple[subprocess.Popen[bytes], str, str]:
    exact_port, bill_port = free_port(), free_port()
    anchor = datetime.now(tz=UTC).date()
    # Ordinary bills only: the AP documents of issue 14 include bills Exact refuses (a closed period, a duplicate
    # invoice number), which would read as postings missing in the fault campaign's count.
    process = subprocess.Popen(
        [sys.executable, "-m", "exact_bill_pipeline.cli", "sandbox", "serve", "--exact-port", str(exact_port),
         "--bill-port", str(bill_port), "--bills", str(bills), "--exact-minutely-limit", str(limits[0]),
         "--exact-daily-limit", str(limits[1]), "--history-days", str(days), "--anchor", anchor.isoformat(),
         "--no-ap-documents"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    exact_url, bill_url = f"http://127.0.0.1:{exact_port}", f"http://127.0.0.1:{bill_port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"{exact_url}/_sandbox/clock", timeout=1)
            requests.get(f"{bill_url}/_sandbox/clock", timeout=1)
            return process, exact_url, bill_url
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the sandboxes did not start")


@contextlib.contextmanager
def storage(kind: str, home: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """The state database URL, the shipped Dagster instance file and its environment; a PostgreSQL database
    is made and dropped."""
    if kind == "sqlite":
        yield f"sqlite:///{home / 'state.sqlite'}", PROJECT_ROOT / "dagster.yaml", {}
        return
    name = f"exact_bill_bench_{os.getpid()}"
    server = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        yield url, PROJECT_ROOT / "deploy" / "dagster-postgres.yaml", {"DAGSTER_PG_URL": url}
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        server.dispose()


def environment_for(exact_url: str, bill_url: str, state_url: str, limits: tuple[int, int]) -> dict[str, str]:
    exact, bill = ExactSandboxSettings(), BillSandboxSettings()
    return {
        "EXACT_BASE_URL": exact_url, "EXACT_CLIENT_ID": exact.client_id, "EXACT_CLIENT_SECRET": exact.client_secret,
        "EXACT_REDIRECT_URI": exact.redirect_uri, "EXACT_DIVISION": str(exact.division),
        "EXACT_DAILY_CALL_LIMIT": str(limits[1]), "EXACT_MINUTELY_CALL_LIMIT": str(limits[0]),
        "BILL_API_URL": f"{bill_url}/connect", "BILL_EVENTS_URL": f"{bill_url}/connect-events",
        "BILL_USERNAME": bill.username, "BILL_PASSWORD": bill.password,
        "BILL_ORGANIZATION_ID": bill.organization_id, "BILL_DEV_KEY": bill.dev_key,
        STATE_URL_ENV: state_url, VAULT_KEY_ENV: generate_key(),
    }


def exact_calls(exact_url: str) -> tuple[int, int]:
    """API calls the Exact sandbox served so far, and the 429s among them."""
    counters = requests.get(f"{exact_url}/_sandbox/counters", timeout=30).json()
    return sum(n for name, n in counters["calls"].items() if "/api/v1/" in name), counters["rate_limited"]


def step_seconds(instance: dg.DagsterInstance, run_id: str, step: str) -> float:
    stats = next(s for s in instance.get_run_step_stats(run_id) if s.step_key == step)
    return stats.end_time - stats.start_time


@dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run())
def no_op_daily_asset() -> dg.MaterializeResult:
    """Does nothing: what Dagster itself costs to materialize a range of daily partitions in one run."""
    return dg.MaterializeResult(metadata={"rows": 0})


def dagster_floor(instance: dg.DagsterInstance, first: str, last: str) -> float:
    """Seconds of a no-op step over the same partitions, on the same instance."""
    result = dg.materialize([no_op_daily_asset], instance=instance, run_config=QUIET,
                            tags={RANGE[0]: first, RANGE[1]: last})
    return step_seconds(instance, result.run_id, "no_op_daily_asset")


def bare_loop(exact_url: str, token: str, count: int) -> float:
    """Seconds per POST for a bare requests loop sending the same purchase entries the pipeline posted."""
    entries = requests.get(f"{exact_url}/_sandbox/entries", params={"kind": "purchase"}, timeout=120).json()["purchase"]
    payloads = [{"Journal": e["Journal"], "Supplier": e["Supplier"], "EntryDate": e["EntryDate"][:10],
                 "DueDate": (e.get("DueDate") or e["EntryDate"])[:10], "YourRef": e["YourRef"],
                 "Description": e["Description"],
                 "PurchaseEntryLines": [{k: line[k] for k in ("GLAccount", "AmountFC", "CostCenter", "Description")
                                         if line.get(k) is not None} for line in e["Lines"]]}
                for e in entries if (e.get("Description") or "").startswith("BILL ")][:count]
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "Prefer": "return=representation"}
    url = f"{exact_url}/api/v1/{ExactSandboxSettings().division}/purchaseentry/PurchaseEntries"
    started = time.perf_counter()
    for payload in payloads:
        response = session.post(url, json=payload, headers=headers, timeout=60)
        response.raise_for_status()
    return (time.perf_counter() - started) / max(len(payloads), 1)


def run(bills: int, days: int, skip_bare: bool, storage_kind: str = "sqlite", real_limits: bool = False) -> None:
    limits = EXACT_LIMITS if real_limits else LIFTED
    process, exact_url, bill_url = start_sandboxes(bills, days, limits)
    try:
        with (tempfile.TemporaryDirectory() as home, storage(storage_kind, Path(home)) as (state_url, yaml, env),
              environment(environment_for(exact_url, bill_url, state_url, limits) | env | {"DAGSTER_HOME": home})):
            from exact_bill_pipeline.config import exact_client

            api = exact_client().api()
            consent = requests.get(api.auth.authorize_url("b"), allow_redirects=False, timeout=30)
            api.auth.exchange(consent.headers["Location"])
            shutil.copyfile(yaml, Path(home, "dagster.yaml"))
            instance = dg.DagsterInstance.from_config(home)
            defs = build_definitions()
            defs.resolve_job_def("reference_sync").execute_in_process(instance=instance, run_config=QUIET)
            anchor = datetime.now(tz=UTC).date()
            first, last = (anchor - timedelta(days=days)).isoformat(), (anchor - timedelta(days=1)).isoformat()
            calls_before, refused_before = exact_calls(exact_url)
            started = time.perf_counter()
            result = defs.resolve_job_def("payables_sync").execute_in_process(
                instance=instance, run_config=QUIET, tags={RANGE[0]: first, RANGE[1]: last})
            elapsed = time.perf_counter() - started
            # Read before anything else: the peak of the pipeline's own run, not of this report.
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            posting = step_seconds(instance, result.run_id, "exact_purchase_entries")
            ledger = PostingLedger(StateStore())
            posted_bills = ledger.count(kind="bill", state="posted")
            posted_payments = ledger.count(kind="payment", state="posted")
            # Vendor credits (credit notes) and the credits applied in payments are documents of their own.
            posted_credits = ledger.count(kind="vendor_credit", state="posted")
            posted_applied = ledger.count(kind="credit_application", state="posted")
            documents = posted_bills + posted_payments + posted_credits + posted_applied
            calls_after, refused_after = exact_calls(exact_url)
            calls, refused = calls_after - calls_before, refused_after - refused_before
            print(f"bills seeded {bills} over {days} days, posted {posted_bills}; payments posted {posted_payments}; "
                  f"credit notes {posted_credits}, credits applied {posted_applied}; "
                  f"payables run {elapsed:.1f} s; storage {storage_kind}; Exact limits {limits[0]}/min {limits[1]}/day")
            print(f"  Exact calls per posted document: {calls / max(documents, 1):.3f} "
                  f"({calls} calls, {refused} answered 429)")
            if real_limits:
                per_minute = calls / (elapsed / 60)
                print(f"  {per_minute:.1f} Exact calls a minute over the run: {per_minute / limits[0]:.0%} of "
                      f"Exact's minutely limit; {calls / limits[1]:.0%} of a day's {limits[1]} calls")
            per_bill = posting / max(posted_bills, 1)
            print(f"  posting step: {posting:.1f} s, {per_bill * 1000:.2f} ms per posted bill")
            floor = dagster_floor(instance, first, last)
            print(f"  of which Dagster's own bookkeeping (a no-op step over the same {days} partitions): "
                  f"{floor:.1f} s; the rest: {(posting - floor) / max(posted_bills, 1) * 1000:.2f} ms per posted bill")
            if not (skip_bare or real_limits):
                bare = bare_loop(exact_url, api.auth.access_token(), posted_bills)
                print(f"  bare requests loop: {bare * 1000:.2f} ms per POST; pipeline / bare = {per_bill / bare:.2f}"
                      f" (without Dagster's bookkeeping: {(posting - floor) / max(posted_bills, 1) / bare:.2f})")
            print(f"  peak RSS of the pipeline process: {peak_mb:.0f} MB")
    finally:
        stop_process(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bills", type=int, action="append", help="bills to seed (repeatable)")
    parser.add_argument("--days", type=int, default=180, help="days of history the bills spread over")
    parser.add_argument("--skip-bare", action="store_true", help="skip the bare requests comparison")
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="sqlite",
                        help="where the connector's state and Dagster's runs and events are kept")
    parser.add_argument("--real-limits", action="store_true",
                        help="keep Exact's own limits (60 a minute, 5,000 a day) in the sandbox and the pipeline")
    args = parser.parse_args()
    for bills in args.bills or [1000]:
        run(bills, args.days, args.skip_bare, args.storage, args.real_limits)


if __name__ == "__main__":
    main()
