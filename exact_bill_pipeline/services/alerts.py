"""Alerting a person: failed runs and a growing failure queue, de-duplicated and rate-limited across ticks."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from exact_bill_pipeline.clients.alerts import AlertChannel, AlertNotSent
from exact_bill_pipeline.domain import alerts as policy
from exact_bill_pipeline.domain.alerts import Alert, AlertLog
from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state import cursors
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue

log = logging.getLogger(__name__)
LOG_NAME = "alerts:log"


class AlertDesk:
    """Sends alerts through the configured channels, at most one message per interval, the rest as a digest."""

    def __init__(self, store: StateStore, channels: Sequence[AlertChannel], *, interval: timedelta,
                 queue_growth: int) -> None:
        self.store, self.channels, self.interval, self.queue_growth = store, channels, interval, queue_growth

    def run_failed(self, run_id: str, job: str, why: str, *, now: datetime | None = None) -> Alert | None:
        """A failed run, alerted once; returns the message sent now, if one was."""
        alert = Alert(f"exact_bill_pipeline: {job} run {run_id[:8]} failed",
                      f"Run {run_id} of {job} failed: {REDACTOR.text(why)[:2000]}\n\nOpen it in the Dagster UI; a "
                      f"rerun posts nothing twice.")
        return self._admit(alert, f"run:{run_id}", now)

    def queue_check(self, *, now: datetime | None = None) -> Alert | None:
        """Alerts when the failure queue gained more than the threshold since it last did; else sends a digest due."""
        queue = FailureQueue(self.store)
        counts = queue.counts_by_reason()
        waiting = sum(counts.values())
        state = self._load()
        if policy.queue_grew(waiting, state, self.queue_growth):
            reasons = ", ".join(f"{n} {kind} {reason}" for (kind, reason), n in sorted(counts.items()))
            alert = Alert(f"exact_bill_pipeline: {waiting - state.queue_baseline} new item(s) in the failure queue",
                          f"{waiting} item(s) wait in the failure queue ({reasons}). Work them in the Dagster UI "
                          f"(asset failure_queue) or with `exact-bill failures list`.")
            self._save(_with_baseline(state, waiting))
            return self._admit(alert, f"queue:{waiting}", now)
        if waiting < state.queue_baseline:
            self._save(_with_baseline(state, waiting))
        return self.flush(now=now)

    def flush(self, *, now: datetime | None = None) -> Alert | None:
        message, state = policy.flush(self._load(), now or datetime.now(tz=UTC), self.interval)
        return self._send(message, state)

    def _admit(self, alert: Alert, key: str, now: datetime | None) -> Alert | None:
        message, state = policy.admit(self._load(), alert, key, now or datetime.now(tz=UTC), self.interval)
        return self._send(message, state)

    def _send(self, message: Alert | None, state: AlertLog) -> Alert | None:
        if message is not None:
            for channel in self.channels:
                try:
                    channel.send(message)
                except AlertNotSent as error:
                    log.warning("%s", error)
        self._save(state)
        return message

    def _load(self) -> AlertLog:
        with self.store.transaction() as conn:
            text = cursors.get(conn, LOG_NAME)
        return AlertLog.from_json(json.loads(text)) if text else AlertLog()

    def _save(self, state: AlertLog) -> None:
        with self.store.exclusive() as conn:
            cursors.put(conn, LOG_NAME, json.dumps(state.as_json()))


def _with_baseline(state: AlertLog, waiting: int) -> AlertLog:
    return replace(state, queue_baseline=waiting)
