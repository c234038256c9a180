"""`exact-bill demo`: starts the sandboxes and walks through what they serve."""

from __future__ import annotations

import click

from exact_bill_pipeline.cli.sandbox import describe, wait_for_interrupt
from exact_bill_pipeline.sandbox.server import SandboxServers
from exact_bill_pipeline.sandbox.settings import SandboxSettings
from exact_bill_pipeline.sandbox.tour import run_tour


@click.command()
@click.option("--keep-running", is_flag=True, help="Keep the sandboxes running after the tour, until Ctrl-C.")
@click.option("--exact-port", default=0, type=int, help="Port of the Exact Online sandbox (default: any free one).")
@click.option("--bill-port", default=0, type=int, help="Port of the BILL sandbox (default: any free one).")
def demo(keep_running: bool, exact_port: int, bill_port: int) -> None:
    """Run the demo on embedded defaults: no credentials, nothing to configure."""
    with SandboxServers(SandboxSettings(), exact_port=exact_port, bill_port=bill_port) as running:
        click.echo(describe(running))
        click.echo("")
        for line in run_tour(running):
            click.echo(line)
        if keep_running:
            click.echo("Sandboxes keep running; press Ctrl-C to stop.")
            wait_for_interrupt()
