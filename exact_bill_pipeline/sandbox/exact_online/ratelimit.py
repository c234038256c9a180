"""Exact's API limits per app and division: minutely and daily call budgets, and the error block.

Minutely windows are fixed on minute boundaries and daily ones on UTC days; resets are epoch milliseconds
(api-reference §3). Refused calls do not count.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.exact_online.edm import DAY_MS
from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings

MINUTE_MS = 60_000
ERROR_WINDOW_SECONDS = 3600


@dataclass
class Window:
    """The calls one app made in one division in the current minute and the current UTC day."""

    minute: int = -1
    minute_calls: int = 0
    day: int = -1
    day_calls: int = 0


class RateLimiter:
    """Call budgets and error blocks of every app, by division."""

    def __init__(self, settings: ExactSandboxSettings, clock: SandboxClock) -> None:
        self.settings = settings
        self.clock = clock
        self._windows: dict[tuple[str, int], Window] = {}
        self._errors: dict[tuple[str, int, str], deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self.blocks = 0

    def _window(self, client_id: str, division: int) -> Window:
        now = self.clock.now_ms()
        window = self._windows.setdefault((client_id, division), Window())
        if window.minute != now // MINUTE_MS:
            window.minute, window.minute_calls = now // MINUTE_MS, 0
        if window.day != now // DAY_MS:
            window.day, window.day_calls = now // DAY_MS, 0
        return window

    def admit(self, client_id: str, division: int) -> str | None:
        """Counts the call, or names the spent budget ("daily" or "minutely") and counts nothing."""
        window = self._window(client_id, division)
        if window.day_calls >= self.settings.daily_limit:
            return "daily"
        if window.minute_calls >= self.settings.minutely_limit:
            return "minutely"
        window.minute_calls += 1
        window.day_calls += 1
        return None

    def daily_headers(self, client_id: str, division: int) -> dict[str, str]:
        window = self._window(client_id, division)
        return {
            "X-RateLimit-Limit": str(self.settings.daily_limit),
            "X-RateLimit-Remaining": str(max(self.settings.daily_limit - window.day_calls, 0)),
            "X-RateLimit-Reset": str((window.day + 1) * DAY_MS),
        }

    def minutely_headers(self, client_id: str | None = None, division: int | None = None) -> dict[str, str]:
        if client_id is None or division is None:
            calls, minute = self.settings.minutely_limit, self.clock.now_ms() // MINUTE_MS
        else:
            window = self._window(client_id, division)
            calls, minute = window.minute_calls, window.minute
        return {
            "X-RateLimit-Minutely-Limit": str(self.settings.minutely_limit),
            "X-RateLimit-Minutely-Remaining": str(max(self.settings.minutely_limit - calls, 0)),
            "X-RateLimit-Minutely-Reset": str((minute + 1) * MINUTE_MS),
        }

    def headers(self, client_id: str, division: int) -> dict[str, str]:
        return {**self.daily_headers(client_id, division), **self.minutely_headers(client_id, division)}

    def refusal(self, spent: str, client_id: str | None = None, division: int | None = None) -> Response:
        """429 with an empty body. When the minute is spent only the minutely headers come along (observed);
        when the day is spent, only the daily ones (UNCONFIRMED which; the mirror image is the sandbox's choice)."""
        if spent == "daily" and client_id is not None and division is not None:
            headers = self.daily_headers(client_id, division)
        else:
            headers = self.minutely_headers(client_id, division)
        return Response(b"", status_code=429, headers=headers)

    # ----- the error block ---------------------------------------------------------------------------------------
    def record_error(self, client_id: str, division: int, endpoint: str) -> None:
        """Errors per app, division and endpoint in the last hour; more than the threshold blocks the app.

        UNCONFIRMED details: the hour is a sliding window, an endpoint is its path whatever the method, and errors
        keep counting after a block, so an app that goes on failing is blocked again at once.
        """
        threshold = self.settings.error_block_threshold
        if threshold <= 0:
            return
        now = self.clock.now()
        errors = self._errors.setdefault((client_id, division, endpoint), deque())
        errors.append(now)
        while errors and errors[0] <= now - ERROR_WINDOW_SECONDS:
            errors.popleft()
        if len(errors) > threshold:
            self._blocked_until[client_id] = now + self.settings.error_block_seconds
            self.blocks += 1

    def blocked_until(self, client_id: str) -> float | None:
        until = self._blocked_until.get(client_id)
        return until if until is not None and until > self.clock.now() else None

    def snapshot(self) -> dict[str, Any]:
        windows = {f"{client} {division}": {"minute_calls": w.minute_calls, "day_calls": w.day_calls}
                   for (client, division), w in self._windows.items()}
        errors = {f"{c} {d} {e}": len(q) for (c, d, e), q in self._errors.items()}
        blocked = {c: until for c, until in self._blocked_until.items() if until > self.clock.now()}
        return {"windows": windows, "errors_last_hour": errors, "blocked_until": blocked, "blocks": self.blocks}
