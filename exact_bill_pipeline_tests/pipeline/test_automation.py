"""Sensors and schedules, evaluated on a real Dagster instance against the sandboxes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg

from exact_bill_pipeline.defs.automation import payables_schedule, polling_sweep, replay_on_mapping_change
from exact_bill_pipeline.defs.jobs import REFERENCE_ASSETS
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import control


def test_a_mapping_change_requests_a_replay_once(make_pipeline_for):
    with dg.instance_for_test() as instance:
        pipeline = make_pipeline_for(instance=instance)
        pipeline.sync_everything()
        resources = {"state": pipeline.resources["state"]}

        first = replay_on_mapping_change(dg.build_sensor_context(instance=instance, resources=resources))
        assert len(first.run_requests) == 1  # the history sync left items in the queue
        cursor = first.cursor

        quiet = replay_on_mapping_change(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                                 resources=resources))
        assert quiet.run_requests == []
        assert quiet.cursor == cursor

        control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4995", "description": "Conference"})
        pipeline.run(selection=REFERENCE_ASSETS)
        again = replay_on_mapping_change(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                                 resources=resources))
        [request] = again.run_requests
        assert request.run_key == f"replay:{again.cursor}"
        assert int(again.cursor) > int(cursor)


def test_the_polling_sweep_runs_the_day_of_a_changed_bill(pipeline):
    resources = {"bill": pipeline.resources["bill"], "exact": pipeline.resources["exact"]}
    with dg.instance_for_test() as instance:
        start = polling_sweep(dg.build_sensor_context(instance=instance, resources=resources))
        assert start.run_requests == []
        assert "bill" in json.loads(start.cursor)
        seeded = polling_sweep(dg.build_sensor_context(instance=instance, cursor=start.cursor, resources=resources))
        assert seeded.run_requests == []

        bill = control(pipeline.running, "bill", "PATCH", "bills/00n02SB0000000000003",
                       {"approvalStatus": "APPROVED"})
        changed = polling_sweep(dg.build_sensor_context(instance=instance, cursor=seeded.cursor,
                                                        resources=resources))
        days = {r.partition_key for r in changed.run_requests if r.job_name == "payables_sync"}
        assert days == {bill["createdTime"][:10]}

        control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4997", "description": "Events"})
        later = polling_sweep(dg.build_sensor_context(instance=instance, cursor=changed.cursor,
                                                      resources=resources))
        assert "reference_sync" in {r.job_name for r in later.run_requests}


def test_the_payables_schedule_runs_yesterday_and_today():
    moment = datetime(2026, 11, 26, 9, 15, tzinfo=UTC)
    requests = payables_schedule(dg.build_schedule_context(scheduled_execution_time=moment))
    assert [r.partition_key for r in requests] == ["2026-11-25", "2026-11-26"]
