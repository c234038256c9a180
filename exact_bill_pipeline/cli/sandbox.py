"""`exact-bill sandbox serve`: runs the Exact Online and BILL sandboxes until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from datetime import date, datetime
from types import FrameType

import click

from exact_bill_pipeline.sandbox.server import RunningSandboxes, SandboxServers
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, ExactSandboxSettings, SandboxSettings

_exact = ExactSandboxSettings()
_bill = BillSandboxSettings()


@click.group()
def sandbox() -> None:
    """Local stand-ins for Exact Online and BILL, to try the connector without credentials."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--exact-port", default=8701, show_default=True, type=int, help="Port of the Exact Online sandbox.")
@click.option("--bill-port", default=8702, show_default=True, type=int, help="Port of the BILL sandbox.")
@click.option("--exact-client-id", default=_exact.client_id, show_default=True)
@click.option("--exact-client-secret", default=_exact.client_secret, show_default=True)
@click.option("--exact-redirect-uri", default=_exact.redirect_uri, show_default=True)
@click.option("--exact-webhook-secret", default=_exact.webhook_secret, show_default=True)
@click.option("--exact-division", default=_exact.division, show_default=True, type=int)
@click.option("--exact-minutely-limit", default=_exact.minutely_limit, show_default=True, type=int)
@click.option("--exact-daily-limit", default=_exact.daily_limit, show_default=True, type=int)
@click.option("--bill-username", default=_bill.username, show_default=True)
@click.option("--bill-password", default=_bill.password, show_default=True)
@click.option("--bill-organization-id", default=_bill.organization_id, show_default=True)
@click.option("--bill-dev-key", default=_bill.dev_key, show_default=True)
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the generated firm.")
@click.option("--bills", default=600, show_default=True, type=click.IntRange(0), help="Number of seeded bills.")
@click.option("--anchor", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the seeded history (default: today).")
@click.option("--history-days", default=180, show_default=True, type=click.IntRange(1),
              help="Days of history the seeded bills spread over.")
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0),
              help="Extra time every API request stays in flight.")
@click.option("--exact-currency", default=_exact.currency, show_default=True,
              help="Base currency of the Exact division.")
@click.option("--ap-documents/--no-ap-documents", default=True, show_default=True,
              help="Seed the awkward AP documents: vendor credits, part payments, a vendor billing in EUR, VAT, "
                   "a duplicated invoice number, a bill in a closed period (docs/ap-documents.md).")
@click.option("--unique-your-ref/--no-unique-your-ref", default=False, show_default=True,
              help="Exact refuses a second purchase entry with the same supplier and your reference.")
def serve(
    host: str, exact_port: int, bill_port: int, exact_client_id: str, exact_client_secret: str,
    exact_redirect_uri: str, exact_webhook_secret: str, exact_division: int, exact_minutely_limit: int,
    exact_daily_limit: int, bill_username: str, bill_password: str, bill_organization_id: str, bill_dev_key: str,
    seed: int, bills: int, anchor: datetime | None, history_days: int, latency_ms: int, exact_currency: str,
    ap_documents: bool, unique_your_ref: bool,
) -> None:
    """Run both sandboxes in this process, state in memory, until Ctrl-C."""
    settings = SandboxSettings(
        exact=ExactSandboxSettings(
            client_id=exact_client_id, client_secret=exact_client_secret, redirect_uri=exact_redirect_uri,
            webhook_secret=exact_webhook_secret, division=exact_division, minutely_limit=exact_minutely_limit,
            daily_limit=exact_daily_limit, currency=exact_currency, unique_your_ref=unique_your_ref,
        ),
        bill=BillSandboxSettings(
            username=bill_username, password=bill_password, organization_id=bill_organization_id,
            dev_key=bill_dev_key,
        ),
        seed=seed, bills=bills, latency_ms=latency_ms, history_days=history_days, ap_documents=ap_documents,
        **({"anchor": anchor.date()} if anchor else {}),
    )
    with SandboxServers(settings, host, exact_port, bill_port) as running:
        click.echo(describe(running))
        click.echo("Press Ctrl-C to stop.")
        wait_for_interrupt()
    click.echo("Sandboxes stopped.")


def describe(running: RunningSandboxes) -> str:
    """What a user needs to point a client at the sandboxes (sandbox credentials only, never real ones)."""
    exact, bill = running.settings.exact, running.settings.bill
    anchor: date = running.settings.anchor
    return "\n".join([
        f"Exact Online sandbox  {running.exact_url}   (API {running.exact_url}/api/v1/{exact.division}/...)",
        f"  client id       {exact.client_id}",
        f"  client secret   {exact.client_secret}",
        f"  redirect URI    {exact.redirect_uri}",
        f"  webhook secret  {exact.webhook_secret}",
        f"  division        {exact.division}",
        f"BILL sandbox          {running.bill_api_url}   (webhooks {running.bill_events_url})",
        f"  username        {bill.username}",
        f"  password        {bill.password}",
        f"  organization    {bill.organization_id}",
        f"  developer key   {bill.dev_key}",
        f"Seeded firm: {running.settings.bills} bills up to {anchor.isoformat()} (seed {running.settings.seed}).",
        f"Control surfaces: {running.exact_url}/_sandbox/...  and  {running.bill_url}/_sandbox/...",
    ])


def wait_for_interrupt() -> None:
    """Blocks until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    # Both handled here: a process started in the background by a shell inherits SIGINT ignored, and Ctrl-C must
    # still stop it.
    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
