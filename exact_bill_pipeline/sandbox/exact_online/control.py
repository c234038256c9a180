"""The Exact sandbox's own control routes under /_sandbox: bookkeeper changes, consent revocation, test state.

JSON in and out; bad input is a 400 {"error": reason}. What a bookkeeper sets up for the AP documents of issue 14:

- POST  /_sandbox/periods/close            {"year", "period", "journal"?}: close a period for one journal or all
- POST  /_sandbox/periods/reopen           the same, to open it again
- POST  /_sandbox/vat-codes                {"code", "description", "type" B/E/I/N, "percentage" (0.06 is 6 %),
                                           "gl_to_claim"?, "gl_to_pay"? (G/L codes)}
- POST  /_sandbox/gl-accounts/{code}/vat-code  {"vat_code": "2" or null}: the account's default VAT code
- POST  /_sandbox/exchange-rates           {"currency", "rate" (division currency per unit), "start_date"}
- PATCH /_sandbox/journals/{code}          {"currency"?, "allow_variable_currency"?, "allow_variable_exchange_rate"?}
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
from exact_bill_pipeline.sandbox.exact_online.vat import VAT_TYPES, add_vat_code, padded
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
            Route(f"{p}/gl-accounts/{{code}}/vat-code", _guarded(self.set_gl_vat_code), methods=["POST"]),
            Route(f"{p}/vat-codes", _guarded(self.add_vat_code), methods=["POST"]),
            Route(f"{p}/exchange-rates", _guarded(self.add_exchange_rate), methods=["POST"]),
            Route(f"{p}/journals/{{code}}", _guarded(self.edit_journal), methods=["PATCH"]),
            Route(f"{p}/periods/close", _guarded(self.close_period), methods=["POST"]),
            Route(f"{p}/periods/reopen", _guarded(self.reopen_period), methods=["POST"]),
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
        vat_code = self._vat_code_text(body.get("vat_code"))
        row = self.store.insert("GLAccounts", {
            "ID": str(uuid.uuid4()), "Code": code, "Description": _text(body, "description"), "Type": gl_type,
            "TypeDescription": GL_TYPES[gl_type], "BalanceType": balance_type,
            "BalanceSide": body.get("balance_side", "D" if balance_type == "W" else "C"),
            "IsBlocked": bool(body.get("blocked", False)), "UseCostcenter": use_costcenter,
            "UseCostunit": use_costunit, "Matching": gl_type in {20, 22}, "Compress": False,
            "RevalueCurrency": False, "AllowCostsInSales": 0, "ExcludeVATListing": 0, "SearchCode": code,
            **self._vat_fields(vat_code),
        })
        self.store.emit(ChangeEvent("GLAccounts", "Create", row["ID"], "financial/GLAccounts"))
        return JSONResponse(_plain(row), status_code=201)

    async def set_gl_vat_code(self, request: Request) -> Response:
        body = await read_json_object(request)
        code = request.path_params["code"]
        rows = self.store.find("GLAccounts", "Code", code)
        if not rows:
            raise ControlError(f"no G/L account has code {code}")
        fields = self._vat_fields(self._vat_code_text(body.get("vat_code")))
        updated = [self.store.update("GLAccounts", r["ID"], fields) for r in rows]
        for row in updated:
            self.store.emit(ChangeEvent("GLAccounts", "Update", row["ID"], "financial/GLAccounts"))
        return JSONResponse({"updated": [_plain(r) for r in updated]})

    def _vat_code_text(self, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or self.postings.vat.get(value) is None:
            raise ControlError(f"vat_code {value!r} is not a VAT code of the division; add it at /_sandbox/vat-codes")
        return padded(value)

    def _vat_fields(self, vat_code: str | None) -> Row:
        code = vat_code and self.postings.vat.get(vat_code)
        return {"VATCode": vat_code, "VATDescription": code["Description"] if code else None}

    # ----- VAT codes, exchange rates, journals -----------------------------------------------------------------------
    async def add_vat_code(self, request: Request) -> Response:
        body = await read_json_object(request)
        code = _text(body, "code")
        if len(code) > 3 or self.postings.vat.get(code) is not None:
            raise ControlError(f"code must be a new VAT code of at most 3 characters, not {code!r}")
        kind = body.get("type", "E")
        if kind not in VAT_TYPES:
            raise ControlError(f"type must be one of {', '.join(VAT_TYPES)} ({', '.join(VAT_TYPES.values())})")
        percentage = body.get("percentage", 0.0)
        if isinstance(percentage, bool) or not isinstance(percentage, int | float) or not 0 <= percentage < 1:
            raise ControlError("percentage must be a fraction from 0 up to 1, e.g. 0.06 for 6 %")
        values = {"ID": str(uuid.uuid4()), "Code": code, "Description": _text(body, "description"), "Type": kind,
                  "Percentage": float(percentage)}
        for name, field in (("gl_to_claim", "GLToClaim"), ("gl_to_pay", "GLToPay")):
            if body.get(name) is not None:
                values[field] = self._gl_id(body[name])
        if kind in ("E", "I") and "GLToClaim" not in values:
            raise ControlError("a VAT code that charges VAT needs gl_to_claim, the account its VAT is booked on")
        row = add_vat_code(self.store, values)
        return JSONResponse(_plain(row), status_code=201)

    def _gl_id(self, code: object) -> str:
        row = next((r for r in self.store.find("GLAccounts", "Code", code) if not r.get("IsBlocked")), None)
        if row is None:
            raise ControlError(f"no active G/L account has code {code!r}")
        return row["ID"]

    async def add_exchange_rate(self, request: Request) -> Response:
        body = await read_json_object(request)
        currency = _text(body, "currency").upper()
        if len(currency) != 3 or currency == self.postings.currency:
            raise ControlError(f"currency must be a 3-letter code other than the division's {self.postings.currency}")
        rate = body.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
            raise ControlError("rate must be a positive number: the division's currency per unit of the currency")
        start = _optional_date(body, "start_date") or start_of_day_ms(self.store.clock.now_ms())
        row = self.postings.currencies.add_rate(currency, float(rate), start, str(uuid.uuid4()))
        return JSONResponse(_plain(row), status_code=201)

    async def edit_journal(self, request: Request) -> Response:
        body = await read_json_object(request)
        journal = self.store.journal(request.path_params["code"])
        if journal is None:
            raise ControlError(f"no journal has code {request.path_params['code']}")
        changes: Row = {}
        for name, field in (("allow_variable_currency", "AllowVariableCurrency"),
                            ("allow_variable_exchange_rate", "AllowVariableExchangeRate")):
            if name in body:
                if not isinstance(body[name], bool):
                    raise ControlError(f"{name} must be true or false")
                changes[field] = body[name]
        if "currency" in body:
            currency = _text(body, "currency").upper()
            if not self.postings.currencies.known(currency):
                raise ControlError(f"the division has no exchange rate for {currency}")
            changes["Currency"] = currency
        if not changes:
            raise ControlError("send currency, allow_variable_currency or allow_variable_exchange_rate")
        return JSONResponse(_plain(self.store.update("Journals", journal["ID"], changes)))

    # ----- closed periods ---------------------------------------------------------------------------------------
    async def close_period(self, request: Request) -> Response:
        return await self._set_closed(request, True)

    async def reopen_period(self, request: Request) -> Response:
        return await self._set_closed(request, False)

    async def _set_closed(self, request: Request, closed: bool) -> Response:
        body = await read_json_object(request)
        year, period = body.get("year"), body.get("period")
        if not isinstance(year, int) or not isinstance(period, int) or self.store.period(year, period) is None:
            raise ControlError(f"year and period must name a financial period of the division, not {year}/{period}")
        journal = body.get("journal")
        if journal is not None and self.store.journal(str(journal)) is None:
            raise ControlError(f"no journal has code {journal}")
        codes = [str(journal)] if journal is not None else sorted(
            j["Code"] for j in self.store.table("Journals").rows.values())
        return JSONResponse({"journals": self.postings.locks.set_closed(year, period, codes, closed)})

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
