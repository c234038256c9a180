"""When to tell a person: alerts held back and sent as one digest, so a bad night sends a few messages, not hundreds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

HELD_SUBJECTS_SHOWN = 10


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str


@dataclass(frozen=True)
class AlertLog:
    """What was sent last and what has been held back since; kept between sensor ticks."""

    last_sent: datetime | None = None
    held: tuple[Alert, ...] = ()
    held_more: int = 0  # held beyond the ones kept in full
    queue_baseline: int = 0  # open queue items when the queue last caused an alert
    sent_keys: tuple[str, ...] = field(default=())  # recent alert keys, so one event alerts once

    def as_json(self) -> dict[str, Any]:
        return {"last_sent": self.last_sent.isoformat() if self.last_sent else None,
                "held": [[a.subject, a.body] for a in self.held], "held_more": self.held_more,
                "queue_baseline": self.queue_baseline, "sent_keys": list(self.sent_keys)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertLog:
        return cls(datetime.fromisoformat(data["last_sent"]) if data.get("last_sent") else None,
                   tuple(Alert(s, b) for s, b in data.get("held", [])), int(data.get("held_more", 0)),
                   int(data.get("queue_baseline", 0)), tuple(data.get("sent_keys", [])))


def admit(log: AlertLog, alert: Alert, key: str, now: datetime, interval: timedelta) -> tuple[Alert | None, AlertLog]:
    """The message to send now for a new alert (it, or a digest with what was held), and the log after it.

    An alert seen before (same key) is dropped; within ``interval`` of the last message it is held.
    """
    if key in log.sent_keys:
        return None, log
    log = replace(log, sent_keys=(*log.sent_keys, key)[-200:])
    if log.last_sent is not None and now - log.last_sent < interval:
        if len(log.held) < HELD_SUBJECTS_SHOWN:
            return None, replace(log, held=(*log.held, alert))
        return None, replace(log, held_more=log.held_more + 1)
    return _with_held(log, alert, now)


def flush(log: AlertLog, now: datetime, interval: timedelta) -> tuple[Alert | None, AlertLog]:
    """The digest of what was held, once the interval since the last message has passed."""
    if not log.held or (log.last_sent is not None and now - log.last_sent < interval):
        return None, log
    return _with_held(log, None, now)


def queue_grew(open_items: int, log: AlertLog, threshold: int) -> bool:
    """True when the queue gained more than ``threshold`` items since it last caused an alert."""
    return open_items - log.queue_baseline > threshold


def _with_held(log: AlertLog, alert: Alert | None, now: datetime) -> tuple[Alert, AlertLog]:
    alerts = [*log.held, *([alert] if alert else [])]
    if len(alerts) == 1 and not log.held_more:
        message = alerts[0]
    else:
        count = len(alerts) + log.held_more
        lines = [f"- {a.subject}" for a in alerts] + ([f"- ... and {log.held_more} more"] if log.held_more else [])
        message = Alert(f"exact_bill_pipeline: {count} alerts", "\n".join(lines) + "\n\n" + alerts[-1].body)
    return message, replace(log, last_sent=now, held=(), held_more=0)
