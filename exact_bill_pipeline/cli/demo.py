"""`exact-bill demo`: the sandboxes, the whole pipeline on a local Dagster instance, and a summary."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import requests

from exact_bill_pipeline.cli.sandbox import wait_for_interrupt
from exact_bill_pipeline.demo import PROJECT_ROOT, DemoSummary, run_demo
from exact_bill_pipeline.domain.reconciliation import DOCUMENT_FINDINGS, TOTAL_FINDINGS
from exact_bill_pipeline.live import LIVE_ENVIRONMENT, live_stack
from exact_bill_pipeline.processes import stop_process_tree
from exact_bill_pipeline.sandbox.server import RunningSandboxes
from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.db import StateStore, default_home
from exact_bill_pipeline.state.failures import FailureQueue


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print only the summary, as one JSON object.")
@click.option("--ui", is_flag=True, help="Afterwards, keep the sandboxes and `dagster dev` running until Ctrl-C.")
@click.option("--live", is_flag=True, help="Afterwards, show real time: webhooks, the receiver and the daemon.")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its Dagster instance and state (default: $EXACT_BILL_HOME/demo).")
@click.option("--bills", default=600, show_default=True, type=click.IntRange(0), help="Seeded bills in BILL.")
@click.option("--history-days", default=180, show_default=True, type=click.IntRange(1), help="Days of seeded history.")
@click.option("--exact-port", default=0, type=int, help="Port of the Exact Online sandbox (default: any free one).")
@click.option("--bill-port", default=0, type=int, help="Port of the BILL sandbox (default: any free one).")
@click.option("--ui-port", default=3000, show_default=True, type=int, help="Port of the Dagster UI with --ui.")
def demo(as_json: bool, ui: bool, live: bool, home: Path | None, bills: int, history_days: int,
         exact_port: int, bill_port: int, ui_port: int) -> None:
    """Run the whole demo on embedded defaults: no credentials, nothing to configure."""
    home = (home or default_home() / "demo").resolve()

    def say(line: str) -> None:
        if not as_json:
            click.echo(line)

    def report(summary: DemoSummary) -> None:
        click.echo(json.dumps(summary.as_dict(), sort_keys=True) if as_json else describe(summary))

    def keep_ui(running: RunningSandboxes, env: dict[str, str], summary: DemoSummary) -> None:
        report(summary)
        say(f"Starting the Dagster UI on http://127.0.0.1:{ui_port} (Ctrl-C stops everything) ...")
        # In a session of its own: Ctrl-C reaches only this process, which then stops the whole tree in seconds.
        process = subprocess.Popen(  # noqa: S603 - our own dagster, our own workspace
            [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-p", str(ui_port)],
            env={**os.environ, **env}, cwd=PROJECT_ROOT, start_new_session=True)
        try:
            wait_for_interrupt()
        finally:
            say("Stopping the Dagster UI, its daemon and code servers ...")
            stop_process_tree(process, grace=3.0)

    def keep_live(running: RunningSandboxes, env: dict[str, str], summary: DemoSummary) -> None:
        report(summary)
        show_real_time(running, env, home, say)
        if ui:
            keep_ui(running, env, summary)

    keep = keep_live if live else keep_ui if ui else None
    summary = run_demo(home, demo_settings(bills, history_days), say, exact_port=exact_port, bill_port=bill_port,
                       keep=keep, extra_env=LIVE_ENVIRONMENT if live else None)
    if keep is None:
        report(summary)


def show_real_time(running: RunningSandboxes, env: dict[str, str], home: Path, say: Callable[[str], None]) -> None:
    """A new bill arrives in Exact by webhook; a GL account added in Exact releases the bills that wait for it."""
    say("")
    say("Real time")
    with live_stack(running, env, home, say) as stack:
        started = time.monotonic()
        bill = stack.create_bill("4640", "LIVE-1001")
        say(f"  Created bill {bill['id']} in BILL; waiting for it in Exact's journal ...")
        entry = stack.wait(lambda: stack.entry_for(bill["id"]))
        say(f"  Posted as Exact purchase entry {entry['EntryNumber']} after {time.monotonic() - started:.1f} s.")
        queue = FailureQueue(StateStore())
        waiting = stack.create_bill("4995", "CONF-2001", amount=880.0)
        stack.wait(lambda: queue.find("bill", waiting["id"]))
        on_4995 = [i for i in queue.items(kind="bill", reason="unmapped_gl_account")
                   if any(t.get("bill_account", "").startswith("4995") for t in (i.tried or []))]
        say(f"  {len(on_4995)} bill(s) wait in the failure queue for GL account 4995, which Exact lacks.")
        started = time.monotonic()
        requests.post(f"{running.exact_url}/_sandbox/gl-accounts", timeout=30,
                      json={"code": "4995", "description": "Conference fees"}).raise_for_status()
        say("  Added GL account 4995 in Exact; waiting for the replay ...")
        stack.wait(lambda: all(stack.entry_for(i.source_id) for i in on_4995), timeout=180)
        say(f"  All {len(on_4995)} posted {time.monotonic() - started:.1f} s later, exactly once.")


def demo_settings(bills: int, history_days: int) -> SandboxSettings:
    """The sandboxes with Exact's rate limits raised, so six months of history posts in seconds, not hours; the firm
    has the awkward AP documents, and Exact refuses a second entry with a supplier's invoice number."""
    exact = dataclasses.replace(ExactSandboxSettings(), minutely_limit=100_000, daily_limit=1_000_000,
                                unique_your_ref=True)
    return SandboxSettings(exact=exact, bills=bills, history_days=history_days, ap_documents=True)


def describe(summary: DemoSummary) -> str:
    reasons = "\n".join(f"    {count:4}  {reason}" for reason, count in sorted(summary.queued_by_reason.items()))
    return "\n".join([
        "",
        "Summary",
        f"  bills posted to Exact        {summary.bills_posted} in this run ({summary.bills_posted_total} in all)",
        f"  bills in the failure queue   {summary.bills_queued}",
        reasons,
        f"  payments posted              {summary.payments_posted} in this run ({summary.payments_posted_total} in all;"
        f" {summary.payments_queued} wait in the failure queue)",
        f"  vendor credits               {summary.credit_notes_posted} posted as credit notes, "
        f"{summary.credits_applied} applied in payments settled against their bills",
        f"  suppliers matched            {summary.suppliers_matched}, created in this run {summary.suppliers_created}",
        f"  reconciled with Exact        {summary.documents_reconciled} BILL documents, {summary.expected_in_exact} "
        f"expected in Exact ({summary.reconciliation_calls} Exact calls)",
        "    " + ", ".join(f"{kind.replace('_', ' ')} {summary.reconciliation.get(kind, 0)}"
                       for kind in (*DOCUMENT_FINDINGS, *TOTAL_FINDINGS)),
        f"  API calls: Exact {summary.exact_calls}, BILL {summary.bill_calls}",
        "",
        "The failure queue:  EXACT_BILL_STATE_URL=" + summary.state_url + " exact-bill failures list",
        "Reconciliation:     EXACT_BILL_STATE_URL=" + summary.state_url + " exact-bill reconcile",
        "Lineage and checks: exact-bill demo --ui",
    ])
