"""The Exact Online sandbox as an ASGI app: the seeded division, OAuth, REST API, middleware and control routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.control import control_error, shared_control_routes
from exact_bill_pipeline.sandbox.counters import Counters
from exact_bill_pipeline.sandbox.exact_online.api import ApiGateway, endpoint_name
from exact_bill_pipeline.sandbox.exact_online.control import ExactControl
from exact_bill_pipeline.sandbox.exact_online.errors import GENERIC_PROBLEM, odata_error_response
from exact_bill_pipeline.sandbox.exact_online.me import SandboxUser, division_view
from exact_bill_pipeline.sandbox.exact_online.oauth import OAuthServer
from exact_bill_pipeline.sandbox.exact_online.postings import Postings
from exact_bill_pipeline.sandbox.exact_online.ratelimit import RateLimiter
from exact_bill_pipeline.sandbox.exact_online.seeding import seed_division
from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore
from exact_bill_pipeline.sandbox.exact_online.webhooks import WebhookHub
from exact_bill_pipeline.sandbox.faults import FaultBook
from exact_bill_pipeline.sandbox.middleware import (
    ClockDateMiddleware,
    LatencyMiddleware,
    SandboxMiddleware,
    is_control_path,
)
from exact_bill_pipeline.sandbox.seed import DAY_MS, Firm
from exact_bill_pipeline.sandbox.settings import SandboxSettings

API_METHODS = ["GET", "POST", "PUT", "PATCH", "MERGE", "DELETE"]


def create_app(settings: SandboxSettings, clock: SandboxClock, firm: Firm) -> Starlette:
    exact = settings.exact
    user = SandboxUser.for_seed(settings.seed)
    store = DivisionStore(exact.division, clock, user.id, user.full_name)
    postings = Postings(store, exact)
    setup_ms = firm.history_start_ms - 400 * DAY_MS
    store.views.update({
        "PayablesList": postings.open_items.payables_view, "CashflowPayments": postings.open_items.payments_view,
        "JournalStatusList": postings.locks.view,
        "Divisions": lambda: division_view(exact.division, exact.currency, setup_ms),
    })
    seed_division(store, postings, settings, firm)
    oauth = OAuthServer(exact, clock)
    limiter = RateLimiter(exact, clock)
    hub = WebhookHub(settings, clock, store)
    store.listeners.append(hub.on_change)
    gateway = ApiGateway(settings, store, postings, oauth, limiter, hub, user)
    faults, counters = FaultBook(), Counters()
    routes = [
        Route("/api/oauth2/auth", oauth.authorize, methods=["GET"]),
        Route("/api/oauth2/token", oauth.token, methods=["POST"]),
        Route("/api/v1/{rest:path}", gateway.handle, methods=API_METHODS),
        *shared_control_routes(clock, faults, counters),
        *ExactControl(store, postings, oauth, limiter, hub).routes(),
    ]
    middleware = [
        Middleware(ClockDateMiddleware, clock=clock),
        Middleware(SandboxMiddleware, faults=faults, counters=counters, endpoint_name=endpoint_name,
                   error_response=fault_response, rate_limited_response=lambda: limiter.refusal("minutely")),
        Middleware(LatencyMiddleware, latency_ms=settings.latency_ms),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: _routing_error, 405: _routing_error})
    app.state.close = hub.close
    app.state.store = store
    app.state.oauth = oauth
    app.state.limiter = limiter
    app.state.webhooks = hub
    return app


def fault_response(status: int) -> Response:
    """What the `error` fault answers: Exact's generic problem text in an OData error body."""
    return odata_error_response(status, GENERIC_PROBLEM)


async def _routing_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if is_control_path(request.url.path):
        return control_error(f"no control route {request.method} {request.url.path}", status=status)
    segment = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    if status == 405:
        return odata_error_response(405, f"The HTTP method '{request.method}' is not allowed here.")
    return odata_error_response(404, f"Resource not found for the segment '{segment}'.")
