"""The sandbox clock: wall-clock time plus an offset that tests and demos can move."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SandboxClock:
    """Time as both sandboxes see it; moving it forward ages tokens and sessions in seconds, not minutes."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, sandbox time."""
        with self._lock:
            return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        """Moves sandbox time forward (or back, with a negative value); returns the new time."""
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset

    def set(self, epoch_seconds: float) -> float:
        """Jumps sandbox time to an absolute moment; returns it."""
        with self._lock:
            self._offset = epoch_seconds - time.time()
            return epoch_seconds

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset
