"""The BILL sandbox app: /connect/v3 (the API) and /connect-events/v3 (webhooks) on one server, plus /_sandbox."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_bill_pipeline.sandbox.bill.api import record_routes, session_routes
from exact_bill_pipeline.sandbox.bill.classifications import classification_routes
from exact_bill_pipeline.sandbox.bill.control import control_routes
from exact_bill_pipeline.sandbox.bill.errors import SYSTEM_ERROR, BillError, Problem, error_response, not_supported
from exact_bill_pipeline.sandbox.bill.events_api import event_routes
from exact_bill_pipeline.sandbox.bill.limits import SessionGate
from exact_bill_pipeline.sandbox.bill.state import BillSandbox
from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.control import control_error, shared_control_routes
from exact_bill_pipeline.sandbox.counters import Counters
from exact_bill_pipeline.sandbox.faults import FaultBook
from exact_bill_pipeline.sandbox.middleware import (
    ClockDateMiddleware,
    LatencyMiddleware,
    SandboxMiddleware,
    is_control_path,
)
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.sandbox.settings import SandboxSettings


class EndpointNames:
    """Names a request for the counters by its route template, e.g. "GET /connect/v3/bills/{id}"."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes

    def __call__(self, method: str, path: str) -> str:
        for route in self._routes:
            if route.path_regex.match(path):
                return f"{method} {route.path}"
        return f"{method} {path}"


def create_app(settings: SandboxSettings, clock: SandboxClock, firm: Firm) -> Starlette:
    sandbox = BillSandbox.build(settings, clock, firm)
    faults, counters = FaultBook(), Counters()
    api_routes = [*session_routes(sandbox), *record_routes(sandbox), *classification_routes(sandbox),
                  *event_routes(sandbox)]

    async def on_bill_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BillError)
        return error_response(clock, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if is_control_path(request.url.path):
            return control_error(f"no control route {request.method} {request.url.path}", exc.status_code)
        # BILL answers a wrong path, casing or method with BDC_1121 "API not supported" and 404 (bill.md §7).
        return error_response(clock, not_supported(request.method, request.url.path))

    def server_error(status: int) -> JSONResponse:
        return error_response(clock, BillError(status, [Problem(SYSTEM_ERROR, "System error.", "SERVER")]))

    def rate_limited() -> JSONResponse:
        # Sandbox choice: the rate_limit fault answers as the concurrency limit does (BDC_1322), the
        # transient one, rather than BDC_1144, which would mean "wait for the next hour".
        return error_response(clock, sandbox.limits.concurrency_error())

    app = Starlette(
        routes=[*api_routes, *shared_control_routes(clock, faults, counters), *control_routes(sandbox)],
        middleware=[
            Middleware(ClockDateMiddleware, clock=clock),
            Middleware(SandboxMiddleware, faults=faults, counters=counters, endpoint_name=EndpointNames(api_routes),
                       error_response=server_error, rate_limited_response=rate_limited),
            Middleware(SessionGate, settings=settings.bill, clock=clock, sessions=sandbox.sessions,
                       limits=sandbox.limits),
            Middleware(LatencyMiddleware, latency_ms=settings.latency_ms),
        ],
        exception_handlers={BillError: on_bill_error, HTTPException: on_http_error},
    )
    app.router.redirect_slashes = False  # BILL has no trailing-slash redirects: a wrong path is BDC_1121
    app.state.close = sandbox.hooks.close
    app.state.sandbox = sandbox
    return app
