"""The errors every client raises: each says what happened, what it affects and what to do next."""

from __future__ import annotations

from datetime import UTC, datetime


class ApiError(RuntimeError):
    """A call to Exact Online or BILL failed. The message is already redacted."""

    def __init__(self, message: str, *, system: str, status: int | None = None, endpoint: str = "") -> None:
        super().__init__(message)
        self.system = system
        self.status = status
        self.endpoint = endpoint


class TransientApiError(ApiError):
    """The service kept failing in a way that may pass (5xx, timeouts, rate limits) after every retry."""


class UncertainOutcome(ApiError):
    """A write may or may not have been applied (timeout, lost response): look it up before writing again."""


class Refused(ApiError):
    """The service answered a write with a refusal of this one record (a 400, 403, 404 or 500 about it).

    Sending it again unchanged will be refused again; ``lines`` are the service's own words.
    """

    def __init__(self, message: str, *, system: str, lines: list[str], status: int | None = None,
                 endpoint: str = "") -> None:
        super().__init__(message, system=system, status=status, endpoint=endpoint)
        self.lines = lines


class ValidationFailed(Refused):
    """The service refused the data by a business rule (Exact answers these with HTTP 500)."""


class AccessForbidden(ApiError):
    """The service refuses this app or user every call in the division (blocked, licence expired, no access)."""


class NotFound(ApiError):
    """The record or endpoint does not exist."""


class AuthenticationFailed(ApiError):
    """The credentials were refused."""


class ReauthorizationRequired(AuthenticationFailed):
    """The stored authorization can no longer be used; a person must consent again."""

    told: str = ""  # what the service said, for messages that reword the error


class BudgetExhausted(RuntimeError):
    """Spending more API calls now would break a limit; the run stops cleanly and can resume later."""

    def __init__(self, message: str, *, resume_at: datetime | None) -> None:
        super().__init__(message)
        self.resume_at = resume_at


def format_moment(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
