"""The API call budget of one scope (an Exact division), per day and per minute, shared by every run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.schema import call_budget
from exact_bill_pipeline.transport.errors import BudgetExhausted, format_moment

Purpose = Literal["read", "posting"]
# Exact's minutely window is fixed on minute boundaries; never wait longer than one window.
MAX_MINUTE_WAIT = 61.0
MAX_CLAIM = 100


@dataclass
class _Allowance:
    """Calls claimed from the shared budget and not made yet, valid within the minute they were claimed in."""

    day: str
    minute_start: int
    calls: int
    floor: int  # the day's calls that had to stay untouched when they were claimed

    def usable(self, now: float, floor: int) -> bool:
        return self.calls > 0 and self.minute_start == int(now // 60) * 60 and self.floor >= floor


@dataclass(frozen=True)
class BudgetLimits:
    """How many calls a scope may spend; ``posting_reserve`` of each day's calls is kept for postings."""

    daily: int = 5000
    minutely: int = 60
    posting_reserve: int = 250
    enabled: bool = True


@dataclass(frozen=True)
class BudgetFigures:
    """Spent and left, as a person wants to see them."""

    day_spent: int
    day_left: int
    minute_spent: int
    minute_left: int
    resets_at: datetime

    def as_metadata(self) -> dict[str, Any]:
        return {
            "api_calls_spent_today": self.day_spent,
            "api_calls_left_today": self.day_left,
            "api_budget_resets_at": format_moment(self.resets_at),
        }


class CallBudget:
    """Counts calls in the state database before they are made, and waits or stops before a limit."""

    def __init__(
        self,
        store: StateStore,
        scope: str,
        limits: BudgetLimits,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        label: str | None = None,
    ) -> None:
        self.store = store
        self.scope = scope
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.label = label or scope
        # A busy process claims calls from the shared budget a few at a time, so that it does not write the
        # database on every call: the claim doubles while claims run out within their minute, and falls
        # back to one call otherwise. Unused calls go back to the budget at the next claim.
        self.max_claim = max(1, min(MAX_CLAIM, limits.minutely // 6))
        self._next_claim = 1
        self._allowance: _Allowance | None = None
        self._known: tuple[str, int, int, int] | None = None  # (day, minute, day calls, minute calls) stored
        self._day_reset_ms: int | None = None

    def spend(self, purpose: Purpose = "read") -> None:
        """Takes one call from the budget, waiting for the next minute if this one is spent.

        Raises BudgetExhausted when the day is spent, or when only the posting reserve is left and the
        call is not a posting.
        """
        if not self.limits.enabled:
            return
        floor = 0 if purpose == "posting" else self.limits.posting_reserve
        allowance = self._allowance
        if allowance is not None and allowance.usable(self.clock(), floor):
            allowance.calls -= 1
            return
        while True:
            with self.store.exclusive() as conn:
                row, now = self._current_row(conn)
                self._return_unused(row)
                day_left = self.limits.daily - row["period_calls"]
                if day_left <= floor:
                    self._save(conn, row, now)
                    raise self._exhausted(day_left, purpose, row, now)
                minute_left = self.limits.minutely - row["minute_calls"]
                if minute_left > 0:
                    claim = min(self._next_claim, minute_left, day_left - floor)
                    row["period_calls"] += claim
                    row["minute_calls"] += claim
                    self._save(conn, row, now)
                    self._allowance = _Allowance(row["period"], row["minute_start"], claim - 1, floor)
                    return
                self._save(conn, row, now)
                wait = min(row["minute_start"] + 60 - now, MAX_MINUTE_WAIT)
            self.sleep(max(wait, 0.05))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Aligns the counts with what the service says it has counted (other apps or runs may spend too)."""
        if not self.limits.enabled:
            return
        day_limit, day_left = _int(headers, "X-RateLimit-Limit"), _int(headers, "X-RateLimit-Remaining")
        minute_limit = _int(headers, "X-RateLimit-Minutely-Limit")
        minute_left = _int(headers, "X-RateLimit-Minutely-Remaining")
        if day_left is None and minute_left is None:
            return
        self._day_reset_ms = _int(headers, "X-RateLimit-Reset") or self._day_reset_ms
        if self._already_counted(day_limit, day_left, minute_limit, minute_left):
            return
        with self.store.exclusive() as conn:
            row, now = self._current_row(conn)
            if day_left is not None:
                row["server_day_remaining"] = day_left
                row["server_day_reset_ms"] = _int(headers, "X-RateLimit-Reset")
                if day_limit is not None:
                    row["period_calls"] = max(row["period_calls"], min(day_limit, self.limits.daily) - day_left)
            if minute_left is not None:
                row["server_minute_remaining"] = minute_left
                row["server_minute_reset_ms"] = _int(headers, "X-RateLimit-Minutely-Reset")
                if minute_limit is not None:
                    spent = min(minute_limit, self.limits.minutely) - minute_left
                    row["minute_calls"] = max(row["minute_calls"], spent)
            self._save(conn, row, now)

    def _return_unused(self, row: dict[str, Any]) -> None:
        """Gives back what this process claimed and did not use, and sizes the next claim."""
        allowance, self._allowance = self._allowance, None
        if allowance is None:
            return
        used_up_in_time = allowance.calls == 0 and allowance.minute_start == row["minute_start"]
        self._next_claim = min(self._next_claim * 2, self.max_claim) if used_up_in_time else 1
        if allowance.calls and allowance.day == row["period"]:
            row["period_calls"] = max(row["period_calls"] - allowance.calls, 0)
            if allowance.minute_start == row["minute_start"]:
                row["minute_calls"] = max(row["minute_calls"] - allowance.calls, 0)

    def _already_counted(self, day_limit: int | None, day_left: int | None, minute_limit: int | None,
                         minute_left: int | None) -> bool:
        """True when our stored counts are at least what the service counted: nothing to write."""
        if self._known is None:
            return False
        day, minute_start, day_calls, minute_calls = self._known
        now = self.clock()
        if day != datetime.fromtimestamp(now, tz=UTC).date().isoformat() or minute_start != int(now // 60) * 60:
            return False
        server_day = None if day_limit is None or day_left is None else min(day_limit, self.limits.daily) - day_left
        server_minute = (None if minute_limit is None or minute_left is None
                         else min(minute_limit, self.limits.minutely) - minute_left)
        return (server_day is None or server_day <= day_calls) and (
            server_minute is None or server_minute <= minute_calls)

    def figures(self) -> BudgetFigures:
        with self.store.transaction() as conn:
            row, now = self._current_row(conn, lock=False)
        day_limit = self.limits.daily
        # Calls this process claimed but has not made yet are not spent.
        unused = self._allowance.calls if self._allowance and self._allowance.day == row["period"] else 0
        minute_unused = unused if self._allowance and self._allowance.minute_start == row["minute_start"] else 0
        return BudgetFigures(
            day_spent=row["period_calls"] - unused,
            day_left=max(day_limit - row["period_calls"] + unused, 0),
            minute_spent=row["minute_calls"] - minute_unused,
            minute_left=max(self.limits.minutely - row["minute_calls"] + minute_unused, 0),
            resets_at=_next_midnight(now),
        )

    def _current_row(self, conn: sa.Connection, *, lock: bool = True) -> tuple[dict[str, Any], float]:
        """The scope's counters with the day and minute windows rolled over to now."""
        now = self.clock()
        query = sa.select(call_budget).where(call_budget.c.scope == self.scope)
        found = conn.execute(query.with_for_update() if lock else query).mappings().first()
        row = dict(found) if found else {
            "scope": self.scope, "period": "", "period_calls": 0, "minute_start": 0, "minute_calls": 0,
            "server_day_remaining": None, "server_day_reset_ms": None, "server_minute_remaining": None,
            "server_minute_reset_ms": None, "_new": True,
        }
        today = datetime.fromtimestamp(now, tz=UTC).date().isoformat()
        if row["period"] != today:
            row.update(period=today, period_calls=0, server_day_remaining=None, server_day_reset_ms=None)
        minute_start = int(now // 60) * 60
        if row["minute_start"] != minute_start:
            row.update(minute_start=minute_start, minute_calls=0, server_minute_remaining=None,
                       server_minute_reset_ms=None)
        return row, now

    def _save(self, conn: sa.Connection, row: dict[str, Any], now: float) -> None:
        values = {k: v for k, v in row.items() if k not in {"scope", "_new"}}
        values["updated_at"] = datetime.fromtimestamp(now, tz=UTC)
        if row.get("_new"):
            conn.execute(sa.insert(call_budget).values(scope=self.scope, **values))
            row.pop("_new")
        else:
            conn.execute(sa.update(call_budget).where(call_budget.c.scope == self.scope).values(**values))
        self._known = (row["period"], row["minute_start"], row["period_calls"], row["minute_calls"])

    def _exhausted(self, day_left: int, purpose: Purpose, row: dict[str, Any], now: float) -> BudgetExhausted:
        resume = _next_midnight(now)
        reset_ms = row.get("server_day_reset_ms") or self._day_reset_ms
        if reset_ms:
            resume = datetime.fromtimestamp(reset_ms / 1000, tz=UTC)
        if day_left > 0:
            what = (f"{self.label} has {day_left} API calls left today, kept in reserve for postings, so "
                    f"{purpose} calls stop here")
        else:
            what = f"{self.label} has spent its {self.limits.daily} API calls for today"
        return BudgetExhausted(
            f"{what}. Nothing half-done was written; run again after {format_moment(resume)} to continue.",
            resume_at=resume,
        )


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _next_midnight(now: float) -> datetime:
    today = datetime.fromtimestamp(now, tz=UTC).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
