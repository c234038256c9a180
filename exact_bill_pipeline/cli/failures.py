"""`exact-bill failures`: see what waits in the failure queue, why, and replay or ignore it."""

from __future__ import annotations

import json

import click

from exact_bill_pipeline.cli.context import Operator
from exact_bill_pipeline.services import replay
from exact_bill_pipeline.state.failures import FailureQueue


@click.group()
def failures() -> None:
    """Bills and payments that could not be posted, with their reasons and history."""


@failures.command("list")
@click.option("--status", type=click.Choice(["open", "released", "resolved", "ignored", "all"]), default="open",
              show_default=True)
@click.option("--reason", default=None, help="Only this reason code, e.g. unmapped_gl_account.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_items(status: str, reason: str | None, as_json: bool) -> None:
    """List queue items."""
    items = FailureQueue(Operator().store).items(status=None if status == "all" else status, reason=reason)
    if as_json:
        for item in items:
            click.echo(json.dumps(item.summary(), default=str))
        return
    if not items:
        click.echo(f"No {status if status != 'all' else ''} items in the failure queue.".replace("  ", " "))
        return
    click.echo(f"{'id':>5}  {'kind':8} {'source':22} {'day':10}  {'tries':>5}  {'reason':24} message")
    for item in items:
        click.echo(f"{item.id:>5}  {item.source_kind:8} {item.source_id:22} {item.partition_date or '-':10}  "
                   f"{item.attempts:>5}  {item.reason_code:24} {item.message[:90]}")
    click.echo(f"{len(items)} item(s). `exact-bill failures show ID` tells more.")


@failures.command()
@click.argument("item_id", type=int)
def show(item_id: int) -> None:
    """Everything about one item: the snapshot, what was tried, Exact's message and its history."""
    queue = FailureQueue(Operator().store)
    item = queue.get(item_id)
    snapshot = item.snapshot
    click.echo(f"Item {item.id}: {item.source_kind} {item.source_id} ({item.status})")
    click.echo(f"  reason        {item.reason_code}")
    click.echo(f"  message       {item.message}")
    if item.exact_message:
        click.echo("  Exact said    " + item.exact_message.replace("\n", "\n                "))
    click.echo(f"  first seen    {item.first_seen:%Y-%m-%d %H:%M:%S}   last seen {item.last_seen:%Y-%m-%d %H:%M:%S}"
               f"   attempts {item.attempts}")
    if snapshot.get("vendorName") or snapshot.get("name"):
        invoice = (snapshot.get("invoice") or {}).get("invoiceNumber", "")
        click.echo(f"  {snapshot.get('vendorName') or snapshot.get('name')}  {invoice}  {snapshot.get('amount', '')}")
    click.echo("  tried         " + json.dumps(item.tried, default=str))
    click.echo("  history")
    for entry in queue.history(item):
        click.echo(f"    {entry['at']:%Y-%m-%d %H:%M:%S}  {entry['actor']:30} {entry['action']}")


@failures.command("replay")
@click.argument("item_ids", type=int, nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every open item.")
def replay_items(item_ids: tuple[int, ...], replay_all: bool) -> None:
    """Post the given items (or all) again, exactly once; what still fails stays in the queue."""
    if not item_ids and not replay_all:
        raise click.UsageError("name the item IDs to replay, or pass --all")
    operator = Operator()
    report = replay.replay(operator.exact, operator.store, operator.accounting.posting(),
                           operator.payment_settings(), actor=operator.actor, ids=list(item_ids) or None,
                           policy=operator.accounting.doubt_policy())
    for day, counts in sorted(report.days.items()):
        click.echo(f"{day}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
    click.echo(f"Posted {report.posted} bill(s); {report.still_open} item(s) still open.")


@failures.command()
@click.argument("item_id", type=int)
@click.option("--note", required=True, help="Why it will never be posted (kept in the audit log).")
def ignore(item_id: int, note: str) -> None:
    """Take an item out of the queue for good (it is never replayed)."""
    operator = Operator()
    item = FailureQueue(operator.store).ignore(item_id, actor=operator.actor, note=note)
    click.echo(f"Item {item.id} ({item.source_kind} {item.source_id}) is ignored: {note}")


@failures.command()
@click.argument("item_id", type=int)
@click.option("--note", required=True, help="Why it posts anyway (kept in the audit log).")
def release(item_id: int, note: str) -> None:
    """Post a held bill anyway (a real second invoice whose number the vendor used before), and post it now."""
    operator = Operator()
    queue = FailureQueue(operator.store)
    item = queue.release(item_id, actor=operator.actor, note=note)
    click.echo(f"Item {item.id} ({item.source_kind} {item.source_id}) is released: {note}")
    replay.replay(operator.exact, operator.store, operator.accounting.posting(),
                           operator.payment_settings(), actor=operator.actor, ids=[item_id],
                           policy=operator.accounting.doubt_policy())
    after = queue.get(item_id)
    if after.status == "resolved":
        click.echo(f"Posted to Exact: {after.note}.")
    else:
        raise click.ClickException(f"it was not posted: {after.reason_code}: {after.message}")


@failures.command()
@click.argument("item_id", type=int)
def reopen(item_id: int) -> None:
    """Put an ignored or resolved item back in the queue."""
    operator = Operator()
    item = FailureQueue(operator.store).reopen(item_id, actor=operator.actor)
    click.echo(f"Item {item.id} ({item.source_kind} {item.source_id}) is open again.")
