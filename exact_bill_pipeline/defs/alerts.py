"""Alert sensors: a person is told when a run fails or the failure queue grows, without opening the UI."""

from __future__ import annotations

import dagster as dg

from exact_bill_pipeline.defs.resources import AlertSettings, StateDatabase


def _why(context: dg.RunFailureSensorContext) -> str:
    """The failed step's own words (a posting run says what stopped it and what it had posted), else the run's."""
    for event in context.get_step_failure_events():
        data = event.event_specific_data
        described = getattr(getattr(data, "user_failure_data", None), "description", None)
        if described:
            return described
        if getattr(data, "error", None) is not None:
            return data.error.message.strip().splitlines()[-1]
    return context.failure_event.message or "no reason given"


@dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       minimum_interval_seconds=30,
                       description="Tells a person (e-mail, webhook) that a run failed, with why; at most one message "
                                   "per interval, the rest as one digest (EXACT_BILL_ALERT_*).")
def alert_on_run_failure(context: dg.RunFailureSensorContext, state: StateDatabase, alerts: AlertSettings) -> None:
    if not alerts.channels():
        return
    run = context.dagster_run
    alerts.desk(state.store()).run_failed(run.run_id, run.job_name, _why(context))


@dg.sensor(name="alert_on_queue_growth", default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=300,
           description="Tells a person when the failure queue gained more than EXACT_BILL_ALERT_QUEUE_GROWTH items "
                       "since the last such alert, and sends the digest of alerts held back.")
def alert_on_queue_growth(context: dg.SensorEvaluationContext, state: StateDatabase,
                          alerts: AlertSettings) -> dg.SkipReason:
    if not alerts.channels():
        return dg.SkipReason("no alert channel is set (EXACT_BILL_ALERT_SMTP_HOST, EXACT_BILL_ALERT_WEBHOOK_URL)")
    sent = alerts.desk(state.store()).queue_check()
    return dg.SkipReason(f"sent: {sent.subject}" if sent else "nothing new to tell")
