"""Exact's clock as this process sees it, from the Date header of Exact's answers: machines disagree about time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import requests


def date_of(response: requests.Response) -> float | None:
    """The response's Date header as seconds since the epoch (whole seconds, as sent), or None."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


class ServerClock:
    """How far Exact's clock is from ours, bounded from every answer; without an answer yet, ours is taken.

    A Date header is Exact's time, rounded down to the second, when it sent the answer; we read it after
    the round trip. So each answer bounds the offset to [Date - received, Date + 1 + round trip - received],
    and the bounds of many answers narrow it down. The lower bound is used: Exact's time is never
    overestimated, so a refresh timed on it is never early.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._low: float | None = None
        self._high: float | None = None
        self._lock = threading.Lock()

    @property
    def known(self) -> bool:
        return self._low is not None

    def observe(self, response: requests.Response) -> None:
        sent = date_of(response)
        if sent is None:
            return
        received = self.clock()
        low, high = sent - received, sent + 1.0 + response.elapsed.total_seconds() - received
        with self._lock:
            if self._low is None or self._high is None or low > self._high or high < self._low:
                self._low, self._high = low, high  # the first answer, or one of the clocks was set
            else:
                self._low, self._high = max(self._low, low), min(self._high, high)

    def now(self) -> float:
        """Exact's time now, as far as we know it (never ahead of it once an answer has been seen)."""
        return self.clock() + (self._low or 0.0)
