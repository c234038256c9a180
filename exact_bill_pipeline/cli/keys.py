"""`exact-bill keys`: create a vault key, and re-encrypt every stored credential under a new one."""

from __future__ import annotations

import click

from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import VAULT_KEY_ENV, Vault, generate_key


@click.group()
def keys() -> None:
    """The vault key that encrypts stored credentials."""


@keys.command()
def generate() -> None:
    """Print a new random key for EXACT_BILL_VAULT_KEY."""
    click.echo(generate_key())


@keys.command()
def rotate() -> None:
    """Re-encrypt every credential under the first key of EXACT_BILL_VAULT_KEY.

    Put the new key first and the old ones after it ('new,old'), run this, then drop the old keys.
    """
    count = Vault(StateStore()).rotate()
    click.echo(f"Re-encrypted {count} credential(s) under the first key in {VAULT_KEY_ENV}. "
               f"You can now remove the old key(s) from {VAULT_KEY_ENV}.")
