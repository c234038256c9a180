"""The `exact-bill` command line: one group, with a module per sub-command family."""

from __future__ import annotations

import click

from exact_bill_pipeline.cli.demo import demo
from exact_bill_pipeline.cli.sandbox import sandbox


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Keep Exact Online (general ledger) and BILL (accounts payable) in sync."""


for command in (demo, sandbox):
    main.add_command(command)
