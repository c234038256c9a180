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

    def spend(self, purpose: Purpose = "read") -> None:
        """Takes one call from the budget, waiting for the next minute if this one is spent.

        Raises BudgetExhausted when the day is spent, or when only the posting reserve is left and the
        call is not a posting.
        """
        if not self.limits.enabled:
            return
        while True:
            with self.store.exclusive() as conn:
                row, now = self._current_row(conn)
                day_left = self.limits.daily - row["period_calls"]
                floor = 0 if purpose == "posting" else self.limits.posting_reserve
                if day_left <= floor:
                    raise self._exhausted(day_left, purpose, row, now)
                if row["minute_calls"] < self.limits.minutely:
                    row["period_calls"] += 1
                    row["minute_calls"] += 1
                    self._save(conn, row, now)
                    return
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

    def figures(self) -> BudgetFigures:
        with self.store.transaction() as conn:
            row, now = self._current_row(conn, lock=False)
        day_limit = self.limits.daily
        return BudgetFigures(
            day_spent=row["period_calls"],
            day_left=max(day_limit - row["period_calls"], 0),
            minute_spent=row["minute_calls"],
            minute_left=max(self.limits.minutely - row["minute_calls"], 0),
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

    def _exhausted(self, day_left: int, purpose: Purpose, row: dict[str, Any], now: float) -> BudgetExhausted:
        resume = _next_midnight(now)
        if row.get("server_day_reset_ms"):
            resume = datetime.fromtimestamp(row["server_day_reset_ms"] / 1000, tz=UTC)
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
