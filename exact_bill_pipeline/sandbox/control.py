"""The control surface both sandboxes share under /_sandbox: the clock, fault switches and counters."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.counters import Counters
from exact_bill_pipeline.sandbox.faults import FaultBook, FaultSpecError, parse_fault
from exact_bill_pipeline.sandbox.middleware import CONTROL_PREFIX


class ControlError(Exception):
    """A control-surface request that cannot be carried out; answered as 400 with the reason."""


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a ControlError that says what is wrong with it."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ControlError(f"body is not valid JSON: {exc.msg}") from exc
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def control_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def shared_control_routes(clock: SandboxClock, faults: FaultBook, counters: Counters) -> list[Route]:
    """Routes for the clock, faults and counters; each sandbox mounts them next to its own."""

    async def clock_state(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                body = await read_json_object(request)
                if "advance" in body:
                    clock.advance(_number(body["advance"], "advance"))
                elif "set" in body:
                    clock.set(_number(body["set"], "set"))
                else:
                    raise ControlError("send {'advance': seconds} or {'set': epoch_seconds}")
            except ControlError as exc:
                return control_error(str(exc))
        return JSONResponse({"now": clock.now(), "now_ms": clock.now_ms(), "offset": clock.offset})

    async def fault_list(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                rule = faults.add(parse_fault(await read_json_object(request)))
            except (ControlError, FaultSpecError) as exc:
                return control_error(str(exc))
            return JSONResponse(rule.public(), status_code=201)
        if request.method == "DELETE":
            faults.clear()
        return JSONResponse({"faults": [rule.public() for rule in faults.rules()]})

    async def counter_state(request: Request) -> JSONResponse:
        snapshot = counters.snapshot()
        if request.method == "DELETE":
            counters.reset()
        return JSONResponse(snapshot)

    return [
        Route(f"{CONTROL_PREFIX}/clock", clock_state, methods=["GET", "POST"]),
        Route(f"{CONTROL_PREFIX}/faults", fault_list, methods=["GET", "POST", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/counters", counter_state, methods=["GET", "DELETE"]),
    ]


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{name} must be a number of seconds")
    return float(value)
