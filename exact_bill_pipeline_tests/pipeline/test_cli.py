"""The command line an AP clerk uses on the failure queue, and the demo."""

from __future__ import annotations

import json
import re
import shutil

from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.demo import PROJECT_ROOT
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline_tests.pipeline.test_recovery import use_sandboxes


def test_an_operator_lists_shows_ignores_and_reopens_queue_items(pipeline, monkeypatch):
    pipeline.sync_everything()
    use_sandboxes(pipeline, monkeypatch)
    runner = CliRunner()

    listed = runner.invoke(main, ["failures", "list"])
    assert listed.exit_code == 0, listed.output
    items = FailureQueue(pipeline.store).items()
    assert f"{len(items)} item(s)" in listed.output
    as_json = [json.loads(line) for line in runner.invoke(main, ["failures", "list", "--json"]).output.splitlines()]
    assert {i["source_id"] for i in as_json} == {i.source_id for i in items}

    bill_item = next(i for i in items if i.source_kind == "bill")
    shown = runner.invoke(main, ["failures", "show", str(bill_item.id)])
    assert shown.exit_code == 0, shown.output
    assert bill_item.reason_code in shown.output
    assert re.search(r"history\n\s+\d{4}-\d\d-\d\d .* queued", shown.output)

    ignored = runner.invoke(main, ["failures", "ignore", str(bill_item.id), "--note", "voided in BILL"])
    assert ignored.exit_code == 0, ignored.output
    assert FailureQueue(pipeline.store).get(bill_item.id).status == "ignored"
    listed_again = runner.invoke(main, ["failures", "list"]).output
    assert not re.search(rf"^\s*{bill_item.id}\s+bill\s", listed_again, re.MULTILINE)
    history = runner.invoke(main, ["failures", "show", str(bill_item.id)]).output
    assert re.search(r"cli:\S+\s+ignored", history)

    assert runner.invoke(main, ["failures", "reopen", str(bill_item.id)]).exit_code == 0
    assert FailureQueue(pipeline.store).get(bill_item.id).status == "open"


def test_queue_commands_explain_bad_input(pipeline, monkeypatch):
    use_sandboxes(pipeline, monkeypatch)
    runner = CliRunner()
    unknown = runner.invoke(main, ["failures", "show", "424242"])
    assert unknown.exit_code == 1
    assert "the failure queue has no item 424242" in unknown.output
    assert "Usage" in runner.invoke(main, ["failures", "replay"]).output
    bad_csv = runner.invoke(main, ["mapping", "import", __file__])
    assert bad_csv.exit_code == 1
    assert "lacks the column(s)" in bad_csv.output


def test_the_demo_summarizes_and_a_second_run_posts_nothing(tmp_path):
    runner = CliRunner()
    arguments = ["demo", "--json", "--home", str(tmp_path), "--bills", "80", "--history-days", "30"]
    first = runner.invoke(main, arguments)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output.strip().splitlines()[-1])
    assert {"bills_posted", "bills_queued", "payments_posted", "suppliers_created", "suppliers_matched",
            "exact_calls", "bill_calls"} <= set(summary)
    assert summary["bills_posted"] > 20
    documents = summary["bills_posted"] + summary["payments_posted"] + summary["credit_notes_posted"]
    assert (summary["credit_notes_posted"], summary["credits_applied"]) == (3, 2)  # issue 14's demo firm
    assert summary["exact_calls"] >= documents + summary["credits_applied"]
    # A credit applied is no BILL document of its own: reconciled are the bills, payments and credit notes.
    assert summary["expected_in_exact"] == documents
    # The demo firm bills on two VAT-bearing accounts (4670 adds 6 %, 4680 includes 8.25 %): the postings state
    # the VAT, so Exact's entries total what BILL says, and the held bills (a duplicate invoice number, a closed
    # period) are explained by the queue.
    assert summary["reconciliation"] == {"missing": 0, "extra": 0, "duplicated": 0, "different": 0, "deleted": 0,
                                         "day_total": 0, "vendor_total": 0}
    assert summary["reconciliation_calls"] == 2  # under 1,000 lines: one page, and the deletion log

    second = json.loads(runner.invoke(main, arguments).output.strip().splitlines()[-1])
    # The second bill with an invoice number already used waits as duplicate_invoice: never sent, never adopted.
    assert (second["bills_posted"], second["payments_posted"], second["suppliers_created"]) == (0, 0, 0)
    assert second["bills_posted_total"] == summary["bills_posted"]


def test_a_backfill_over_a_range_posts_once_and_reruns_post_nothing(pipeline, monkeypatch, tmp_path):
    use_sandboxes(pipeline, monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    first, last = pipeline.history()
    runner = CliRunner()
    result = runner.invoke(main, ["backfill", first, last, "--with-reference"])
    assert result.exit_code == 0, result.output
    posted = int(re.search(r"exact_purchase_entries: posted (\d+)", result.output).group(1))
    assert posted > 20
    again = runner.invoke(main, ["backfill", first, last])
    assert again.exit_code == 0, again.output
    assert "exact_purchase_entries: posted 0" in again.output
    assert runner.invoke(main, ["backfill", last, first]).exit_code == 2


def test_reconcile_runs_through_the_same_service_and_prints_what_the_checks_see(pipeline, monkeypatch):
    from exact_bill_pipeline.defs.jobs import PAYABLES_ASSETS, REFERENCE_ASSETS
    from exact_bill_pipeline.defs.reconciliation import duplicates_in_exact, exact_reconciliation
    from exact_bill_pipeline.state.ledger import PostingLedger
    from exact_bill_pipeline_tests.pipeline.pipeline_helpers import exact_reader

    pipeline.run(selection=[*REFERENCE_ASSETS, *PAYABLES_ASSETS], days=pipeline.history())
    use_sandboxes(pipeline, monkeypatch)
    runner = CliRunner()
    never = runner.invoke(main, ["reconcile"])
    assert never.exit_code == 1
    assert "has not been reconciled yet" in never.output

    clean = runner.invoke(main, ["reconcile", "--run"])
    assert clean.exit_code == 0, clean.output
    assert re.search(r"Read \d+ line\(s\) and 0 deletion\(s\) from Exact in 2 call\(s\) \(a full read\)", clean.output)
    assert "Nothing to report" in clean.output

    twice = PostingLedger(pipeline.store).entries(kind="bill", state="posted")[0]
    exact_reader(pipeline).create_purchase_entry(twice.sent)
    found = runner.invoke(main, ["reconcile", "--run"])
    assert "in 2 call(s)." in found.output
    assert re.search(rf"^duplicated\s+{twice.source_id}\s", found.output, re.MULTILINE)
    as_json = [json.loads(line) for line in runner.invoke(main, ["reconcile", "--json", "--kind", "duplicated"]
                                                          ).output.splitlines()]
    assert [(f["kind"], f["source_id"]) for f in as_json] == [("duplicated", twice.source_id)]
    assert len(as_json[0]["entries"]) == 2

    checked = pipeline.run(selection=[exact_reconciliation, duplicates_in_exact]).get_asset_check_evaluations()
    duplicates = next(c for c in checked if c.check_name == "duplicates_in_exact")
    assert duplicates.metadata["document_ids"].value == [twice.source_id]
