"""The Dagster UI as the operator's console: each day's own figures, the failure queue with its fixes, checks."""

from __future__ import annotations

import re

import dagster as dg

from exact_bill_pipeline.defs.jobs import REFERENCE_ASSETS
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import QUIET, control, postings_per_source

ENTRIES = dg.AssetKey("exact_purchase_entries")


def latest_for_day(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> dict:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]),
                                              limit=1).records
    return {name: value.value for name, value in records[0].asset_materialization.metadata.items()}


def test_a_range_run_shows_each_day_its_own_counts_and_preview(pipeline):
    result = pipeline.sync_everything()

    busiest = max(_bills_by_day(pipeline).items(), key=lambda item: len(item[1]))
    day, bills = busiest
    shown = latest_for_day(pipeline.instance, ENTRIES, day)
    assert shown["bills_in_bill"] == len(bills)
    assert shown["posted_in_exact"] + shown["waiting_in_queue"] + shown["in_doubt"] <= len(bills)
    preview = shown["preview"]
    assert all(bill in preview for bill in sorted(bills)[:10])
    others = {b for d, ids in _bills_by_day(pipeline).items() if d != day for b in ids}
    assert not any(bill in preview for bill in others)
    # The run's own figures are the step's, labelled as the run's, not a day's.
    step = result.asset_materializations_for_node("exact_purchase_entries")[0].metadata
    first, last = pipeline.history()
    assert step["run_range"].value.startswith(f"{first} to {last}")
    assert "run_posted" in step
    assert "posted" not in step


def test_a_replay_that_posts_nothing_leaves_every_day_as_it_was(pipeline):
    pipeline.sync_everything()
    before = pipeline.instance.fetch_materializations(ENTRIES, limit=1000).records

    replay = pipeline.definitions().resolve_job_def("replay_failures").execute_in_process(
        instance=pipeline.instance, run_config=QUIET)

    assert replay.success
    assert pipeline.instance.fetch_materializations(ENTRIES, limit=1000).records == before


def test_the_failure_queue_says_what_to_do_and_names_candidate_suppliers(pipeline):
    result = pipeline.sync_everything()

    queue = result.asset_materializations_for_node("failure_queue")[0].metadata
    assert queue["waiting"].value > 0
    by_reason = queue["by_reason"].value
    assert "unmapped_gl_account" in by_reason
    assert "exact-bill mapping override account" in by_reason
    assert "vendor_ambiguous" in by_reason
    items = queue["items"].value
    # An ambiguous vendor's candidates by name, code and city, not by GUID.
    assert re.search(r"\(code [^,)]+, [A-Z][a-z]+", items), items
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {"unmatched_bills", "payments_waiting", "bills_changed_after_posting"} <= set(checks)
    assert "what to do" in checks["unmatched_bills"].metadata["by_reason"].value


def test_a_webhook_run_evaluates_the_queue_checks(pipeline):
    pipeline.run(selection=REFERENCE_ASSETS)
    first, _ = pipeline.history()
    result = pipeline.definitions().resolve_job_def("bills_sync").execute_in_process(
        instance=pipeline.instance, run_config=QUIET, partition_key=first)
    assert result.success
    assert {e.check_name for e in result.get_asset_check_evaluations()} >= {"unmatched_bills", "payments_waiting"}


def _bills_by_day(pipeline) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with pipeline.store.transaction() as conn:
        import sqlalchemy as sa

        from exact_bill_pipeline.state.schema import bill_snapshots

        days = conn.execute(sa.select(bill_snapshots.c.partition_date).distinct()
                            .where(bill_snapshots.c.source_kind == "bill")).scalars().all()
        for day in days:
            out[day] = {s.source_id for s in snapshots.in_partition(conn, "bill", day)}
    return out


def test_a_failed_run_says_why_and_what_it_had_already_posted_and_a_rerun_finishes_once(pipeline):
    from exact_bill_pipeline_tests.pipeline.test_exactly_once import replace_exact_client, step_failure
    from exact_bill_pipeline_tests.pipeline.test_recovery import busiest_day, only

    replace_exact_client(pipeline, max_attempts=2)
    day, bills = busiest_day(pipeline)
    # After the first posting Exact answers 503 to everything: the next POST is in doubt, and so is Exact.
    control(pipeline.running, "exact", "POST", "faults", {"kind": "error", "status": 503, "path": "/api/v1/",
                                                          "count": None, "skip": 1})
    failed = pipeline.run(selection=only("exact_purchase_entries"), partition=day, raise_on_error=False)

    assert not failed.success
    why = step_failure(failed)
    assert why.startswith("Exact Online did not answer properly")
    assert "this run posted 1 bill(s) to Exact" in why
    assert "Traceback" not in why
    control(pipeline.running, "exact", "DELETE", "faults")
    rerun = pipeline.run(selection=only("exact_purchase_entries"), partition=day)
    assert rerun.success
    assert postings_per_source(pipeline) == {bill: 1 for bill in bills}


def test_the_partitions_begin_on_january_first_of_last_year_unless_told_otherwise():
    from datetime import date

    from exact_bill_pipeline.defs.partitions import default_start

    assert default_start(date(2027, 3, 4)) == "2026-01-01"
    assert default_start(date(2026, 1, 1)) == "2025-01-01"
