"""`exact-bill state`: the connector's own database."""

from __future__ import annotations

import click

from exact_bill_pipeline.state.db import StateStore


@click.group()
def state() -> None:
    """The state database (EXACT_BILL_STATE_URL; a SQLite file by default)."""


@state.command()
def migrate() -> None:
    """Bring the state database's schema to the newest version (also done at every start)."""
    store = StateStore(migrate=False)
    revision = store.migrate()
    click.echo(f"State database {store.safe_url} is at schema revision {revision}.")
