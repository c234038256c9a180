"""Prints, for the demo firm, how each bill's open amount in Exact compares with what BILL says is still due.

The accountant's check of issue 14: after part payments, split payments, vendor credits applied and a bill in
another currency, what Exact's PayablesList leaves open on each posted invoice (in the invoice's currency) must be
BILL's dueAmount; a settled invoice leaves the list. It runs the whole demo (sandboxes and pipeline, as
`exact-bill demo` does) in a temporary home, then reads both systems through their APIs, not the connector's state.

Usage: .venv/bin/python benchmarks/open_amounts.py [--bills 600] [--history-days 180]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from exact_bill_pipeline.cli.context import Operator
from exact_bill_pipeline.cli.demo import demo_settings
from exact_bill_pipeline.demo import DemoSummary, run_demo
from exact_bill_pipeline.domain.records import money
from exact_bill_pipeline.sandbox.server import RunningSandboxes
from exact_bill_pipeline.state.ledger import PostingLedger


def compare(_running: RunningSandboxes, _env: dict[str, str], summary: DemoSummary) -> None:
    operator = Operator()
    exact, bill = operator.exact, operator.bill
    open_in_exact = {row["InvoiceNumber"]: money(row["Amount"]) for row in exact.rows(
        "read/financial/PayablesList", select="Amount,InvoiceNumber,JournalCode", filter="JournalCode eq '60'")}
    since = datetime.now(tz=UTC) - timedelta(days=3650)
    due = {b.id: money(b.raw.get("dueAmount", 0)) for b in bill.iter_bills(created_from=since)}
    outcome: Counter[str] = Counter()
    differing = []
    for entry in PostingLedger(operator.store).entries(kind="bill", state="posted"):
        left, owed = open_in_exact.get(entry.entry_number, Decimal("0.00")), due.get(entry.source_id)
        if left != owed:
            differing.append((entry.source_id, entry.entry_number, left, owed))
        else:
            outcome["open in both" if left else "settled in both"] += 1
    equal = outcome.total()
    print(f"bills posted {summary.bills_posted}, payments posted {summary.payments_posted}")
    print(f"open amount in Exact = BILL dueAmount: {equal} of {equal + len(differing)} posted bills "
          f"({outcome['open in both']} open, {outcome['settled in both']} settled); different: {len(differing)}")
    for row in differing[:20]:
        print("  different:", *row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=600)
    parser.add_argument("--history-days", type=int, default=180)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        run_demo(Path(home), demo_settings(args.bills, args.history_days), lambda _line: None, keep=compare)


if __name__ == "__main__":
    main()
