"""`exact-bill ledger`: postings in doubt, and a person settling one by hand, audited."""

from __future__ import annotations

import json

import click

from exact_bill_pipeline.cli.context import Operator
from exact_bill_pipeline.clients.exact_online import odata
from exact_bill_pipeline.state.ledger import IN_DOUBT, LedgerEntry, PostingLedger


@click.group()
def ledger() -> None:
    """The posting ledger: what was sent to Exact, and what is in doubt."""


@ledger.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def doubts(as_json: bool) -> None:
    """Postings that may or may not be in Exact; each run looks them up before posting them again."""
    entries = PostingLedger(Operator().store).entries(states=IN_DOUBT)
    if as_json:
        for entry in entries:
            click.echo(json.dumps(_summary(entry), default=str))
        return
    if not entries:
        click.echo("Nothing is in doubt: every posting is known to be in Exact or not.")
        return
    click.echo(f"{'kind':8} {'source':22} {'day':10} {'state':10} {'tries':>5} {'looked':>6}  sent as")
    for entry in entries:
        sent = entry.sent
        reference = sent.get("YourRef") or sent.get("Name") or entry.lookup_ref or ""
        click.echo(f"{entry.source_kind:8} {entry.source_id:22} {entry.partition_date:10} {entry.state:10} "
                   f"{entry.attempts:>5} {entry.lookups:>6}  {reference}")
    click.echo(f"{len(entries)} posting(s) in doubt. Settle one by hand with `exact-bill ledger settle KIND ID "
               f"--entry NUMBER` (it is that Exact entry) or `--not-posted` (it is not in Exact).")


@ledger.command()
@click.argument("kind", type=click.Choice(["bill", "vendor_credit", "payment", "credit_application"]))
@click.argument("source_id")
@click.option("--entry", "entry_number", type=int, help="The Exact entry number that is this posting.")
@click.option("--not-posted", is_flag=True, help="It is certainly not in Exact: the next run posts it.")
@click.option("--note", required=True, help="Why you are sure (kept in the audit log).")
def settle(kind: str, source_id: str, entry_number: int | None, not_posted: bool, note: str) -> None:
    """Settle a posting in doubt: it is Exact entry NUMBER, or it was not posted."""
    if (entry_number is None) == (not not_posted):
        raise click.UsageError("say either --entry NUMBER or --not-posted")
    operator = Operator()
    postings = PostingLedger(operator.store)
    entry = postings.get(kind, source_id)  # type: ignore[arg-type]
    if entry is None:
        raise click.ClickException(f"the ledger has no {kind} {source_id}; `exact-bill ledger doubts` lists "
                                   f"what is in doubt")
    found = None
    if entry_number is not None:
        found = _entry_in_exact(operator, entry, entry_number)
    settled = postings.settle_by_hand(kind, source_id, entry=found, actor=operator.actor, note=note)
    if found:
        click.echo(f"{kind} {source_id} is Exact entry {entry_number} ({found[0]}); it is never posted again.")
    else:
        click.echo(f"{kind} {source_id} is recorded as not in Exact; the next run posts it "
                   f"(attempt {settled.attempts + 1}).")


def _entry_in_exact(operator: Operator, entry: LedgerEntry, number: int) -> tuple[str, int]:
    """The entry's ID, read from Exact: the entry must exist in the journal the posting was sent to."""
    journal = entry.sent.get("Journal") or entry.sent.get("JournalCode") or entry.journal
    rows = list(operator.exact.rows(
        "financialtransaction/TransactionLines", select="EntryID,EntryNumber,JournalCode,Description",
        filter=f"EntryNumber eq {int(number)} and JournalCode eq {odata.string(journal)}"))
    if not rows:
        raise click.ClickException(f"Exact has no entry {number} in journal {journal}; check the number")
    return str(rows[0]["EntryID"]), number


def _summary(entry: LedgerEntry) -> dict[str, object]:
    return {"kind": entry.source_kind, "source_id": entry.source_id, "day": entry.partition_date,
            "state": entry.state, "attempts": entry.attempts, "lookups": entry.lookups,
            "settle_after": entry.settle_after, "sent": entry.sent}
