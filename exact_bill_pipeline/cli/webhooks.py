"""`exact-bill webhooks`: run the receiver, and register, list or remove the subscriptions that feed it."""

from __future__ import annotations

import click
import uvicorn

from exact_bill_pipeline.cli.context import Operator
from exact_bill_pipeline.config import EXACT_SETTINGS, EXACT_WEBHOOK_SECRET, value
from exact_bill_pipeline.receiver.app import ReceiverSettings, create_receiver_app
from exact_bill_pipeline.redaction import install_log_redaction
from exact_bill_pipeline.services import subscriptions
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.vault import Vault
from exact_bill_pipeline.state.webhook_keys import WebhookKeys

PREFIX = click.option("--prefix", default="/webhooks", show_default=True, help="Path prefix of the endpoints.")


@click.group()
def webhooks() -> None:
    """Real-time sync: the receiver for Exact's and BILL's change notifications."""


@webhooks.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8710, show_default=True, type=int)
@PREFIX
@click.option("--max-body-bytes", default=256 * 1024, show_default=True, type=int)
@click.option("--forwarded-allow-ips", default=None, metavar="ADDRESSES",
              help="Reverse proxies whose X-Forwarded-For names the real sender (comma-separated addresses or "
                   "networks, or * for any). Default: $FORWARDED_ALLOW_IPS, else 127.0.0.1 and ::1.")
def serve(host: str, port: int, prefix: str, max_body_bytes: int, forwarded_allow_ips: str | None) -> None:
    """Run the receiver: POST {prefix}/exact, POST {prefix}/bill, GET {prefix}/health.

    Put it behind HTTPS (both services deliver only to https URLs). It verifies every signature, stores the
    event in the inbox and answers at once; the inbox sensor starts the runs.
    """
    app = build_app(prefix, max_body_bytes)
    click.echo(f"Receiver on http://{host}:{port}{prefix}/exact and {prefix}/bill (health: {prefix}/health)")
    # h11 caps header sizes (16 KB) and, on plain asyncio, answers to pipelined requests of a sender that
    # hung up are dropped quietly; httptools with uvloop logs a traceback for each (seen by fuzzing).
    # Sender limits count per client address: behind a proxy that must be the address the proxy forwards.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, http="h11",
                            loop="asyncio", timeout_keep_alive=15, proxy_headers=True,
                            forwarded_allow_ips=forwarded_allow_ips)
    install_log_redaction()  # again: uvicorn's Config has just made its own log handlers
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise click.ClickException(f"the receiver could not start on {host}:{port} (the reason is logged above)")


def build_app(prefix: str, max_body_bytes: int = 256 * 1024):  # noqa: ANN201 - a Starlette app
    operator = Operator()
    settings = ReceiverSettings(exact_webhook_secret=value(EXACT_WEBHOOK_SECRET),
                                exact_division=int(value(EXACT_SETTINGS["division"])), prefix=prefix,
                                max_body_bytes=max_body_bytes)
    return create_receiver_app(settings, Inbox(operator.store), WebhookKeys(Vault(operator.store)))


@webhooks.command()
@click.option("--public-url", required=True, help="The receiver's public base URL, e.g. https://hooks.example.com")
@PREFIX
def register(public_url: str, prefix: str) -> None:
    """Create the subscriptions both systems need; what exists already is kept (safe to run again)."""
    operator = Operator()
    report = subscriptions.register(operator.exact, operator.bill, WebhookKeys(Vault(operator.store)),
                                    public_url=public_url, prefix=prefix)
    for line in report.created:
        click.echo(f"created  {line}")
    for line in report.kept:
        click.echo(f"exists   {line}")


@webhooks.command("list")
def list_subscriptions() -> None:
    """Show the subscriptions in Exact and in BILL."""
    operator = Operator()
    for subscription in operator.exact.webhook_subscriptions():
        click.echo(f"Exact  {subscription.topic:20} {subscription.callback_url}  ({subscription.id})")
    ours = WebhookKeys(Vault(operator.store)).subscriptions()
    for subscription in operator.bill.subscriptions():
        mark = "" if subscription.id in ours else "  (not registered by this pipeline)"
        enabled = "enabled" if subscription.status.get("enabled", True) else "DISABLED"
        click.echo(f"BILL   {len(subscription.events):2} events, {enabled:8} {subscription.notification_url}"
                   f"  ({subscription.id}){mark}")


@webhooks.command()
@click.option("--public-url", required=True, help="The receiver's public base URL used at registration.")
@PREFIX
def remove(public_url: str, prefix: str) -> None:
    """Delete the subscriptions that point at this receiver."""
    operator = Operator()
    removed = subscriptions.remove(operator.exact, operator.bill, WebhookKeys(Vault(operator.store)),
                                   public_url=public_url, prefix=prefix)
    for line in removed:
        click.echo(f"removed  {line}")
    if not removed:
        click.echo("No subscription points at that receiver.")


@webhooks.command("rotate-bill-key")
@click.option("--overlap-seconds", default=600, show_default=True, type=float,
              help="How long the old key stays valid, for deliveries already under way.")
def rotate_bill_key(overlap_seconds: float) -> None:
    """Give our BILL subscriptions new security keys."""
    operator = Operator()
    rotated = subscriptions.rotate_bill_keys(operator.bill, WebhookKeys(Vault(operator.store)),
                                             overlap_seconds=overlap_seconds)
    click.echo(f"Rotated {len(rotated)} subscription key(s); old keys stay valid for {overlap_seconds:.0f} s.")
