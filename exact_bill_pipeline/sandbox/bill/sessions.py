"""BILL API sessions: opaque ids that die after 35 idle minutes, sandbox time (bill.md §2.3)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from exact_bill_pipeline.sandbox.clock import SandboxClock


@dataclass
class Session:
    id: str
    dev_key: str
    organization_id: str
    user_id: str
    last_used: float


class SessionBook:
    """Open sessions; every call made with one moves its idle timer (the 35 minutes slide)."""

    def __init__(self, clock: SandboxClock, idle_seconds: float) -> None:
        self._clock = clock
        self._idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}

    def open(self, dev_key: str, organization_id: str, user_id: str) -> Session:
        session = Session(secrets.token_urlsafe(32), dev_key, organization_id, user_id, self._clock.now())
        self._sessions[session.id] = session
        return session

    def find(self, session_id: str, dev_key: str) -> Session | None:
        """The live session with this id, opened with this devKey; an expired one is forgotten."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        # Expired at exactly 35:00 idle: the stricter reading of "after 35 minutes of inactivity".
        if self._clock.now() - session.last_used >= self._idle_seconds:
            del self._sessions[session_id]
            return None
        return session if secrets.compare_digest(session.dev_key, dev_key) else None

    def touch(self, session: Session) -> None:
        session.last_used = self._clock.now()

    def close(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def count(self) -> int:
        return len(self._sessions)
