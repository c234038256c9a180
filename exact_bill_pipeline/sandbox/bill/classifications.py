"""Classification writes (chart of accounts, departments, locations, classes), all-or-nothing (bill.md §4.5-4.6)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from exact_bill_pipeline.sandbox.bill.api import API, read_routes
from exact_bill_pipeline.sandbox.bill.bodies import Checks, read_json
from exact_bill_pipeline.sandbox.bill.errors import invalid
from exact_bill_pipeline.sandbox.bill.fields import CLASSIFICATION_KINDS, COA, ClassificationKind
from exact_bill_pipeline.sandbox.bill.state import BillSandbox
from exact_bill_pipeline.sandbox.bill.store import Table

BULK_LIMIT = 50
# The 17 account types of the [3P] SDK (bill.md §4.5); UNCONFIRMED as the complete v3 list.
ACCOUNT_TYPES = (
    "UNSPECIFIED", "ACCOUNTS_PAYABLE", "ACCOUNTS_RECEIVABLE", "BANK", "COST_OF_GOODS_SOLD", "CREDIT_CARD",
    "EQUITY", "EXPENSE", "FIXED_ASSET", "INCOME", "LONG_TERM_LIABILITY", "OTHER_ASSET", "OTHER_CURRENT_ASSET",
    "OTHER_CURRENT_LIABILITY", "OTHER_EXPENSE", "OTHER_INCOME", "NON_POSTING",
)
V2_NAMES = {"accountNumber": "account.number", "accountType": "account.type"}
COA_FIELDS = ("id", "archived", "name", "description", "parentId", "account", "createdTime", "updatedTime")
OTHER_FIELDS = ("id", "name", "shortName", "description", "parentId", "archived", "createdTime", "updatedTime")


class ClassificationWrites:
    """Checks and applies writes to one classification kind; a batch fails whole if any item fails."""

    def __init__(self, sandbox: BillSandbox, kind: ClassificationKind) -> None:
        self.sandbox = sandbox
        self.kind = kind
        self.table: Table = sandbox.store.classification(kind)
        self.layout = COA_FIELDS if kind is COA else OTHER_FIELDS
        self.writable = ("name", "description", "parentId", "account") if kind is COA else (
            "name", "shortName", "description", "parentId")

    def create(self, bodies: list[Any], prefixes: list[str]) -> list[dict[str, Any]]:
        checks = Checks()
        candidates = []
        for body, prefix in zip(bodies, prefixes, strict=True):
            checks.prefix = prefix
            changes = self._changes(checks, body, None)
            if changes is not None:
                now = self.sandbox.now_iso()
                record = {"id": self.sandbox.store.ids.new(self.kind.prefix), "archived": False,
                          "createdTime": now, "updatedTime": now}
                candidates.append((self._apply(record, changes), prefix))
        return self._save(candidates, checks)

    def update(self, items: list[tuple[str, Any]], prefixes: list[str]) -> list[dict[str, Any]]:
        checks = Checks()
        candidates = []
        for (record_id, body), prefix in zip(items, prefixes, strict=True):
            checks.prefix = prefix
            record = self.table.require(record_id)
            changes = self._changes(checks, body, record)
            if changes is not None:
                changes["updatedTime"] = self.sandbox.now_iso()
                candidates.append((self._apply(copy.deepcopy(record), changes), prefix))
        return self._save(candidates, checks)

    def set_archived(self, record_ids: list[str], archived: bool) -> list[dict[str, Any]]:
        records = [self.table.require(record_id) for record_id in record_ids]
        # Archiving an archived record (or restoring a live one) changes nothing, updatedTime included.
        # UNCONFIRMED whether archiving a parent archives its children; the sandbox leaves them alone.
        candidates = [
            ({**record, "archived": archived, "updatedTime": self.sandbox.now_iso()}
             if record["archived"] != archived else record, f"[{n}] " if len(records) > 1 else "")
            for n, record in enumerate(records)
        ]
        return self._save(candidates, Checks())

    def _save(self, candidates: list[tuple[dict[str, Any], str]], checks: Checks) -> list[dict[str, Any]]:
        """Saves every candidate, or none when any item has a problem (duplicates included)."""
        self._duplicates(candidates, checks)
        checks.raise_if_any()
        return [self.table.save(candidate) for candidate, _prefix in candidates]

    def _changes(self, checks: Checks, body: Any, record: dict[str, Any] | None) -> dict[str, Any] | None:
        """The fields a create (record None) or update body sets; None for a removed optional field."""
        before = len(checks.problems)
        obj = checks.object(body, "The body" if record is None else "The update")
        if obj is None:
            return None
        creating = record is None
        if self.kind is COA:
            for old, new in V2_NAMES.items():
                if old in obj:
                    checks.fail(f"{old} is a BILL v2 field; v3 takes {new} inside the account object.")
        if self.sandbox.bill.reject_unknown_inputs:
            known = (*self.writable, *V2_NAMES) if creating else (*self.writable, *V2_NAMES, "id")
            checks.known_fields(obj, known, "the body")
        changes: dict[str, Any] = {}
        if creating or "name" in obj:
            changes["name"] = checks.text(obj, "name", required=True)
        for name in ("description", "shortName"):
            if name in self.writable and name in obj:
                changes[name] = checks.text(obj, name, required=False)
        if "parentId" in obj:
            changes["parentId"] = self._parent(checks, obj["parentId"], record)
        if self.kind is COA and (creating or "account" in obj):
            changes["account"] = self._account(checks, obj.get("account"), record)
        return changes if len(checks.problems) == before else None

    def _parent(self, checks: Checks, parent_id: Any, record: dict[str, Any] | None) -> str | None:
        if parent_id is None:
            return None
        if not isinstance(parent_id, str) or self.table.get(parent_id) is None:
            checks.fail(f"parentId {parent_id!r} is not a {self.kind.label.lower()} of this organization.")
            return None
        ancestor: str | None = parent_id
        while ancestor is not None and record is not None:
            if ancestor == record["id"]:
                checks.fail("parentId would make the record its own ancestor.")
                return None
            ancestor = (self.table.get(ancestor) or {}).get("parentId")
        return parent_id

    def _account(self, checks: Checks, value: Any, record: dict[str, Any] | None) -> dict[str, Any] | None:
        # UNCONFIRMED whether BILL requires account on create; the stricter sandbox requires type and number.
        if value is None:
            checks.fail("account is required, as {\"type\": ..., \"number\": ...}.")
            return None
        account = checks.object(value, "account")
        if account is None:
            return None
        if self.sandbox.bill.reject_unknown_inputs:
            checks.known_fields(account, ("type", "number"), "account")
        merged = {**(record or {}).get("account", {}), **account}
        account_type = checks.text(merged, "type", required=True, label="account.type")
        if account_type is not None and account_type not in ACCOUNT_TYPES:
            checks.fail(f"account.type {account_type!r} is not one of {', '.join(ACCOUNT_TYPES)}.")
        checks.text(merged, "number", required=True, label="account.number")
        return {"type": merged.get("type"), "number": merged.get("number")}

    def _apply(self, record: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        for name, value in changes.items():
            if value is None:
                record.pop(name, None)  # BILL leaves unset fields out rather than sending null
            else:
                record[name] = value
        return {name: record[name] for name in self.layout if name in record}

    def _duplicates(self, candidates: list[tuple[dict[str, Any], str]], checks: Checks) -> None:
        """Problems for candidates that would share a name or account number with a live record.

        UNCONFIRMED whether BILL refuses such duplicates; the stricter sandbox does (both are settings)."""
        settings = self.sandbox.bill
        changing = {candidate["id"] for candidate, _prefix in candidates}
        live = [r for r in self.table.records() if not r["archived"] and r["id"] not in changing]
        for candidate, prefix in candidates:
            if candidate["archived"]:
                continue
            checks.prefix = prefix
            for other in live:
                if settings.refuse_duplicate_names and _same_name(candidate, other):
                    checks.fail(f"A {self.kind.label.lower()} named {candidate['name']!r} already exists "
                                f"({other['id']}).")
                if (settings.refuse_duplicate_account_numbers and self.kind is COA
                        and candidate["account"]["number"] == other["account"]["number"]):
                    checks.fail(f"An account numbered {candidate['account']['number']!r} already exists "
                                f"({other['id']}).")
            live.append(candidate)


def _same_name(one: dict[str, Any], other: dict[str, Any]) -> bool:
    return one["name"].strip().casefold() == other["name"].strip().casefold()


def classification_routes(sandbox: BillSandbox) -> list[Route]:
    routes: list[Route] = []
    for kind in CLASSIFICATION_KINDS:
        routes += _kind_routes(sandbox, kind)
    return routes


def _kind_routes(sandbox: BillSandbox, kind: ClassificationKind) -> list[Route]:
    base = f"{API}/classifications/{kind.path}"
    writes = ClassificationWrites(sandbox, kind)

    async def create(request: Request) -> JSONResponse:
        return JSONResponse(writes.create([await read_json(request)], [""])[0], status_code=201)

    async def update(request: Request) -> JSONResponse:
        return JSONResponse(writes.update([(request.path_params["id"], await read_json(request))], [""])[0])

    async def archive(request: Request) -> JSONResponse:
        return JSONResponse(writes.set_archived([request.path_params["id"]], True)[0])

    async def restore(request: Request) -> JSONResponse:
        return JSONResponse(writes.set_archived([request.path_params["id"]], False)[0])

    async def bulk_create(request: Request) -> JSONResponse:
        items = _bulk_items(await read_json(request))
        records = writes.create(items, _prefixes(items))
        return JSONResponse({kind.bulk_key: records}, status_code=201)

    async def bulk_update(request: Request) -> JSONResponse:
        items = _bulk_items(await read_json(request))
        targets = []
        for n, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                raise invalid(f"[{n}] Each item needs the id of the record to update.")
            targets.append((item["id"], {k: v for k, v in item.items() if k != "id"}))
        if len({record_id for record_id, _body in targets}) != len(targets):
            raise invalid("The same id appears more than once.")
        return JSONResponse({kind.bulk_key: writes.update(targets, _prefixes(items))})

    async def bulk_archive(request: Request) -> JSONResponse:
        return JSONResponse({kind.bulk_key: writes.set_archived(_bulk_ids(request, sandbox), True)})

    async def bulk_restore(request: Request) -> JSONResponse:
        return JSONResponse({kind.bulk_key: writes.set_archived(_bulk_ids(request, sandbox), False)})

    return [
        Route(f"{base}/bulk", bulk_create, methods=["POST"]),
        Route(f"{base}/bulk", bulk_update, methods=["PATCH"]),
        Route(f"{base}/bulk/archive", bulk_archive, methods=["POST"]),
        Route(f"{base}/bulk/restore", bulk_restore, methods=["POST"]),
        *read_routes(sandbox, base, writes.table),
        Route(base, create, methods=["POST"]),
        Route(f"{base}/{{id}}", update, methods=["PATCH"]),
        Route(f"{base}/{{id}}/archive", archive, methods=["POST"]),
        Route(f"{base}/{{id}}/restore", restore, methods=["POST"]),
    ]


def _bulk_items(body: Any) -> list[Any]:
    if not isinstance(body, list) or not 1 <= len(body) <= BULK_LIMIT:
        raise invalid(f"A bulk request takes a JSON array of 1 to {BULK_LIMIT} items.")
    return body


def _bulk_ids(request: Request, sandbox: BillSandbox) -> list[str]:
    params = request.query_params
    if sandbox.bill.reject_unknown_inputs and set(params) - {"ids"}:
        raise invalid(f"Unknown query parameter(s): {', '.join(sorted(set(params) - {'ids'}))}.")
    ids = [part for part in params.get("ids", "").split(",") if part]
    if not 1 <= len(ids) <= BULK_LIMIT or len(set(ids)) != len(ids):
        raise invalid(f"ids must list 1 to {BULK_LIMIT} different ids, comma-separated.")
    return ids


def _prefixes(items: list[Any]) -> list[str]:
    return [f"[{n}] " for n in range(len(items))]
