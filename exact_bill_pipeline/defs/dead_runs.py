"""Runs that died while they held the Exact posting pool: found by their claim, marked failed, their slots freed.

Dagster's default run launcher cannot tell that a run's process died (run monitoring checks run workers only
for launchers that support it), so a run killed mid-posting would keep its slot in the
``exact_division_writes`` pool and every later posting run would wait for it forever. Each posting step
registers a claimant (run ID, host, process, lease) in the state database; a claimant whose process is gone
on this machine, or whose lease ran out long ago, belongs to a dead run.

What this uses of Dagster: ``DagsterInstance.get_run_by_id`` (public API), and two instance methods Dagster's
own daemon and UI use for the same purpose and that its public API does not offer otherwise:
``report_run_failed`` and the event log's ``free_concurrency_slots_for_run``. Both are exercised by the
dead-run tests, so a Dagster release that changes them fails CI before it reaches a user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from exact_bill_pipeline.defs.resources import StateDatabase
from exact_bill_pipeline.state import claims
from exact_bill_pipeline.state.db import StateStore

# A claimant on another machine is dead once its lease ran out this long ago (it renews well before expiry).
REMOTE_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    host: str
    pid: int
    why: str
    marked_failed: bool

    def explain(self) -> str:
        failed = " It is marked failed" if self.marked_failed else " Its run had ended"
        return (f"Run {self.run_id} ({self.why}) held the Exact posting pool.{failed} and its pool slot is "
                f"freed; what it may have sent is looked up in Exact before anything is posted again.")


def free_dead_runs(instance: dg.DagsterInstance, store: StateStore, *, actor: str) -> list[DeadRun]:
    """Releases the claims of every dead posting run, marks its Dagster run failed and frees its pool slots."""
    freed: list[DeadRun] = []
    now = datetime.now(tz=UTC)
    for claimant in claims.unreleased(store):
        why = _why_dead(claimant, now)
        if why is None:
            continue
        claims.release_dead(store, claimant, actor=actor, why=why)
        run = instance.get_run_by_id(claimant.run_id)
        marked = run is not None and not run.is_finished
        if marked:
            instance.report_run_failed(run, f"The run's process died while it was posting to Exact ({why}); "
                                            f"marked failed by {actor}. Rerun it: nothing is posted twice.")
        if run is not None:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        freed.append(DeadRun(claimant.run_id, claimant.host, claimant.pid, why, marked))
    return freed


def _why_dead(claimant: claims.ClaimantRecord, now: datetime) -> str | None:
    if claimant.process_gone():
        return f"process {claimant.pid} on {claimant.host} is gone"
    if claims.aware(claimant.expires_at) + REMOTE_GRACE < now:
        return f"its claim on {claimant.host} has not been renewed since {claimant.expires_at:%Y-%m-%d %H:%M:%S}"
    return None


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Frees the Exact posting pool from runs whose process died mid-posting: marks them failed "
                       "and frees their slots, so later posting runs do not wait for them forever.")
def dead_run_sweep(context: dg.SensorEvaluationContext, state: StateDatabase) -> dg.SkipReason:
    freed = free_dead_runs(context.instance, state.store(), actor="sensor:dead_run_sweep")
    for dead in freed:
        context.log.warning(dead.explain())
    return dg.SkipReason(" ".join(d.explain() for d in freed) or "no posting run died")
