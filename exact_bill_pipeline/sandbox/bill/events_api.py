"""The /connect-events/v3 routes: event catalog, subscriptions, key rotation, test events and history (bill.md §6.1)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_bill_pipeline.sandbox.bill.bodies import Checks, read_json
from exact_bill_pipeline.sandbox.bill.delivery import is_loopback_host
from exact_bill_pipeline.sandbox.bill.errors import invalid
from exact_bill_pipeline.sandbox.bill.fields import EVENT_HISTORY, SUBSCRIPTIONS
from exact_bill_pipeline.sandbox.bill.listing import list_page, parse_list_query
from exact_bill_pipeline.sandbox.bill.state import BillSandbox
from exact_bill_pipeline.sandbox.bill.store import StaticRows, Table
from exact_bill_pipeline.sandbox.bill.webhooks import CATALOG, VERSION, SubscriptionRequest, entity_key

EVENTS_API = "/connect-events/v3"
SUBSCRIPTION_FIELDS = ("name", "status", "events", "notificationUrl")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


def event_routes(sandbox: BillSandbox) -> list[Route]:
    hooks = sandbox.hooks

    def organization(request: Request) -> str:
        return sandbox.session(request).organization_id

    async def catalog(request: Request) -> JSONResponse:
        return JSONResponse([{"type": event_type, "versions": [VERSION]} for event_type in CATALOG])

    async def create(request: Request) -> JSONResponse:
        key = idempotent_key(request)
        subscription_request = _subscription_request(sandbox, await read_json(request))
        # Webhook-API creates answer 200, not 201, and show the securityKey this once (bill.md §6.1).
        return JSONResponse(hooks.create(organization(request), key, subscription_request))

    async def list_subscriptions(request: Request) -> JSONResponse:
        query = parse_list_query(request.query_params, SUBSCRIPTIONS, sandbox.tokens,
                                 reject_unknown=sandbox.bill.reject_unknown_inputs, allow_filters=False)
        table = Table("Subscription", SUBSCRIPTIONS, StaticRows(hooks.views(organization(request))))
        return JSONResponse(list_page(table, query, sandbox.tokens, backward=False))

    async def get_subscription(request: Request) -> JSONResponse:
        return JSONResponse(hooks.get(organization(request), request.path_params["id"]))

    async def replace_subscription(request: Request) -> JSONResponse:
        wanted = _subscription_request(sandbox, await read_json(request))
        changes = {"name": wanted.name, "enabled": wanted.enabled, "events": wanted.events, "url": wanted.url}
        return JSONResponse(hooks.update(organization(request), request.path_params["id"], changes))

    async def update_subscription(request: Request) -> JSONResponse:
        changes = _subscription_changes(sandbox, await read_json(request))
        return JSONResponse(hooks.update(organization(request), request.path_params["id"], changes))

    async def delete_subscription(request: Request) -> Response:
        hooks.delete(organization(request), request.path_params["id"])
        return Response(status_code=200)

    async def rotate_key(request: Request) -> JSONResponse:
        key = idempotent_key(request)
        return JSONResponse({"securityKey": hooks.rotate_key(organization(request), request.path_params["id"], key)})

    async def send_test(request: Request) -> JSONResponse:
        subscription = hooks.get(organization(request), request.path_params["id"])
        body = await read_json(request) if (await request.body()).strip() else {}
        event_type, entity = _test_event(sandbox, body, subscription["events"][0]["type"])
        event_id = hooks.record_test(organization(request), subscription["id"], event_type, entity)
        # The receiver is called off the event loop; the answer carries the status it returned ([PM]).
        return JSONResponse(await asyncio.to_thread(hooks.deliver_now, event_id))

    async def history(request: Request) -> JSONResponse:
        query = parse_list_query(request.query_params, EVENT_HISTORY, sandbox.tokens,
                                 reject_unknown=sandbox.bill.reject_unknown_inputs, allow_filters=False)
        rows = hooks.history(organization(request), request.path_params["id"], request.query_params.get("entityId"))
        page = list_page(Table("Event", EVENT_HISTORY, StaticRows(rows)), query, sandbox.tokens, backward=False)
        page["results"] = [hooks.attempt_view(row["id"]) for row in page["results"]]
        return JSONResponse(page)

    async def resend(request: Request) -> JSONResponse:
        event_id = request.path_params["eventId"]
        hooks.check_event(organization(request), request.path_params["id"], event_id)
        return JSONResponse(await asyncio.to_thread(hooks.deliver_now, event_id))

    subscriptions = f"{EVENTS_API}/subscriptions"
    return [
        Route(f"{EVENTS_API}/events/catalog", catalog, methods=["GET"]),
        Route(f"{EVENTS_API}/events/subscription/{{id}}", history, methods=["GET"]),
        Route(f"{EVENTS_API}/events/subscription/{{id}}/event/{{eventId}}", resend, methods=["POST"]),
        Route(subscriptions, create, methods=["POST"]),
        Route(subscriptions, list_subscriptions, methods=["GET"]),
        Route(f"{subscriptions}/{{id}}", get_subscription, methods=["GET"]),
        Route(f"{subscriptions}/{{id}}", replace_subscription, methods=["PUT"]),
        Route(f"{subscriptions}/{{id}}", update_subscription, methods=["PATCH"]),
        Route(f"{subscriptions}/{{id}}", delete_subscription, methods=["DELETE"]),
        # UNCONFIRMED spelling: the collection and changelog say security_key, the rules page security-key.
        # The stricter sandbox serves only security_key.
        Route(f"{subscriptions}/{{id}}/security_key", rotate_key, methods=["POST"]),
        Route(f"{subscriptions}/{{id}}/test", send_test, methods=["POST"]),
    ]


def idempotent_key(request: Request) -> str:
    """The X-Idempotent-Key header, which must be a UUID4 (400 when missing or not one)."""
    key = request.headers.get("X-Idempotent-Key")
    if not key:
        raise invalid("The X-Idempotent-Key header is required.")
    if not _UUID4.fullmatch(key):
        raise invalid("The X-Idempotent-Key header must be a UUID4.")
    return key.lower()


def _subscription_request(sandbox: BillSandbox, body: Any) -> SubscriptionRequest:
    checks = Checks()
    obj = checks.object(body, "The subscription")
    checks.raise_if_any()
    assert obj is not None
    if sandbox.bill.reject_unknown_inputs:
        checks.known_fields(obj, SUBSCRIPTION_FIELDS, "the subscription")
    name = checks.text(obj, "name", required=True)
    enabled = _enabled(checks, obj.get("status"))
    events = _events(checks, obj.get("events"))
    url = _notification_url(checks, sandbox, obj.get("notificationUrl"))
    checks.raise_if_any()
    assert name is not None
    assert enabled is not None
    assert url is not None
    return SubscriptionRequest(name, enabled, events, url)


def _subscription_changes(sandbox: BillSandbox, body: Any) -> dict[str, Any]:
    checks = Checks()
    obj = checks.object(body, "The update")
    checks.raise_if_any()
    assert obj is not None
    if "events" in obj:
        checks.fail("PATCH changes name, status and notificationUrl; replace the events with PUT.")
    if sandbox.bill.reject_unknown_inputs:
        checks.known_fields(obj, SUBSCRIPTION_FIELDS, "the update")
    changes: dict[str, Any] = {}
    if "name" in obj:
        changes["name"] = checks.text(obj, "name", required=True)
    if "status" in obj:
        changes["enabled"] = _enabled(checks, obj["status"])
    if "notificationUrl" in obj:
        changes["url"] = _notification_url(checks, sandbox, obj["notificationUrl"])
    checks.raise_if_any()
    return changes


def _enabled(checks: Checks, status: Any) -> bool | None:
    if status is None:
        checks.fail("status is required, as {\"enabled\": true}.")
        return None
    obj = checks.object(status, "status")
    if obj is None:
        return None
    checks.known_fields(obj, ("enabled",), "status")
    return checks.flag(obj, "enabled", required=True, label="status.enabled")


def _events(checks: Checks, events: Any) -> tuple[str, ...]:
    if not isinstance(events, list) or not events:
        checks.fail("events must be a non-empty list of {\"type\": ..., \"version\": \"1\"}.")
        return ()
    types: list[str] = []
    for n, event in enumerate(events):
        if not isinstance(event, Mapping) or set(event) != {"type", "version"}:
            checks.fail(f"events[{n}] must be {{\"type\": ..., \"version\": \"1\"}}.")
        elif event["type"] not in CATALOG:
            checks.fail(f"events[{n}].type {event['type']!r} is not in the event catalog.")
        elif event["version"] != VERSION:
            checks.fail(f"events[{n}].version must be \"{VERSION}\".")
        elif event["type"] in types:
            checks.fail(f"events[{n}].type {event['type']} is listed twice.")
        else:
            types.append(event["type"])
    return tuple(types)


def _notification_url(checks: Checks, sandbox: BillSandbox, url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        checks.fail("notificationUrl is required.")
        return None
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    loopback_ok = sandbox.settings.allow_http_loopback_callbacks
    if parts.scheme == "http" and loopback_ok and is_loopback_host(parts.hostname):
        return url
    # notificationUrl must use HTTPS (bill.md §6.1); plain http is allowed on loopback only, for demos.
    checks.fail("notificationUrl must be an https URL" + (" (or http on loopback)." if loopback_ok else "."))
    return None


def _test_event(sandbox: BillSandbox, body: Any, default_type: str) -> tuple[str, dict[str, Any]]:
    checks = Checks()
    obj = checks.object(body, "The test event")
    checks.raise_if_any()
    assert obj is not None
    event_type = obj.get("eventType", default_type)
    if event_type not in CATALOG:
        raise invalid(f"eventType {event_type!r} is not in the event catalog.")
    key = entity_key(event_type)
    if sandbox.bill.reject_unknown_inputs:
        checks.known_fields(obj, ("eventType", "version", key), "the test event")
    if obj.get("version", VERSION) != VERSION:
        checks.fail(f"version must be \"{VERSION}\".")
    entity = obj.get(key, {"id": f"test-{key}-id"})
    if checks.object(entity, key) is None:
        entity = {}
    checks.raise_if_any()
    return event_type, dict(entity)
