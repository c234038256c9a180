"""The Exact sandbox's own control routes under /_sandbox: bookkeeper changes, consent revocation, test state.

JSON in and out; bad input is a 400 {"error": reason}.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_bill_pipeline.sandbox.control import ControlError, control_error, read_json_object
from exact_bill_pipeline.sandbox.exact_online.edm import date_ms, iso_date, start_of_day_ms
from exact_bill_pipeline.sandbox.exact_online.errors import ODataError, ValidationFailed
from exact_bill_pipeline.sandbox.exact_online.oauth import OAuthServer
from exact_bill_pipeline.sandbox.exact_online.postings import GL_TYPES, Postings
from exact_bill_pipeline.sandbox.exact_online.ratelimit import RateLimiter
from exact_bill_pipeline.sandbox.exact_online.store import ChangeEvent, DivisionStore, Row
from exact_bill_pipeline.sandbox.exact_online.webhooks import WebhookHub
from exact_bill_pipeline.sandbox.middleware import CONTROL_PREFIX

Handler = Callable[[Request], Awaitable[Response]]
ENTRY_TABLES = {"purchase": "PurchaseEntries", "general": "GeneralJournalEntries", "bank": "BankEntries"}
LINE_TABLES = {"PurchaseEntries": "PurchaseEntryLines", "GeneralJournalEntries": "GeneralJournalEntryLines",
               "BankEntries": "BankEntryLines"}
DELETABLE = {"GLAccounts": "financial/GLAccounts", "Accounts": "crm/Accounts",
             "PurchaseOrders": "purchaseorder/PurchaseOrders", "TransactionLines": None,
             "PurchaseEntries": None, "GeneralJournalEntries": None, "BankEntries": None}
SUPPLIER_FIELDS = {"name": "Name", "code": "Code", "email": "Email", "vat_number": "VATNumber", "city": "City",
                   "is_supplier": "IsSupplier", "blocked": "Blocked", "status": "Status",
                   "chamber_of_commerce": "ChamberOfCommerce", "payment_condition": "PaymentConditionPurchase"}
FLAG_FIELDS = frozenset({"is_supplier", "blocked"})
# What a bookkeeper may change on a booked purchase entry line: its amount, cost center code, G/L account code.
LINE_FIELDS = ("amount", "cost_center", "gl_account")


def _guarded(handler: Handler) -> Handler:
    """Turns refusals into the control surface's 400 {"error": reason}."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except ControlError as exc:
            return control_error(str(exc))
        except ValidationFailed as exc:
            return control_error("; ".join(exc.problems))
        except ODataError as exc:
            return control_error(exc.message, status=404 if exc.status == 404 else 400)

    return run


class ExactControl:
    """Handlers of the Exact-specific control routes."""

    def __init__(self, store: DivisionStore, postings: Postings, oauth: OAuthServer, limiter: RateLimiter,
                 hub: WebhookHub) -> None:
        self.store = store
        self.postings = postings
        self.oauth = oauth
        self.limiter = limiter
        self.hub = hub

    def routes(self) -> list[Route]:
        p = CONTROL_PREFIX
        return [
            Route(f"{p}/gl-accounts", _guarded(self.add_gl_account), methods=["POST"]),
            Route(f"{p}/gl-accounts/{{code}}/block", _guarded(self.block_gl_account), methods=["POST"]),
            Route(f"{p}/gl-accounts/{{code}}/unblock", _guarded(self.unblock_gl_account), methods=["POST"]),
            Route(f"{p}/cost-centers", _guarded(self.add_cost_center), methods=["POST"]),
            Route(f"{p}/cost-centers/{{code}}/end", _guarded(self.end_cost_center), methods=["POST"]),
            Route(f"{p}/cost-units", _guarded(self.add_cost_unit), methods=["POST"]),
            Route(f"{p}/suppliers", _guarded(self.add_supplier), methods=["POST"]),
            Route(f"{p}/suppliers/{{id}}", _guarded(self.edit_supplier), methods=["PATCH"]),
            Route(f"{p}/entries/{{id}}/lines/{{line:int}}", _guarded(self.change_entry_line), methods=["PATCH"]),
            Route(f"{p}/delete", _guarded(self.delete_record), methods=["POST"]),
            Route(f"{p}/revoke-consent", _guarded(self.revoke_consent), methods=["POST"]),
            Route(f"{p}/entries", _guarded(self.entries), methods=["GET"]),
            Route(f"{p}/token-stats", _guarded(self.token_stats), methods=["GET"]),
            Route(f"{p}/rate-limits", _guarded(self.rate_limits), methods=["GET"]),
            Route(f"{p}/webhooks", _guarded(self.webhooks), methods=["GET"]),
            Route(f"{p}/state", _guarded(self.state), methods=["GET"]),
        ]

    # ----- G/L accounts ------------------------------------------------------------------------------------------
    async def add_gl_account(self, request: Request) -> Response:
        body = await read_json_object(request)
        code = _text(body, "code")
        gl_type = body.get("type", 121)
        if gl_type not in GL_TYPES:
            raise ControlError(f"type must be one of Exact's G/L account types, e.g. 121; not {gl_type!r}")
        balance_type = body.get("balance_type", "B" if gl_type < 110 else "W")
        if balance_type not in {"B", "W"}:
            raise ControlError("balance_type must be 'B' (balance sheet) or 'W' (profit and loss)")
        use_costcenter, use_costunit = body.get("use_costcenter", 0), body.get("use_costunit", 0)
        if use_costcenter not in {0, 1, 2} or use_costunit not in {0, 1, 2}:
            raise ControlError("use_costcenter and use_costunit must be 0 (optional), 1 (mandatory) or 2 (no)")
        if any(not r.get("IsBlocked") for r in self.store.find("GLAccounts", "Code", code)):
            raise ControlError(f"an active G/L account with code {code} already exists")
        row = self.store.insert("GLAccounts", {
            "ID": str(uuid.uuid4()), "Code": code, "Description": _text(body, "description"), "Type": gl_type,
            "TypeDescription": GL_TYPES[gl_type], "BalanceType": balance_type,
            "BalanceSide": body.get("balance_side", "D" if balance_type == "W" else "C"),
            "IsBlocked": bool(body.get("blocked", False)), "UseCostcenter": use_costcenter,
            "UseCostunit": use_costunit, "Matching": gl_type in {20, 22}, "Compress": False,
            "RevalueCurrency": False, "AllowCostsInSales": 0, "ExcludeVATListing": 0, "SearchCode": code,
        })
        self.store.emit(ChangeEvent("GLAccounts", "Create", row["ID"], "financial/GLAccounts"))
        return JSONResponse(_plain(row), status_code=201)

    async def block_gl_account(self, request: Request) -> Response:
        return self._set_blocked(request.path_params["code"], True)

    async def unblock_gl_account(self, request: Request) -> Response:
        return self._set_blocked(request.path_params["code"], False)

    def _set_blocked(self, code: str, blocked: bool) -> Response:
        rows = self.store.find("GLAccounts", "Code", code)
        if not rows:
            raise ControlError(f"no G/L account has code {code}")
        updated = [self.store.update("GLAccounts", r["ID"], {"IsBlocked": blocked}) for r in rows]
        for row in updated:
            self.store.emit(ChangeEvent("GLAccounts", "Update", row["ID"], "financial/GLAccounts"))
        return JSONResponse({"updated": [_plain(r) for r in updated]})

    # ----- cost centers and units ----------------------------------------------------------------------------------
    async def add_cost_center(self, request: Request) -> Response:
        body = await read_json_object(request)
        code = _text(body, "code")
        if self.store.find("Costcenters", "Code", code):
            raise ControlError(f"a cost center with code {code} already exists")
        end = _optional_date(body, "end_date")
        row = self.store.insert("Costcenters", {"ID": str(uuid.uuid4()), "Code": code,
                                                "Description": _text(body, "description"),
                                                "Active": end is None, "EndDate": end})
        return JSONResponse(_plain(row), status_code=201)

    async def end_cost_center(self, request: Request) -> Response:
        body = await read_json_object(request)
        code = request.path_params["code"]
        row = next(iter(self.store.find("Costcenters", "Code", code)), None)
        if row is None:
            raise ControlError(f"no cost center has code {code}")
        end = _optional_date(body, "end_date") or start_of_day_ms(self.store.clock.now_ms())
        updated = self.store.update("Costcenters", row["ID"], {"EndDate": end, "Active": False})
        return JSONResponse(_plain(updated))

    async def add_cost_unit(self, request: Request) -> Response:
        body = await read_json_object(request)
        code = _text(body, "code")
        if self.store.find("Costunits", "Code", code):
            raise ControlError(f"a cost unit with code {code} already exists")
        row = self.store.insert("Costunits", {"ID": str(uuid.uuid4()), "Code": code,
                                              "Description": _text(body, "description"),
                                              "EndDate": _optional_date(body, "end_date")})
        return JSONResponse(_plain(row), status_code=201)

    # ----- suppliers (crm Accounts) --------------------------------------------------------------------------------
    async def add_supplier(self, request: Request) -> Response:
        values = _supplier_values(await read_json_object(request))
        values.setdefault("IsSupplier", True)
        row = self.postings.create_account(values)
        return JSONResponse(_plain(row), status_code=201)

    async def edit_supplier(self, request: Request) -> Response:
        changes = _supplier_values(await read_json_object(request))
        if not changes:
            raise ControlError(f"send at least one of {', '.join(SUPPLIER_FIELDS)}")
        row = self.postings.update_account(request.path_params["id"].lower(), changes)
        return JSONResponse(_plain(row))

    # ----- a bookkeeper's corrections -----------------------------------------------------------------------------
    async def change_entry_line(self, request: Request) -> Response:
        body = await read_json_object(request)
        unknown = sorted(set(body) - set(LINE_FIELDS))
        if unknown or not body:
            raise ControlError(f"send one or more of {', '.join(LINE_FIELDS)}; not {', '.join(unknown) or 'nothing'}")
        changes: Row = {}
        if "amount" in body:
            if isinstance(body["amount"], bool) or not isinstance(body["amount"], int | float):
                raise ControlError("amount must be a number")
            changes["AmountFC"] = float(body["amount"])
        if "cost_center" in body:
            changes["CostCenter"] = body["cost_center"] or None
        if "gl_account" in body:
            code = _text(body, "gl_account")
            gl = next((r for r in self.store.find("GLAccounts", "Code", code) if not r.get("IsBlocked")), None)
            if gl is None:
                raise ControlError(f"no active G/L account has code {code}")
            changes["GLAccount"] = gl["ID"]
        key = request.path_params["id"].lower()
        entry = self.postings.change_purchase_line(key, request.path_params["line"], changes)
        return JSONResponse({**_plain(entry), "Lines": self._lines("PurchaseEntryLines", key),
                             "TransactionLines": self._lines("TransactionLines", key)})

    # ----- deletions ---------------------------------------------------------------------------------------------
    async def delete_record(self, request: Request) -> Response:
        body = await read_json_object(request)
        table, key = body.get("entity"), str(body.get("id", "")).lower()
        if table not in DELETABLE:
            raise ControlError(f"entity must be one of {', '.join(DELETABLE)}")
        if table in LINE_TABLES:
            row = self.postings.delete_entry(table, key, force=True)
            return JSONResponse({"deleted": _plain(row)})
        if table == "PurchaseOrders":
            self._delete_order_parts(key)
        row = self.store.delete(table, key)
        if row is None:
            raise ControlError(f"no {table} record has id {key}")
        path = DELETABLE[table]
        if path is not None:
            self.store.emit(ChangeEvent(table, "Delete", key, path))
        return JSONResponse({"deleted": _plain(row)})

    def _delete_order_parts(self, key: str) -> None:
        for line in self.store.children("PurchaseOrderLines", key):
            self.store.delete("PurchaseOrderLines", line["ID"])
        sync_rows = self.store.table("PurchaseOrderSyncRows").rows
        for row_key in [k for k, r in sync_rows.items() if r["PurchaseOrderID"] == key]:
            self.store.delete("PurchaseOrderSyncRows", row_key)

    # ----- consent and state ---------------------------------------------------------------------------------------
    async def revoke_consent(self, request: Request) -> Response:
        return JSONResponse({"revoked_chains": self.oauth.revoke_consent()})

    async def entries(self, request: Request) -> Response:
        kinds = [request.query_params["kind"]] if "kind" in request.query_params else list(ENTRY_TABLES)
        if any(kind not in ENTRY_TABLES for kind in kinds):
            raise ControlError(f"kind must be one of {', '.join(ENTRY_TABLES)}")
        out = {}
        for kind in kinds:
            table = ENTRY_TABLES[kind]
            out[kind] = [
                {**_plain(entry), "Lines": self._lines(LINE_TABLES[table], key),
                 "TransactionLines": self._lines("TransactionLines", key)}
                for key, entry in self.store.table(table).rows.items()
            ]
        return JSONResponse(out)

    def _lines(self, table: str, entry_id: str) -> list[Row]:
        return [_plain(line) for line in sorted(self.store.children(table, entry_id), key=lambda r: r["LineNumber"])]

    async def token_stats(self, request: Request) -> Response:
        return JSONResponse(self.oauth.snapshot())

    async def rate_limits(self, request: Request) -> Response:
        return JSONResponse(self.limiter.snapshot())

    async def webhooks(self, request: Request) -> Response:
        return JSONResponse(self.hub.snapshot())

    async def state(self, request: Request) -> Response:
        return JSONResponse({
            "division": self.store.division,
            "rows": {name: len(table) for name, table in self.store.tables.items()},
            "last_timestamp": self.store.last_timestamp,
        })


def _plain(row: Row) -> Row:
    """A record for the control surface: dates as ISO text (midnight ones as dates), no internal fields."""
    out = {}
    for name, value in row.items():
        if name in {"Created", "Modified", "DeletedDate"} and isinstance(value, int):
            out[name] = value
        elif isinstance(value, int) and not isinstance(value, bool) and name.endswith("Date"):
            out[name] = iso_date(value)
        else:
            out[name] = value
    return out


def _text(body: Row, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"{name} must be a non-empty string")
    return value.strip()


def _optional_date(body: Row, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        return date_ms(date.fromisoformat(value))
    except (TypeError, ValueError) as exc:
        raise ControlError(f"{name} must be an ISO date such as 2025-06-30") from exc


def _supplier_values(body: Row) -> Row:
    unknown = sorted(set(body) - set(SUPPLIER_FIELDS))
    if unknown:
        raise ControlError(f"unknown supplier fields: {', '.join(unknown)}; use {', '.join(SUPPLIER_FIELDS)}")
    for name, value in body.items():
        wanted = bool if name in FLAG_FIELDS else str
        if value is not None and not isinstance(value, wanted):
            raise ControlError(f"{name} must be a {'boolean' if wanted is bool else 'string'}")
    return {SUPPLIER_FIELDS[k]: v for k, v in body.items()}
