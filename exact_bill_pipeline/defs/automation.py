"""Sensors and schedules: replay after a mapping change, poll both systems as a safety net, run on the AP cycle."""


import json
import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.jobs import (
    bills_sync,
    payables_sync,
    payments_sync,
    reference_sync,
    replay_failures,
    vendor_sync,
)
from exact_bill_pipeline.defs.partitions import daily_partitions
from exact_bill_pipeline.defs.payables import exact_suppliers
from exact_bill_pipeline.defs.reference import account_mapping
from exact_bill_pipeline.defs.resources import StateDatabase
from exact_bill_pipeline.domain.events import Event, Unplaced, plan_runs
from exact_bill_pipeline.services import replay
from exact_bill_pipeline.services.outside import OUTSIDE_PARTITIONS, queue_unplaced
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.inbox import Inbox

REFERENCE_CRON = os.environ.get("EXACT_BILL_REFERENCE_CRON") or "0 * * * 1-5"
PAYABLES_CRON = os.environ.get("EXACT_BILL_PAYABLES_CRON") or "15 * * * 1-5"
POLL_SECONDS = int(os.environ.get("EXACT_BILL_POLL_SECONDS") or 900)
INBOX_SECONDS = int(os.environ.get("EXACT_BILL_INBOX_SECONDS") or 30)
REPLAY_SECONDS = int(os.environ.get("EXACT_BILL_REPLAY_SECONDS") or 30)
INBOX_BATCH = 1000

reference_schedule = dg.ScheduleDefinition(
    name="reference_sync_schedule", job=reference_sync, cron_schedule=REFERENCE_CRON, execution_timezone="UTC",
    description=f"Reference sync on the AP cycle ({REFERENCE_CRON}; EXACT_BILL_REFERENCE_CRON).")


@dg.schedule(job=payables_sync, cron_schedule=PAYABLES_CRON, execution_timezone="UTC",
             description=f"Yesterday's and today's bills and payments ({PAYABLES_CRON}; EXACT_BILL_PAYABLES_CRON).")
def payables_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    moment = context.scheduled_execution_time or datetime.now(tz=UTC)
    days = [(moment - timedelta(days=1)).date().isoformat(), moment.date().isoformat()]
    return [dg.RunRequest(partition_key=day, run_key=f"payables:{moment.isoformat()}:{day}") for day in days]


def _set_aside(context: dg.SensorEvaluationContext, store: StateStore, unplaced: list[Unplaced], actor: str) -> None:
    """Records a day no partition covers go to the failure queue: asking for its run would fail the whole tick."""
    if not unplaced:
        return
    queue_unplaced(store, unplaced, first_day=daily_partitions.start.date().isoformat(),
                   actor=actor)
    context.log.warning(f"{len(unplaced)} record(s) created on days the partitions do not cover were put in the "
                        f"failure queue ({OUTSIDE_PARTITIONS}): "
                        f"{', '.join(sorted({f'{u.kind} {u.source_id} ({u.day})' for u in unplaced})[:10])}")


def _latest_storage_id(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> int:
    ids = []
    for key in keys:
        records = instance.fetch_materializations(key, limit=1).records
        if records:
            ids.append(records[0].storage_id)
    return max(ids, default=0)


@dg.sensor(job=replay_failures, minimum_interval_seconds=REPLAY_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING,
           description="When the mapping or the suppliers change, replays the failure queue.")
def replay_on_mapping_change(context: dg.SensorEvaluationContext, state: StateDatabase) -> dg.SensorResult:
    latest = _latest_storage_id(context.instance, [account_mapping.key, exact_suppliers.key])
    if latest <= int(context.cursor or 0):
        return dg.SensorResult(skip_reason="no new mapping since the last replay", cursor=context.cursor)
    days = replay.affected_days(state.store())
    if not days:
        return dg.SensorResult(skip_reason="the mapping changed but nothing waits in the queue", cursor=str(latest))
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"replay:{latest}",
                                                       tags={"replayed_days": ",".join(days)[:200]})],
                           cursor=str(latest))


@dg.sensor(minimum_interval_seconds=POLL_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING,
           jobs=[payables_sync, reference_sync],
           description="The safety net when webhooks are off or missed: follows BILL's updatedTime and Exact's "
                       "sync Timestamp (cursor in the sensor), and runs what changed.")
def polling_sweep(context: dg.SensorEvaluationContext, bill: BillClient, exact: ExactOnlineClient,
                  state: StateDatabase) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    if "bill" not in cursor:
        # The first sweep only sets the cursor: history is loaded by a backfill, not by the poll.
        cursor = {"bill": datetime.now(tz=UTC).isoformat(), "exact": 0}
        return dg.SensorResult(skip_reason="cursor set; changes from now on are followed", cursor=json.dumps(cursor))
    since = datetime.fromisoformat(cursor["bill"])
    api = bill.api()
    changed = [b.raw for b in api.bills(updated_since=since)]
    paid = [p.raw for p in api.payments(updated_since=since)]
    polled = [Event("bill", f"{kind}.updated", {kind: item})
              for kind, items in (("bill", changed), ("payment", paid)) for item in items]
    specs, unplaced = plan_runs(polled, daily_partitions.has_partition_key)
    _set_aside(context, state.store(), unplaced, actor="sensor:polling_sweep")
    days = sorted({spec.partition for spec in specs if spec.partition})
    newest = max([datetime.fromisoformat(item["updatedTime"]) for item in changed + paid if item.get("updatedTime")],
                 default=since)
    requests = [dg.RunRequest(job_name=payables_sync.name, partition_key=day,
                              run_key=f"poll:{day}:{newest.isoformat()}") for day in days]
    gl_changes = exact.api().sync_gl_accounts(max(int(cursor["exact"]), 1))
    top = max((a.timestamp or 0 for a in gl_changes), default=int(cursor["exact"]))
    if cursor["exact"] and top > cursor["exact"]:
        requests.append(dg.RunRequest(job_name=reference_sync.name, run_key=f"poll:reference:{top}"))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps({"bill": newest.isoformat(), "exact": top}),
                           skip_reason=None if requests else "nothing changed since the last sweep")


@dg.sensor(minimum_interval_seconds=INBOX_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING,
           jobs=[bills_sync, payments_sync, vendor_sync, reference_sync],
           description=f"Turns webhook events in the inbox into runs, one per job and day "
                       f"(every {INBOX_SECONDS} s; EXACT_BILL_INBOX_SECONDS). Events carry only keys: the runs "
                       f"read the records again.")
def inbox_sensor(context: dg.SensorEvaluationContext, state: StateDatabase) -> dg.SensorResult:
    cursor = int(context.cursor or 0)
    events = Inbox(state.store()).after(cursor, limit=INBOX_BATCH)
    if not events:
        return dg.SensorResult(skip_reason="no new events", cursor=str(cursor))
    last = events[-1].id
    specs, unplaced = plan_runs((Event(e.source, e.event_type, e.payload) for e in events),
                                daily_partitions.has_partition_key)
    _set_aside(context, state.store(), unplaced, actor="sensor:inbox_sensor")
    requests = [dg.RunRequest(job_name=spec.job, partition_key=spec.partition,
                              run_key=f"inbox:{spec.job}:{spec.partition or 'all'}:{last}",
                              tags={"inbox_events": f"{events[0].id}-{last}"})
                for spec in specs]
    asked = f"{len(events)} event(s) asked for nothing" + (
        f"; {len(unplaced)} outside the partitions are in the failure queue" if unplaced else "")
    return dg.SensorResult(run_requests=requests, cursor=str(last), skip_reason=None if requests else asked)
