"""`exact-bill reconcile`: what Exact holds against BILL, as the latest reconciliation found it (or a new one)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from exact_bill_pipeline.cli.context import Operator
from exact_bill_pipeline.domain.reconciliation import DOCUMENT_FINDINGS, TOTAL_FINDINGS, Finding
from exact_bill_pipeline.services.reconciliation import reconcile_with_exact
from exact_bill_pipeline.state import reconciliations
from exact_bill_pipeline.state.reconciliations import ReconciliationRun

KINDS = (*DOCUMENT_FINDINGS, *TOTAL_FINDINGS)


@click.command()
@click.option("--run", "run_now", is_flag=True,
              help="Reconcile now first: read what changed in Exact since the last time and match it with BILL.")
@click.option("--kind", "kinds", type=click.Choice(KINDS), multiple=True,
              help="Only findings of this kind (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finding, one per line.")
def reconcile(run_now: bool, kinds: tuple[str, ...], as_json: bool) -> None:
    """What Exact holds against BILL: missing, extra, duplicated, different and deleted, and the totals."""
    operator = Operator()
    if run_now:
        report = reconcile_with_exact(operator.exact, operator.store, operator.accounting.reconciliation())
        if not as_json:
            click.echo(f"Read {report.read.lines_read} line(s) and {report.read.deletions_read} deletion(s) from "
                       f"Exact in {report.exact_calls} call(s){' (a full read)' if report.read.full_read else ''}.")
    with operator.store.transaction() as conn:
        run = reconciliations.latest(conn)
        if run is None:
            raise click.ClickException("Exact has not been reconciled yet: run `exact-bill reconcile --run`, or "
                                       "materialize exact_reconciliation in Dagster.")
        found = reconciliations.findings(conn, run.id, kinds or None)
    if as_json:
        for finding in found:
            click.echo(json.dumps(asdict(finding), default=str))
        return
    click.echo(describe_run(run))
    click.echo(findings_table(found) if found else "Nothing to report: Exact holds what BILL says, once each.")


def describe_run(run: ReconciliationRun) -> str:
    counts = ", ".join(f"{kind.replace('_', ' ')} {run.counts.get(kind, 0)}" for kind in KINDS)
    return (f"Reconciled {run.finished_at:%Y-%m-%d %H:%M:%S} UTC: {run.documents} BILL document(s), "
            f"{run.expected} expected in Exact, {run.entries_in_scope} Exact entries in scope, "
            f"{run.exact_calls} Exact call(s).\n{counts}")


def findings_table(found: list[Finding]) -> str:
    lines = [f"{'kind':13} {'document':22} {'vendor':28} {'invoice':16} {'day':10} {'in BILL':>12} "
             f"{'in Exact':>12}  {'entries':18} what"]
    for finding in found:
        row = finding.row()
        lines.append(f"{row['kind']:13} {row['document'][:22]:22} {row['vendor'][:28]:28} {row['invoice'][:16]:16} "
                     f"{row['day']:10} {row['in BILL']:>12} {row['in Exact']:>12}  {row['entries'][:18]:18} "
                     f"{row['what']}")
    lines.append(f"{len(found)} finding(s). README.md, 'Reconciling with Exact at month-end', says what to do about "
                 f"each kind.")
    return "\n".join(lines)
