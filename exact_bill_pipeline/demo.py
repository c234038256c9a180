"""The demo: both sandboxes, a local Dagster instance on SQLite, the whole sync, and a summary."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from exact_bill_pipeline.config import BILL_SETTINGS, EXACT_SETTINGS, PARTITIONS_START_ENV
from exact_bill_pipeline.defs.dead_runs import free_dead_runs
from exact_bill_pipeline.sandbox.server import RunningSandboxes, SandboxServers
from exact_bill_pipeline.sandbox.settings import SandboxSettings
from exact_bill_pipeline.state import reconciliations
from exact_bill_pipeline.state.db import HOME_ENV, STATE_URL_ENV, StateStore
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import PostingLedger
from exact_bill_pipeline.state.mappings import vendor_match_rows
from exact_bill_pipeline.state.vault import VAULT_KEY_ENV, generate_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@dataclass
class DemoSummary:
    """What this demo run did (posted, created), and where things stand (queued, matched, totals)."""

    bills_posted: int = 0
    bills_posted_total: int = 0
    bills_queued: int = 0
    queued_by_reason: dict[str, int] = field(default_factory=dict)
    payments_posted: int = 0
    payments_posted_total: int = 0
    payments_queued: int = 0
    credit_notes_posted: int = 0  # BILL vendor credits, as Exact purchase credit notes
    credits_applied: int = 0  # credits applied in payments, each settled by a general journal entry of its own
    suppliers_created: int = 0
    suppliers_matched: int = 0
    # The reconciliation against Exact that ends the run: documents matched, findings by kind, its calls.
    documents_reconciled: int = 0
    expected_in_exact: int = 0
    reconciliation: dict[str, int] = field(default_factory=dict)
    reconciliation_calls: int = 0
    exact_calls: int = 0
    bill_calls: int = 0
    dagster_home: str = ""
    state_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare_home(home: Path) -> dict[str, str]:
    """The demo's own directory: a Dagster instance, the state database and a vault key (demo only)."""
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml") if (
            PROJECT_ROOT / "dagster.yaml").exists() else (dagster_home / "dagster.yaml").write_text(
            "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    key_file = home / "vault.key"
    if not key_file.exists():
        # A key on disk next to the data is only acceptable for the demo; real deployments use the env.
        key_file.write_text(generate_key())
        key_file.chmod(0o600)
    return {"DAGSTER_HOME": str(dagster_home), HOME_ENV: str(home),
            STATE_URL_ENV: f"sqlite:///{home / 'state.sqlite'}", VAULT_KEY_ENV: key_file.read_text().strip()}


def sandbox_environment(running: RunningSandboxes) -> dict[str, str]:
    """The settings that point the pipeline at the running sandboxes."""
    exact, bill = running.settings.exact, running.settings.bill
    values = {"base_url": running.exact_url, "client_id": exact.client_id, "client_secret": exact.client_secret,
              "redirect_uri": exact.redirect_uri, "division": str(exact.division),
              "daily_call_limit": str(exact.daily_limit), "minutely_call_limit": str(exact.minutely_limit)}
    env = {EXACT_SETTINGS[name].env: value for name, value in values.items()}
    bill_values = {"api_url": running.bill_api_url, "events_url": running.bill_events_url,
                   "username": bill.username, "password": bill.password,
                   "organization_id": bill.organization_id, "dev_key": bill.dev_key}
    env |= {BILL_SETTINGS[name].env: value for name, value in bill_values.items()}
    return env


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def consent_in_sandbox() -> None:
    """The sandbox consents by itself: follow the consent URL once, as a browser would."""
    from exact_bill_pipeline.config import exact_client

    api = exact_client().api()
    response = requests.get(api.auth.authorize_url("demo"), allow_redirects=False, timeout=30)
    response.raise_for_status()
    api.auth.exchange(response.headers["Location"])


def run_pipeline(running: RunningSandboxes, instance: dg.DagsterInstance, say: Callable[[str], None]) -> None:
    """The reference sync, one payables run over the whole seeded history, then the reconciliation with Exact."""
    from exact_bill_pipeline.definitions import build_definitions

    defs = build_definitions()
    say("Reference sync: GL accounts, cost centers, mapping to BILL, vendors to Exact suppliers ...")
    result = defs.resolve_job_def("reference_sync").execute_in_process(instance=instance, run_config=QUIET)
    say(f"  done (run {result.run_id[:8]}).")
    settings = running.settings
    first = (settings.anchor - timedelta(days=settings.history_days)).isoformat()
    last = (settings.anchor - timedelta(days=1)).isoformat()
    say(f"Payables sync: bills and payments from {first} to {last}, in one run ...")
    result = defs.resolve_job_def("payables_sync").execute_in_process(
        instance=instance, run_config=QUIET, tags={RANGE_START: first, RANGE_END: last})
    say(f"  done (run {result.run_id[:8]}).")
    say("Reconciliation: what Exact holds, matched with BILL per document, day and vendor ...")
    result = defs.resolve_job_def("reconciliation").execute_in_process(instance=instance, run_config=QUIET)
    say(f"  done (run {result.run_id[:8]}).")


def posted_counts(store: StateStore) -> Counter[str]:
    """How many documents of each kind (bills, payments, credit notes, credits applied, created suppliers) the ledger
    holds as posted."""
    return Counter(entry.source_kind for entry in PostingLedger(store).entries(state="posted"))


def summarize(store: StateStore, running: RunningSandboxes, env: dict[str, str], before: Counter[str]) -> DemoSummary:
    queue = FailureQueue(store)
    after = posted_counts(store)
    with store.transaction() as conn:
        vendors = vendor_match_rows(conn)
        reconciled = reconciliations.latest(conn)
    open_bills = queue.items(status="open", kind="bill")
    counters = {system: requests.get(f"{url}/_sandbox/counters", timeout=10).json()
                for system, url in (("exact", running.exact_url), ("bill", running.bill_url))}
    return DemoSummary(
        bills_posted=after["bill"] - before["bill"], bills_posted_total=after["bill"],
        bills_queued=len(open_bills),
        queued_by_reason=dict(Counter(item.reason_code for item in open_bills)),
        payments_posted=after["payment"] - before["payment"], payments_posted_total=after["payment"],
        payments_queued=len(queue.items(status="open", kind="payment")),
        credit_notes_posted=after["vendor_credit"] - before["vendor_credit"],
        credits_applied=after["credit_application"] - before["credit_application"],
        suppliers_created=after["vendor"] - before["vendor"],
        suppliers_matched=sum(1 for v in vendors.values() if v["outcome"] == "matched"),
        documents_reconciled=reconciled.documents if reconciled else 0,
        expected_in_exact=reconciled.expected if reconciled else 0,
        reconciliation=reconciled.counts if reconciled else {},
        reconciliation_calls=reconciled.exact_calls if reconciled else 0,
        exact_calls=sum(n for name, n in counters["exact"]["calls"].items() if "/api/v1/" in name),
        bill_calls=counters["bill"]["total"],
        dagster_home=env["DAGSTER_HOME"], state_url=env[STATE_URL_ENV],
    )


def run_demo(home: Path, settings: SandboxSettings, say: Callable[[str], None], *, exact_port: int = 0,
             bill_port: int = 0, keep: Callable[[RunningSandboxes, dict[str, str], DemoSummary], None] | None = None,
             extra_env: dict[str, str] | None = None) -> DemoSummary:
    """Runs everything; ``keep`` (--ui, --live) is called with the sandboxes still running."""
    first_day = (settings.anchor - timedelta(days=settings.history_days)).isoformat()
    # The partitions begin with the demo firm's history: the UI shows its 180 days, not hundreds of empty ones.
    env = prepare_home(home) | {PARTITIONS_START_ENV: first_day} | (extra_env or {})
    with SandboxServers(settings, exact_port=exact_port, bill_port=bill_port) as running:
        env |= sandbox_environment(running)
        with environment(env):
            say(f"Sandboxes: Exact Online at {running.exact_url}, BILL at {running.bill_api_url}")
            say(f"Dagster instance (SQLite): {env['DAGSTER_HOME']}")
            say(f"State database: {env[STATE_URL_ENV]}")
            consent_in_sandbox()
            say("Exact Online: consent given in the sandbox, tokens stored encrypted.")
            instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
            store = StateStore()
            for dead in free_dead_runs(instance, store, actor="demo"):
                say(dead.explain())
            before = posted_counts(store)
            run_pipeline(running, instance, say)
            summary = summarize(store, running, env, before)
            if keep is not None:
                keep(running, env, summary)
            return summary
