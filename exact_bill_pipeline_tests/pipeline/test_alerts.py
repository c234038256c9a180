"""Alerts a person gets without opening the UI: a failed run and a growing queue, once, rate-limited, secret-free."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from exact_bill_pipeline.defs.alerts import alert_on_queue_growth, alert_on_run_failure
from exact_bill_pipeline.defs.resources import AlertSettings
from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import control
from exact_bill_pipeline_tests.pipeline.test_recovery import busiest_day, only

SMTP_PASSWORD = "smtp-secret-9f3c"
TOKEN_IN_AN_ERROR = "tok_live_5b1e7a"


class Inbox:
    """A local SMTP server's mailbox."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


def settings(port: int, webhook_url: str, **changes: object) -> AlertSettings:
    return AlertSettings(**{"smtp_host": "127.0.0.1", "smtp_port": port, "email_to": ["ap@example.com"],
                            "webhook_url": webhook_url, "queue_growth": 10, "interval_minutes": 30, **changes})


def failed_run(pipeline) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    day, _ = busiest_day(pipeline)
    control(pipeline.running, "exact", "POST", "faults", {"kind": "error", "status": 403, "reason": "LicenseExpired",
                                                          "path": "purchaseentry/PurchaseEntries", "count": None})
    result = pipeline.run(selection=only("exact_purchase_entries"), partition=day, raise_on_error=False)
    control(pipeline.running, "exact", "DELETE", "faults")
    failure = next(e for e in result.all_events if e.is_run_failure)
    return pipeline.instance.get_run_by_id(result.run_id), failure


def sense_failure(pipeline, run: dg.DagsterRun, failure: dg.DagsterEvent, alerts: AlertSettings) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_event=failure, dagster_instance=pipeline.instance,
        dagster_run=run, resources={"state": pipeline.resources["state"], "alerts": alerts}).for_run_failure()
    alert_on_run_failure(context)


def test_a_failed_run_is_told_once_by_email_and_webhook_with_why_and_no_secret(pipeline, smtp, webhook_catcher):
    inbox, port = smtp
    REDACTOR.register(TOKEN_IN_AN_ERROR)
    alerts = settings(port, webhook_catcher.url, smtp_password=SMTP_PASSWORD)
    with dg.instance_for_test() as instance:
        pipeline.instance = instance
        run, failure = failed_run(pipeline)

        sense_failure(pipeline, run, failure, alerts)
        sense_failure(pipeline, run, failure, alerts)  # the same run again: told once

    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["Subject"] == f"exact_bill_pipeline: __ephemeral_asset_job__ run {run.run_id[:8]} failed"
    body = mail.get_payload()
    assert run.run_id in body
    assert "LicenseExpired" in body
    hooks = webhook_catcher.wait_for(1)
    assert len(hooks) == 1
    assert b"LicenseExpired" in hooks[0].body
    for secret in (SMTP_PASSWORD, webhook_catcher.url, TOKEN_IN_AN_ERROR):
        assert secret not in body
        assert secret.encode() not in hooks[0].body


def test_a_bad_night_sends_a_few_messages_not_hundreds(pipeline, smtp, webhook_catcher):
    inbox, port = smtp
    desk = settings(port, webhook_catcher.url).desk(pipeline.store)
    night = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    for minute in range(120):  # a failing run every minute for two hours
        desk.run_failed(f"run-{minute}", "payables_sync", "Exact Online did not answer properly",
                        now=night + timedelta(minutes=minute))
    desk.flush(now=night + timedelta(minutes=150))

    assert len(inbox.messages) == 5  # the first at once, then one digest per half hour
    assert inbox.messages[1]["Subject"] == "exact_bill_pipeline: 30 alerts"
    digest = inbox.messages[1].get_payload()
    assert "payables_sync run run-1 failed" in digest
    assert "... and 19 more" in digest
    assert len(webhook_catcher.wait_for(5)) == 5


def test_a_growing_queue_is_told_when_it_grew_past_the_threshold_and_not_again(pipeline, smtp, webhook_catcher):
    inbox, port = smtp
    pipeline.sync_everything()
    resources = {"state": pipeline.resources["state"], "alerts": settings(port, webhook_catcher.url)}
    with dg.instance_for_test() as instance:
        first = alert_on_queue_growth(dg.build_sensor_context(instance=instance, resources=resources))
        again = alert_on_queue_growth(dg.build_sensor_context(instance=instance, resources=resources))

    assert "new item(s) in the failure queue" in first.skip_message
    assert again.skip_message == "nothing new to tell"
    assert len(inbox.messages) == 1
    assert "exact-bill failures list" in inbox.messages[0].get_payload()


def test_without_a_channel_nothing_is_sent_and_the_sensor_says_why(pipeline):
    resources = {"state": pipeline.resources["state"], "alerts": AlertSettings()}
    with dg.instance_for_test() as instance:
        tick = alert_on_queue_growth(dg.build_sensor_context(instance=instance, resources=resources))
    assert "no alert channel is set" in tick.skip_message
