"""Keeping abusive senders out: a sender whose deliveries keep being refused is refused outright for a while."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SenderLimits:
    """Per sender: too many refused deliveries in a window block it; too many requests a second slow it.

    The receiver applies them only to deliveries that are not correctly signed (see app._guarded).
    """

    def __init__(self, *, max_refusals: int = 20, window_seconds: float = 60.0, block_seconds: float = 300.0,
                 max_per_second: int = 50, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_refusals = max_refusals
        self.window = window_seconds
        self.block_seconds = block_seconds
        self.max_per_second = max_per_second
        self.clock = clock
        self._refusals: dict[str, deque[float]] = {}
        self._recent: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def admit(self, sender: str) -> bool:
        """False when the sender is blocked or sends faster than allowed."""
        now = self.clock()
        with self._lock:
            if self._blocked_until.get(sender, 0) > now:
                return False
            recent = self._recent.setdefault(sender, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= self.max_per_second:
                return False
            recent.append(now)
            self._forget_idle(now)
            return True

    def refused(self, sender: str) -> None:
        """Counts a refused delivery; past the limit the sender is blocked."""
        now = self.clock()
        with self._lock:
            refusals = self._refusals.setdefault(sender, deque())
            refusals.append(now)
            while refusals and refusals[0] <= now - self.window:
                refusals.popleft()
            if len(refusals) >= self.max_refusals:
                self._blocked_until[sender] = now + self.block_seconds
                refusals.clear()

    def blocked(self) -> list[str]:
        now = self.clock()
        with self._lock:
            return [sender for sender, until in self._blocked_until.items() if until > now]

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded under floods from many addresses.
        if len(self._recent) > 10_000:
            for sender in [s for s, r in self._recent.items() if not r or r[-1] <= now - 1.0]:
                self._recent.pop(sender, None)
            for sender in [s for s, r in self._refusals.items() if not r or r[-1] <= now - self.window]:
                self._refusals.pop(sender, None)
            for sender in [s for s, until in self._blocked_until.items() if until <= now]:
                self._blocked_until.pop(sender, None)
