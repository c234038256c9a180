"""The REST API under /api/v1: authentication, limits, division access, negotiation and the entity handlers.

Checks run in this order: bearer token (401), error block (403 ApplicationBlocked), minutely and daily budgets
(429), division access (403 NoDivisionAccess), path (404), method (405), Accept (406), then the handler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import Response

from exact_bill_pipeline.sandbox.exact_online.edm import DAY_MS, is_guid, payload_value
from exact_bill_pipeline.sandbox.exact_online.entities import (
    ALL,
    ENTITY_SETS,
    HOME_SET,
    ME,
    EntitySet,
    Selection,
    Serializer,
)
from exact_bill_pipeline.sandbox.exact_online.errors import JSON_MEDIA_TYPE, ODataError, bad_request, not_found
from exact_bill_pipeline.sandbox.exact_online.me import SandboxUser
from exact_bill_pipeline.sandbox.exact_online.oauth import AccessToken, OAuthServer
from exact_bill_pipeline.sandbox.exact_online.odata import (
    Page,
    Query,
    fetch_page,
    parse_collection_query,
    parse_entity_query,
)
from exact_bill_pipeline.sandbox.exact_online.postings import Postings
from exact_bill_pipeline.sandbox.exact_online.ratelimit import RateLimiter
from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore, Row
from exact_bill_pipeline.sandbox.exact_online.webhooks import WebhookHub
from exact_bill_pipeline.sandbox.settings import SandboxSettings

API_PREFIX = "/api/v1/"
RESOURCE = re.compile(r"^(?P<set>[A-Za-z]+(?:/[A-Za-z]+)*?)(?:\((?P<key>[^()]*)\)(?:/(?P<nav>[A-Za-z]+))?)?$")
DIVISION_SEGMENT = re.compile(r"^/api/v1/\d+/")
KEY_SEGMENT = re.compile(r"\([^/]*\)")
# Responses that count towards the error block (api-reference §3); every 500 the API produces is a
# business-validation failure.
COUNTED_ERRORS = frozenset({400, 401, 403, 404, 500})
# Exact answers Atom XML unless the client asks for JSON. The sandbox serves JSON only, so it refuses such
# requests with 406 rather than pretending: a client that forgets "Accept: application/json" (requests sends
# "*/*") would get Atom XML from the real service and fail there. Real clients must send the header.
NOT_ACCEPTABLE = (
    "406 Not Acceptable. This Exact Online sandbox serves JSON only. Send 'Accept: application/json': without it "
    "the real Exact Online API answers in Atom XML (feed/entry), which a JSON client cannot read."
)
CREATORS = {
    "purchaseentry/PurchaseEntries": "PurchaseEntryLines",
    "generaljournalentry/GeneralJournalEntries": "GeneralJournalEntryLines",
    "financialtransaction/BankEntries": "BankEntryLines",
    "crm/Accounts": None,
    "webhooks/WebhookSubscriptions": None,
}


def endpoint_path(path: str) -> str:
    """A stable name for an API path: the division and any key replaced by placeholders."""
    return KEY_SEGMENT.sub("({key})", DIVISION_SEGMENT.sub("/api/v1/{division}/", path))


def endpoint_name(method: str, path: str) -> str:
    return f"{method} {endpoint_path(path)}"


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE,
                    headers={"DataServiceVersion": "2.0;", **(headers or {})})


def accepts_json(header: str | None) -> bool:
    """True when Accept names application/json with q > 0; */* does not count (Exact would send Atom)."""
    for part in (header or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() != "application/json":
            continue
        quality = next((p.split("=", 1)[1] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True)
class Resource:
    """What an API path addresses: an entity set, maybe one entity by key, maybe its lines."""

    entity_set: EntitySet
    key: str | None = None
    nav: str | None = None


class ApiGateway:
    """Answers /api/v1 requests."""

    def __init__(
        self, settings: SandboxSettings, store: DivisionStore, postings: Postings, oauth: OAuthServer,
        limiter: RateLimiter, hub: WebhookHub, user: SandboxUser,
    ) -> None:
        self.settings = settings
        self.exact = settings.exact
        self.store = store
        self.postings = postings
        self.oauth = oauth
        self.limiter = limiter
        self.hub = hub
        self.user = user
        self.ignore_case = self.exact.filter_ignores_case

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        segment, _, rest = path[len(API_PREFIX):].partition("/")
        division = int(segment) if segment.isdigit() else None
        limit_division = division if division is not None else self.exact.division
        endpoint = endpoint_path(path)
        token = _bearer(request)
        access = self.oauth.valid_access(token)
        if access is None:
            owner = self.oauth.owner_of(token)
            if owner is not None:
                self.limiter.record_error(owner, limit_division, endpoint)
            # UNCONFIRMED body of Exact's 401; the sandbox sends none, so clients must rely on the status.
            return Response(b"", status_code=401)
        client = access.client_id
        if self.limiter.blocked_until(client) is not None:
            return self._blocked(client, limit_division)
        spent = self.limiter.admit(client, limit_division)
        if spent is not None:
            return self.limiter.refusal(spent, client, limit_division)
        try:
            response = await self._dispatch(request, segment, division, rest, access)
        except ODataError as exc:
            response = exc.response()
        if response.status_code in COUNTED_ERRORS:
            self.limiter.record_error(client, limit_division, endpoint)
        response.headers.update(self.limiter.headers(client, limit_division))
        return response

    def _blocked(self, client: str, division: int) -> Response:
        # UNCONFIRMED status and wording of Exact's error-limit block (api-reference §3).
        error = ODataError(403, "Forbidden - The application is temporarily blocked because it caused too many "
                                "errors on one endpoint within an hour.", {"Reason": "ApplicationBlocked"})
        response = error.response()
        response.headers.update(self.limiter.headers(client, division))
        return response

    async def _dispatch(
        self, request: Request, segment: str, division: int | None, rest: str, access: AccessToken
    ) -> Response:
        if segment == "current" and rest == "Me":
            if request.method != "GET":
                raise ODataError(405, f"The HTTP method '{request.method}' is not supported for 'current/Me'.")
            self._negotiate(request)
            return self._me(request)
        if division is None:
            raise not_found(segment)
        if division != self.exact.division:
            raise ODataError(403, f"Forbidden - You have no access to division {division}.",
                             {"Reason": "NoDivisionAccess"})
        resource = _resource(rest)
        if request.method not in resource.entity_set.methods:
            raise ODataError(405, f"The HTTP method '{request.method}' is not supported for "
                                  f"'{resource.entity_set.path}' by the sandbox.")
        if request.method == "DELETE":
            return self._delete(resource, access)
        self._negotiate(request)
        if request.method == "POST":
            return await self._post(request, resource, access)
        return self._get(request, resource, access)

    @staticmethod
    def _negotiate(request: Request) -> None:
        if not accepts_json(request.headers.get("accept")):
            raise _NotAcceptable()

    def _serializer(self, request: Request, division: int | str) -> Serializer:
        return Serializer(_base_url(request), division, self.store.children)

    # ----- GET -----------------------------------------------------------------------------------------------------
    def _get(self, request: Request, resource: Resource, access: AccessToken) -> Response:
        params = parse_qsl(request.url.query, keep_blank_values=True)
        entity_set = resource.entity_set
        serializer = self._serializer(request, self.store.division)
        if resource.key is None:
            return self._collection(request, entity_set, params, self._scope(entity_set, access))
        row = self._entity(resource, access)
        if resource.nav is not None:
            return self._lines(request, entity_set, row, resource.nav, params)
        query = parse_entity_query(params, entity_set)
        return json_response({"d": serializer.row(entity_set, row, query.selection)})

    def _entity(self, resource: Resource, access: AccessToken) -> Row:
        entity_set = resource.entity_set
        if entity_set.kind != "normal":
            # UNCONFIRMED: the sandbox serves single records only from the normal endpoints.
            raise bad_request("Key lookups are not supported on bulk and sync endpoints.")
        key = _key_value(entity_set, resource.key or "")
        row = self.store.get(entity_set.table, key)
        scope = self._scope(entity_set, access)
        if row is None or (scope is not None and not scope(row)):
            raise not_found(entity_set.entity_name)
        return row

    def _collection(
        self, request: Request, entity_set: EntitySet, params: list[tuple[str, str]], scope: Any,
    ) -> Response:
        query = parse_collection_query(params, entity_set, self.ignore_case)
        if entity_set.table == "Deleted":
            self.store.purge_deleted_before(self.store.clock.now_ms() - self.exact.deleted_log_days * DAY_MS)
        page = fetch_page(entity_set, self.store.table(entity_set.table), query, self.ignore_case, scope)
        return self._page_response(request, entity_set, query, page)

    def _lines(self, request: Request, entity_set: EntitySet, parent: Row, nav: str,
               params: list[tuple[str, str]]) -> Response:
        navigation = entity_set.navigation.get(nav)
        if navigation is None:
            raise not_found(nav)
        if navigation.table is None:
            return json_response({"d": {"results": []}})
        child_set = HOME_SET[navigation.table]
        # Lines point at their entry or order through a property named like its key (EntryID, PurchaseOrderID).
        foreign_key = entity_set.key.name
        parent_key = parent[foreign_key]
        return self._collection(request, child_set, params, lambda row: row.get(foreign_key) == parent_key)

    def _page_response(self, request: Request, entity_set: EntitySet, query: Query, page: Page) -> Response:
        serializer = self._serializer(request, self.store.division)
        data: dict[str, Any] = {"results": [serializer.row(entity_set, row, query.selection) for row in page.rows]}
        if page.count is not None:
            data["__count"] = str(page.count)
        if page.next_skiptoken is not None:
            data["__next"] = _next_url(request, query, page)
        return json_response({"d": data})

    def _scope(self, entity_set: EntitySet, access: AccessToken) -> Any:
        if entity_set.table == "WebhookSubscriptions":
            # Subscriptions are per app; other apps cannot see them (api-reference §6.1).
            client = access.client_id
            return lambda row: row.get("ClientID") == client
        return None

    def _me(self, request: Request) -> Response:
        params = parse_qsl(request.url.query, keep_blank_values=True)
        query = parse_collection_query(params, ME, self.ignore_case, require_select=False)
        row = self.user.me_row(self.exact.division, self.store.clock.now_ms())
        rows = [row] if query.node is None or query.node.fn(row) else []
        serializer = self._serializer(request, "current")
        return json_response({"d": {"results": [serializer.row(ME, r, query.selection) for r in rows]}})

    # ----- POST ----------------------------------------------------------------------------------------------------
    async def _post(self, request: Request, resource: Resource, access: AccessToken) -> Response:
        entity_set = resource.entity_set
        if resource.key is not None:
            raise ODataError(405, "POST is only supported on entity sets, not on single entities.")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            # UNCONFIRMED: what Exact does with another body type; the sandbox refuses it.
            raise ODataError(415, "Unsupported media type: send the body as application/json.")
        body = _json_object(await request.body())
        lines_field = CREATORS[entity_set.path]
        values, lines = _payload_object(body, entity_set)
        row = await self._create(entity_set, values, lines if lines is not None else [], access, request)
        serializer = self._serializer(request, self.store.division)
        if "return=representation" in request.headers.get("prefer", ""):
            expand = {lines_field: ALL} if lines_field else {}
            entity = serializer.row(entity_set, row, Selection(None, expand))
        else:
            entity = serializer.blank(entity_set, row)
        return json_response({"d": entity}, status=201, headers={"Location": serializer.uri(entity_set, row)})

    async def _create(
        self, entity_set: EntitySet, values: Row, lines: list[Row], access: AccessToken, request: Request
    ) -> Row:
        path = entity_set.path
        if path == "purchaseentry/PurchaseEntries":
            return self.postings.create_purchase_entry(values, lines)
        if path == "generaljournalentry/GeneralJournalEntries":
            return self.postings.create_general_journal_entry(values, lines)
        if path == "financialtransaction/BankEntries":
            return self.postings.create_bank_entry(values, lines)
        if path == "crm/Accounts":
            return self.postings.create_account(values)
        return await self.hub.subscribe(access.client_id, values, _base_url(request))

    # ----- DELETE --------------------------------------------------------------------------------------------------
    def _delete(self, resource: Resource, access: AccessToken) -> Response:
        entity_set = resource.entity_set
        if resource.key is None or resource.nav is not None:
            raise ODataError(405, "DELETE needs the key of one entity, e.g. (guid'…').")
        key = _key_value(entity_set, resource.key)
        if entity_set.table == "WebhookSubscriptions":
            if self.hub.unsubscribe(access.client_id, key) is None:
                raise not_found(entity_set.entity_name)
        else:
            self.postings.delete_entry(entity_set.table, key)
        return Response(b"", status_code=204)


class _NotAcceptable(ODataError):
    def __init__(self) -> None:
        super().__init__(406, NOT_ACCEPTABLE)

    def response(self) -> Response:
        return Response(NOT_ACCEPTABLE, status_code=406, media_type="text/plain; charset=utf-8")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _base_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def _resource(rest: str) -> Resource:
    # UNCONFIRMED whether Exact's paths are case-insensitive; the sandbox knows only the documented casing.
    match = RESOURCE.match(rest)
    if match is None:
        raise not_found(rest.rsplit("/", 1)[-1])
    entity_set = ENTITY_SETS.get(match["set"])
    if entity_set is None:
        raise not_found(match["set"].rsplit("/", 1)[-1])
    return Resource(entity_set, match["key"], match["nav"])


def _key_value(entity_set: EntitySet, text: str) -> str:
    """The key inside (…): guid'…' for the GUID keys the sandbox's entity sets have."""
    match = re.fullmatch(r"guid'([^']*)'", text.strip())
    if entity_set.key.edm != "Guid" or match is None or not is_guid(match.group(1)):
        raise bad_request("Bad Request - Error in query syntax.")
    return match.group(1).lower()


def _next_url(request: Request, query: Query, page: Page) -> str:
    """The absolute __next link: the original options, $top reduced by what was served, and the $skiptoken."""
    params = [(k, v) for k, v in query.params if k not in {"$skiptoken", "$top"}]
    if page.next_top is not None:
        params.append(("$top", str(page.next_top)))
    params.append(("$skiptoken", page.next_skiptoken or ""))
    text = "&".join(f"{quote(k, safe='$')}={quote(v, safe=SAFE_IN_QUERY)}" for k, v in params)
    return f"{_base_url(request)}{request.url.path}?{text}"


SAFE_IN_QUERY = "$,'()*:/@!"


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request("Error processing request stream. The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise bad_request("Error processing request stream. A JSON object was expected as the request body.")
    return body


def _payload_object(body: dict[str, Any], entity_set: EntitySet) -> tuple[Row, list[Row] | None]:
    """A POST body as typed values, plus the parsed lines of its collection property (None when absent)."""
    values: Row = {}
    lines: list[Row] | None = None
    for name, value in body.items():
        if name == "__metadata":
            continue
        prop = entity_set.by_name.get(name)
        if prop is None:
            raise bad_request(f"The property '{name}' does not exist on type '{entity_set.type_name}'. Make sure to "
                              "only use property names that are defined by the type.")
        if not prop.writable:
            # UNCONFIRMED: whether Exact ignores read-only properties on POST; the sandbox refuses them.
            raise bad_request(f"Error processing request stream. The property '{name}' on type "
                              f"'{entity_set.type_name}' is read-only and cannot be set.")
        if prop.is_collection:
            lines = _payload_lines(name, value, entity_set)
        else:
            values[name] = payload_value(name, prop.edm, value)
    return values, lines


def _payload_lines(name: str, value: Any, entity_set: EntitySet) -> list[Row]:
    navigation = entity_set.navigation.get(name)
    items = value.get("results") if isinstance(value, dict) else value
    if navigation is None or navigation.table is None or not isinstance(items, list):
        raise bad_request(f"Error processing request stream. The property '{name}' must be a list of lines.")
    child_set = HOME_SET[navigation.table]
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_request(f"Error processing request stream. Each of '{name}' must be a JSON object.")
        line, _nested = _payload_object(item, child_set)
        lines.append(line)
    return lines
