"""Replays, reruns and every way a posting can go wrong: still exactly one entry per bill."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter

import dagster as dg
from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.definitions import ASSETS
from exact_bill_pipeline.defs.jobs import REFERENCE_ASSETS
from exact_bill_pipeline.demo import sandbox_environment
from exact_bill_pipeline.sandbox.seed import AMBIGUOUS_EXACT_NAMES, Firm
from exact_bill_pipeline.state.db import STATE_URL_ENV
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import PostingLedger
from exact_bill_pipeline_tests.pipeline.day_worker import post_day
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import QUIET, bill_id_of, control, run_figures, sandbox_entries

ENTRIES = "exact_purchase_entries"


def entries_per_bill(pipeline) -> Counter[str]:
    return Counter(bill_id_of(e) for e in sandbox_entries(pipeline.running) if bill_id_of(e))


def only(name: str) -> list:
    return [a for a in ASSETS if a.key.to_user_string() == name]


def busiest_day(pipeline) -> tuple[str, list[str]]:
    """The day with the most postable, fully mapped bills, and those bills."""
    pipeline.run(selection=REFERENCE_ASSETS)
    pipeline.run(selection=only("bill_bills"), days=pipeline.history())
    pipeline.run(selection=only(ENTRIES), days=pipeline.history(), run_config={"ops": {ENTRIES: {"config": {
        "dry_run": True}}}})
    from exact_bill_pipeline.services.bills import load_mapping
    from exact_bill_pipeline.state import snapshots

    mapping = load_mapping(pipeline.store)
    by_day: dict[str, list[str]] = {}
    with pipeline.store.transaction() as conn:
        for day in sorted({s.partition_date for s in snapshots.in_partition(conn, "bill", "x")} | _days(conn)):
            ok = [s.source_id for s in snapshots.in_partition(conn, "bill", day) if _postable(s.data, mapping)]
            by_day[day] = ok
    day = max(by_day, key=lambda d: len(by_day[d]))
    return day, by_day[day]


def _days(conn) -> set[str]:
    import sqlalchemy as sa

    from exact_bill_pipeline.state.schema import bill_snapshots

    return set(conn.execute(sa.select(bill_snapshots.c.partition_date).where(
        bill_snapshots.c.source_kind == "bill")).scalars())


def _postable(bill, mapping) -> bool:
    return (bill["approvalStatus"] == "APPROVED" and not bill["archived"] and bill["vendorId"] in mapping.suppliers
            and all(i["classifications"]["chartOfAccountId"] in mapping.accounts for i in bill["billLineItems"])
            and all(i["classifications"].get("departmentId") in (None, *mapping.cost_centers)
                    for i in bill["billLineItems"]))


def use_sandboxes(pipeline, monkeypatch) -> None:
    """Points the command line at the pipeline's sandboxes and database."""
    for name, value in sandbox_environment(pipeline.running).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(STATE_URL_ENV, pipeline.state_url)


def test_replay_posts_the_waiting_bills_once_the_mapping_is_fixed(pipeline, monkeypatch):
    pipeline.sync_everything()
    queue = FailureQueue(pipeline.store)
    waiting_on_mapping = {i.source_id for i in queue.items(kind="bill") if i.reason_code.startswith("unmapped")}
    assert waiting_on_mapping
    control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4995", "description": "Conference fees"})
    control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4996", "description": "Research materials"})
    control(pipeline.running, "exact", "POST", "cost-centers", {"code": "600", "description": "Research Lab"})
    use_sandboxes(pipeline, monkeypatch)
    result = CliRunner().invoke(main, ["mapping", "override", "account", "6500", "4640", "--note", "old numbering"])
    assert result.exit_code == 0, result.output
    pipeline.run(selection=REFERENCE_ASSETS)

    replayed = pipeline.definitions().resolve_job_def("replay_failures").execute_in_process(
        instance=pipeline.instance, run_config=QUIET)

    assert replayed.success
    counts = entries_per_bill(pipeline)
    assert waiting_on_mapping <= set(counts)
    assert set(counts.values()) == {1}
    left = {i.reason_code for i in queue.items(kind="bill")}
    assert left <= {"vendor_ambiguous"}
    resolved = queue.items(status="resolved", kind="bill")
    assert {i.source_id for i in resolved} >= waiting_on_mapping
    assert any(h["action"] == "resolved" for h in queue.history(resolved[0]))
    # Replaying again posts nothing.
    before = sandbox_entries(pipeline.running)
    pipeline.definitions().resolve_job_def("replay_failures").execute_in_process(
        instance=pipeline.instance, run_config=QUIET)
    assert len(sandbox_entries(pipeline.running)) == len(before)


def test_deciding_an_ambiguous_vendor_releases_its_bills(pipeline, monkeypatch):
    pipeline.sync_everything()
    firm = Firm(pipeline.running.settings)
    vendor = next(v for v in firm.vendors if v.match_kind == "ambiguous")
    supplier = next(r for r in firm.relations if r.name == AMBIGUOUS_EXACT_NAMES[vendor.name][0])
    waiting = {i.source_id for i in FailureQueue(pipeline.store).items(kind="bill")
               if i.snapshot["vendorId"] == vendor.id}
    assert waiting
    use_sandboxes(pipeline, monkeypatch)
    assert CliRunner().invoke(main, ["mapping", "vendor", vendor.id, supplier.id]).exit_code == 0
    result = CliRunner().invoke(main, ["failures", "replay", "--all"])
    assert result.exit_code == 0, result.output
    posted = {e["Supplier"] for e in sandbox_entries(pipeline.running) if bill_id_of(e) in waiting}
    assert posted == {supplier.id}
    assert waiting <= set(entries_per_bill(pipeline))


def test_a_partition_rerun_after_a_failure_posts_only_what_is_missing(pipeline):
    day, bills = busiest_day(pipeline)
    assert len(bills) >= 3
    # After the first posting Exact blocks the division: no posting can succeed, so the run stops.
    control(pipeline.running, "exact", "POST", "faults",
            {"kind": "error", "status": 403, "reason": "DivisionBlocked", "path": "purchaseentry/PurchaseEntries",
             "method": "POST", "skip": 1})
    failed = pipeline.run(selection=only(ENTRIES), partition=day, raise_on_error=False)
    assert not failed.success
    assert len(entries_per_bill(pipeline)) == 1

    rerun = pipeline.run(selection=only(ENTRIES), partition=day)

    metadata = rerun.asset_materializations_for_node(ENTRIES)[0].metadata
    assert metadata["already_posted"].value == 1
    assert metadata["posted"].value == len(bills) - 1
    assert set(entries_per_bill(pipeline).values()) == {1}
    assert set(entries_per_bill(pipeline)) == set(bills)


def test_a_lost_response_is_found_in_exact_instead_of_posted_twice(pipeline):
    day, bills = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults",
            {"kind": "drop_response", "path": "purchaseentry/PurchaseEntries", "method": "POST", "skip": 1})
    result = pipeline.run(selection=only(ENTRIES), partition=day)
    metadata = result.asset_materializations_for_node(ENTRIES)[0].metadata
    assert metadata["recovered_after_uncertain_post"].value == 1
    assert metadata["posted"].value == len(bills) - 1
    assert metadata["exact_calls"].value == len(bills) + 1  # the one look-up is the only extra call
    assert set(entries_per_bill(pipeline).values()) == {1}
    assert len(entries_per_bill(pipeline)) == len(bills)


def test_a_run_killed_after_exact_committed_leaves_no_duplicate(pipeline):
    day, bills = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "slow_response", "seconds": 60, "skip": 1,
                                                          "path": "purchaseentry/PurchaseEntries", "method": "POST"})
    exact, bill = pipeline.resources["exact"].model_dump(), pipeline.resources["bill"].model_dump()
    context = multiprocessing.get_context("spawn")
    worker = context.Process(target=post_day, args=(exact, bill, pipeline.state_url, day))
    worker.start()
    deadline = time.monotonic() + 60
    while len(entries_per_bill(pipeline)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    worker.kill()  # the second entry is committed in Exact; its answer never reaches the worker
    worker.join(timeout=30)
    assert len(entries_per_bill(pipeline)) == 2
    # The intents of the whole batch were committed before its first POST; none was finished.
    unfinished = [e for e in PostingLedger(pipeline.store).entries(kind="bill") if e.unfinished]
    assert len(unfinished) == len(bills)
    control(pipeline.running, "exact", "DELETE", "faults")

    result = pipeline.run(selection=only(ENTRIES), partition=day)

    metadata = result.asset_materializations_for_node(ENTRIES)[0].metadata
    assert metadata["recovered_after_uncertain_post"].value == 2
    assert metadata["posted"].value == len(bills) - 2
    assert set(entries_per_bill(pipeline).values()) == {1}
    assert len(entries_per_bill(pipeline)) == len(bills)


def test_a_bill_changed_after_posting_is_flagged_and_never_posted_again(pipeline):
    day, bills = busiest_day(pipeline)
    pipeline.run(selection=only(ENTRIES), partition=day)
    changed = bills[0]
    control(pipeline.running, "bill", "PATCH", f"bills/{changed}", {"dueDate": "2030-01-01"})
    pipeline.run(selection=only("bill_bills"), partition=day)

    result = pipeline.run(selection=[*only(ENTRIES)], partition=day)

    metadata = result.asset_materializations_for_node(ENTRIES)[0].metadata
    assert metadata["changed_after_posting"].value == 1
    assert metadata["posted"].value == 0
    assert entries_per_bill(pipeline)[changed] == 1
    item = FailureQueue(pipeline.store).find("bill", changed)
    assert item.reason_code == "changed_after_posting"
    assert item.tried["diff"]["dueDate"]["after"] == "2030-01-01"
    from exact_bill_pipeline.defs.queue import bills_changed_after_posting

    check = pipeline.run(selection=[bills_changed_after_posting]).get_asset_check_evaluations()[0]
    assert not check.passed
    assert changed in check.metadata["differences"].value


def test_a_dry_run_shows_the_journal_lines_and_writes_nothing(pipeline):
    pipeline.run(selection=REFERENCE_ASSETS)
    pipeline.run(selection=only("bill_bills"), days=pipeline.history())
    result = pipeline.run(selection=only(ENTRIES), days=pipeline.history(),
                          run_config={"ops": {ENTRIES: {"config": {"dry_run": True}}}})
    figures = run_figures(result, ENTRIES)
    assert figures["dry_run"] is True
    assert "GLAccount" in figures["journal_lines_would_post"]
    assert entries_per_bill(pipeline) == Counter()
    assert PostingLedger(pipeline.store).entries(kind="bill") == []
    assert FailureQueue(pipeline.store).items(kind="bill") == []


def test_the_dagster_instance_records_one_materialization_per_day(pipeline):
    instance = dg.DagsterInstance.ephemeral()
    pipeline.instance = instance
    pipeline.sync_everything()
    first, last = pipeline.history()
    keys = instance.get_materialized_partitions(dg.AssetKey(ENTRIES))
    assert first in keys
    assert last in keys


def test_the_differences_check_names_a_bill_whose_amount_was_changed_in_exact(pipeline):
    from exact_bill_pipeline.defs.reconciliation import differences_in_exact, exact_reconciliation

    def reconciled() -> dg.AssetCheckEvaluation:
        result = pipeline.run(selection=[exact_reconciliation, differences_in_exact])
        return next(c for c in result.get_asset_check_evaluations() if c.check_name == "differences_in_exact")

    day, bills = busiest_day(pipeline)
    pipeline.run(selection=only(ENTRIES), partition=day)
    assert reconciled().passed
    entry = PostingLedger(pipeline.store).get("bill", bills[0])
    control(pipeline.running, "exact", "PATCH", f"entries/{entry.exact_entry_id}/lines/1", {"amount": 12345.67})
    check = reconciled()
    assert not check.passed
    assert check.metadata["document_ids"].value == [bills[0]]
    assert "12345.67" in check.metadata["table"].value
