"""`exact-bill backfill`: post the bills and payments of a range of days, as one Dagster run."""

from __future__ import annotations

from datetime import date

import click
import dagster as dg

from exact_bill_pipeline.defs.dead_runs import free_dead_runs
from exact_bill_pipeline.demo import QUIET, RANGE_END, RANGE_START
from exact_bill_pipeline.state.db import StateStore


@click.command()
@click.argument("first", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("last", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--with-reference", is_flag=True, help="Run the reference sync first (GL accounts, mapping, vendors).")
def backfill(first: object, last: object, with_reference: bool) -> None:
    """Sync the days FIRST to LAST (YYYY-MM-DD, inclusive) on the Dagster instance in $DAGSTER_HOME.

    The same as selecting that range of partitions of payables_sync in the UI; what is posted already is
    never posted again, so a range may be run as often as needed.
    """
    start, end = first.date(), last.date()  # type: ignore[attr-defined]
    if end < start:
        raise click.UsageError("LAST is before FIRST")
    from exact_bill_pipeline.definitions import build_definitions

    defs = build_definitions()  # from the environment as it is now
    instance = dg.DagsterInstance.get()
    # Without the daemon nobody else notices a posting run that died holding the pool: this run would wait for
    # its slot forever.
    for dead in free_dead_runs(instance, StateStore(), actor="cli:backfill"):
        click.echo(dead.explain())
    if with_reference:
        click.echo("Reference sync ...")
        defs.resolve_job_def("reference_sync").execute_in_process(instance=instance, run_config=QUIET)
    click.echo(f"Bills and payments from {start} to {end} ...")
    result = defs.resolve_job_def("payables_sync").execute_in_process(
        instance=instance, run_config=QUIET, raise_on_error=False,
        tags={RANGE_START: _iso(start), RANGE_END: _iso(end)})
    for step in ("exact_purchase_entries", "exact_payment_entries"):
        for event in result.asset_materializations_for_node(step)[:1]:
            # A range run's own figures carry a run_ prefix; each day has its own materialization after it.
            figures = {k.removeprefix("run_"): v.value for k, v in event.metadata.items()}
            shown = {k: figures[k] for k in ("posted", "already_posted", "queued") if k in figures}
            click.echo(f"  {step}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items()))
    if not result.success:
        raise click.ClickException(f"the run failed (run {result.run_id}); see it in the Dagster UI")
    click.echo(f"Done (run {result.run_id}).")


def _iso(day: date) -> str:
    return day.isoformat()
