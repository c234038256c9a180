"""Sensors and schedules, evaluated on a real Dagster instance against the sandboxes."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.cli.webhooks import build_app
from exact_bill_pipeline.defs.automation import (
    inbox_sensor,
    payables_schedule,
    polling_sweep,
    replay_on_mapping_change,
)
from exact_bill_pipeline.defs.jobs import REFERENCE_ASSETS
from exact_bill_pipeline.defs.partitions import daily_partitions
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.services import replay
from exact_bill_pipeline.serving import BackgroundServers
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline_tests.pipeline.conftest import fast_settings
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import control
from exact_bill_pipeline_tests.pipeline.test_realtime import wait_for
from exact_bill_pipeline_tests.pipeline.test_recovery import use_sandboxes


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
    resources = {name: pipeline.resources[name] for name in ("bill", "exact", "state")}
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


FIRST_DAY = daily_partitions.start.date()


@pytest.fixture
def straddling(make_pipeline_for):
    """A BILL history that begins 30 days before the first daily partition, whatever day that is."""
    settings = dataclasses.replace(fast_settings(bills=60, history_days=40), anchor=FIRST_DAY + timedelta(days=10))
    pipeline = make_pipeline_for(settings)
    firm = Firm(settings)
    created = {firm.bill(i)["id"]: firm.bill(i)["createdTime"][:10] for i in range(settings.bills)}
    old = next(bill for bill, day in created.items() if date.fromisoformat(day) < FIRST_DAY)
    new = next(bill for bill, day in reversed(created.items()) if date.fromisoformat(day) >= FIRST_DAY)
    return pipeline, (old, created[old]), (new, created[new])


def test_an_old_bill_that_changes_never_stalls_the_inbox_sensor(straddling, monkeypatch):
    pipeline, (old, old_day), (new, new_day) = straddling
    use_sandboxes(pipeline, monkeypatch)
    inbox, resources = Inbox(pipeline.store), {"state": pipeline.resources["state"]}
    with BackgroundServers([build_app("/webhooks")], name="receiver") as (url,):
        assert CliRunner().invoke(main, ["webhooks", "register", "--public-url", url]).exit_code == 0
        control(pipeline.running, "bill", "PATCH", f"bills/{old}", {"description": "paid at last"})
        control(pipeline.running, "bill", "PATCH", f"bills/{new}", {"description": "edited"})
        wait_for(lambda: {e.entity_key for e in inbox.after(0)} >= {old, new}, "both bill.updated events")
    events = inbox.after(0)

    with dg.instance_for_test() as instance:
        tick = inbox_sensor.evaluate_tick(dg.build_sensor_context(
            instance=instance, resources=resources, definitions=pipeline.definitions()))
        assert [(r.job_name, r.partition_key) for r in tick.run_requests] == [("bills_sync", new_day)]
        assert tick.cursor == str(events[-1].id)
        again = inbox_sensor.evaluate_tick(dg.build_sensor_context(
            instance=instance, cursor=tick.cursor, resources=resources, definitions=pipeline.definitions()))
        assert again.run_requests == []

    item = FailureQueue(pipeline.store).find("bill", old)
    assert (item.reason_code, item.partition_date, item.status) == ("outside_partitions", old_day, "open")
    assert f"begin on {FIRST_DAY.isoformat()}" in item.message
    assert "backfill" in item.message
    assert old_day not in replay.affected_days(pipeline.store)  # waits for a person, not for a replay


def test_an_old_bill_that_changes_never_stalls_the_polling_sweep(straddling):
    pipeline, (old, old_day), (new, new_day) = straddling
    resources = {name: pipeline.resources[name] for name in ("bill", "exact", "state")}
    with dg.instance_for_test() as instance:
        def tick(cursor):
            return polling_sweep.evaluate_tick(dg.build_sensor_context(
                instance=instance, cursor=cursor, resources=resources, definitions=pipeline.definitions()))

        start = tick(None)
        control(pipeline.running, "bill", "PATCH", f"bills/{old}", {"description": "paid at last"})
        control(pipeline.running, "bill", "PATCH", f"bills/{new}", {"description": "edited"})
        changed = tick(start.cursor)
        assert [r.partition_key for r in changed.run_requests if r.job_name == "payables_sync"] == [new_day]
        assert json.loads(changed.cursor)["bill"] > json.loads(start.cursor)["bill"]
    item = FailureQueue(pipeline.store).find("bill", old)
    assert (item.reason_code, item.partition_date) == ("outside_partitions", old_day)
