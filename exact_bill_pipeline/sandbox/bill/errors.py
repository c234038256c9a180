"""BILL's v3 error envelope: a JSON array of {timestamp, code, severity, category, message} (bill.md §7)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import JSONResponse

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.seed import iso_ms

# Documented codes (bill.md §2.4, §5, §7).
BAD_CREDENTIALS = "BDC_1101"
BAD_DEV_KEY = "BDC_1102"
SESSION_INVALID = "BDC_1109"
NOT_SUPPORTED = "BDC_1121"
HOURLY_LIMIT = "BDC_1144"
NOT_FOUND = "BDC_1205"
CONCURRENCY_LIMIT = "BDC_1322"
# No v3 code is documented for a malformed request; the sandbox uses BDC_1001 (v2's "system error", the
# lead's choice) with category REQUEST and a message that names the field. Sandbox choice.
INVALID_REQUEST = "BDC_1001"
SYSTEM_ERROR = "BDC_1001"

SESSION_INVALID_MESSAGE = "Session is invalid.  Please log in."  # two spaces, as BILL documents it
CONCURRENCY_MESSAGE = "Max number of concurrent requests per organization reached."


@dataclass(frozen=True)
class Problem:
    """One entry of the error array."""

    code: str
    message: str
    category: str = "REQUEST"


class BillError(Exception):
    """A request BILL refuses; answered with the error array and ``status``."""

    def __init__(self, status: int, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.status = status
        self.problems = problems


def invalid(*messages: str) -> BillError:
    """A 400 for a malformed request, one error entry per message."""
    return BillError(400, [Problem(INVALID_REQUEST, message) for message in messages])


def not_found(kind: str, record_id: str) -> BillError:
    # BDC_1205's wording is not documented; the sandbox names the object. Sandbox choice.
    return BillError(404, [Problem(NOT_FOUND, f"{kind} {record_id} was not found.")])


def not_supported(method: str, path: str) -> BillError:
    return BillError(404, [Problem(NOT_SUPPORTED, f"API not supported: {method} {path}")])


def session_invalid() -> BillError:
    return BillError(401, [Problem(SESSION_INVALID, SESSION_INVALID_MESSAGE, "DOWNSTREAM")])


def error_body(clock: SandboxClock, problems: list[Problem]) -> list[dict[str, str]]:
    stamp = iso_ms(clock.now_ms())
    return [
        {"timestamp": stamp, "code": p.code, "severity": "ERROR", "category": p.category, "message": p.message}
        for p in problems
    ]


def error_response(clock: SandboxClock, error: BillError) -> JSONResponse:
    return JSONResponse(error_body(clock, error.problems), status_code=error.status)
