"""The `exact-bill` command line: one group, with a module per sub-command family."""

from __future__ import annotations

import warnings

import click
import dagster as dg

from exact_bill_pipeline.cli.auth import auth
from exact_bill_pipeline.cli.backfill import backfill
from exact_bill_pipeline.cli.demo import demo
from exact_bill_pipeline.cli.failures import failures
from exact_bill_pipeline.cli.keys import keys
from exact_bill_pipeline.cli.ledger import ledger
from exact_bill_pipeline.cli.mapping import mapping
from exact_bill_pipeline.cli.reconcile import reconcile
from exact_bill_pipeline.cli.sandbox import sandbox
from exact_bill_pipeline.cli.state import state
from exact_bill_pipeline.cli.webhooks import webhooks
from exact_bill_pipeline.redaction import install_log_redaction
from exact_bill_pipeline.services.exactly_once import PostingStopped
from exact_bill_pipeline.state.claims import ClaimLost
from exact_bill_pipeline.state.db import StateStoreError
from exact_bill_pipeline.state.failures import NotReleasable, UnknownFailure
from exact_bill_pipeline.state.ledger import AlreadyPosted
from exact_bill_pipeline.state.vault import VaultError
from exact_bill_pipeline.transport.errors import ApiError, BudgetExhausted

USER_ERRORS: tuple[type[Exception], ...] = (VaultError, StateStoreError, ApiError, BudgetExhausted, UnknownFailure,
                                            NotReleasable, PostingStopped, ClaimLost, AlreadyPosted)


# Dagster flags beta parameters (backfill policies, pools) on every load; they are chosen deliberately.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


class FriendlyGroup(click.Group):
    """Shows the connector's own errors as one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Keep Exact Online (general ledger) and BILL (accounts payable) in sync."""
    install_log_redaction()


for command in (demo, sandbox, auth, backfill, failures, ledger, reconcile, mapping, webhooks, keys, state):
    main.add_command(command)
