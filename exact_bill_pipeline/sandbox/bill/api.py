"""The /connect/v3 routes for sessions and for reading bills, vendors, payments and vendor credits (bill.md §2-§4)."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_bill_pipeline.sandbox.bill.bodies import Checks, read_json
from exact_bill_pipeline.sandbox.bill.errors import BAD_CREDENTIALS, BillError, Problem
from exact_bill_pipeline.sandbox.bill.limits import LOGIN_PATH, bad_dev_key
from exact_bill_pipeline.sandbox.bill.listing import list_page, parse_list_query
from exact_bill_pipeline.sandbox.bill.state import BillSandbox
from exact_bill_pipeline.sandbox.bill.store import USER_ID, Table

API = "/connect/v3"
LOGIN_FIELDS = ("username", "password", "organizationId", "devKey")
# rememberMeId and device ask for an MFA-trusted session; the sandbox accepts them and stays untrusted.
LOGIN_OPTIONAL_FIELDS = ("rememberMeId", "device")


def session_routes(sandbox: BillSandbox) -> list[Route]:
    async def login(request: Request) -> JSONResponse:
        body = await read_json(request)
        checks = Checks()
        if checks.object(body, "The login body") is not None:
            for name in LOGIN_FIELDS:
                checks.text(body, name, required=True)
            if sandbox.bill.reject_unknown_inputs:
                checks.known_fields(body, LOGIN_FIELDS + LOGIN_OPTIONAL_FIELDS, "the login body")
        checks.raise_if_any()
        settings = sandbox.bill
        # A login is a request too, and every attempt counts against the hourly limit (stricter; UNCONFIRMED).
        sandbox.limits.count_request(body["devKey"])
        sandbox.limits.count_login(body["devKey"])
        if not _same(body["devKey"], settings.dev_key):
            raise bad_dev_key()
        if not (_same(body["username"], settings.username) and _same(body["password"], settings.password)):
            # BDC_1101's HTTP status is UNCONFIRMED; the sandbox answers 401, like the other auth failures.
            raise BillError(401, [Problem(BAD_CREDENTIALS, "User name and/or password do not match.")])
        if body["organizationId"] != settings.organization_id:
            # Sandbox choice: a user asking for an organization it cannot reach gets BDC_1101 too.
            raise BillError(401, [Problem(
                BAD_CREDENTIALS, "User name and/or password do not match, or the user cannot reach this organization."
            )])
        session = sandbox.sessions.open(settings.dev_key, settings.organization_id, USER_ID)
        return JSONResponse({"sessionId": session.id, "organizationId": session.organization_id,
                             "userId": session.user_id, "trusted": False})

    async def logout(request: Request) -> Response:
        sandbox.sessions.close(sandbox.session(request))
        return Response(status_code=200)

    async def session_details(request: Request) -> JSONResponse:
        session = sandbox.session(request)
        # [PM] shows mfaStatus values such as DISABLED; the sandbox organization has no MFA set up.
        return JSONResponse({"organizationId": session.organization_id, "userId": session.user_id,
                             "mfaStatus": "DISABLED", "mfaBypass": False})

    return [
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route(f"{API}/logout", logout, methods=["POST"]),
        Route(f"{API}/login/session", session_details, methods=["GET"]),
    ]


def record_routes(sandbox: BillSandbox) -> list[Route]:
    """List and get-by-id routes for bills, vendors, payments and vendor credits."""
    store = sandbox.store
    routes: list[Route] = []
    tables = (("bills", store.bills), ("vendors", store.vendors), ("payments", store.payments),
              ("vendor-credits", store.vendor_credits))
    for path, table in tables:
        routes += read_routes(sandbox, f"{API}/{path}", table)
    return routes


def read_routes(sandbox: BillSandbox, base: str, table: Table) -> list[Route]:
    async def list_records(request: Request) -> JSONResponse:
        query = parse_list_query(
            request.query_params, table.spec, sandbox.tokens, reject_unknown=sandbox.bill.reject_unknown_inputs
        )
        return JSONResponse(list_page(table, query, sandbox.tokens))

    async def get_record(request: Request) -> JSONResponse:
        return JSONResponse(table.require(request.path_params["id"]))

    return [Route(base, list_records, methods=["GET"]), Route(f"{base}/{{id}}", get_record, methods=["GET"])]


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())
