"""Reading Exact's reference data into the state store: GL accounts and suppliers incrementally, cost centers whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.dedupe import Deduplicated, dedupe_by_id_and_code
from exact_bill_pipeline.domain.vat import VatCode
from exact_bill_pipeline.state import cursors, reference
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.schema import exact_cost_centers, exact_gl_accounts, exact_suppliers, exact_vat_codes

# sync/Deleted EntityType values (api-reference §4.5).
DELETED_ACCOUNTS, DELETED_GL_ACCOUNTS = 2, 7


@dataclass
class SyncReport:
    read: int = 0
    created: int = 0
    deleted: int = 0
    incremental: bool = False
    merges: list[dict[str, Any]] = field(default_factory=list)
    kept: int = 0
    vat_codes: int = 0


def gl_account_row(account: Any) -> dict[str, Any]:
    return {"id": str(account.id), "code": account.code.strip(), "description": account.description,
            "type": account.type, "balance_type": account.balance_type, "is_blocked": account.is_blocked,
            "use_costcenter": account.use_costcenter, "row_timestamp": account.timestamp,
            "vat_code": (account.vat_code or "").strip() or None}


def supplier_row(account: Any) -> dict[str, Any]:
    return {"id": str(account.id), "code": (account.code or "").strip() or None, "name": account.name,
            "vat_number": account.vat_number, "email": account.email, "is_supplier": account.is_supplier,
            "blocked": account.blocked, "row_timestamp": account.timestamp, "city": account.city}


def sync_gl_accounts(exact: ExactApi, store: StateStore) -> SyncReport:
    """GL accounts changed since the last sync (all of them the first time), minus those Exact deleted; and
    the VAT codes, read whole (no sync endpoint), which say what each account's own VAT code does."""
    report = _sync_incremental(
        store, exact_gl_accounts, "exact:gl_accounts", DELETED_GL_ACCOUNTS,
        read=lambda since: [gl_account_row(a) for a in exact.sync_gl_accounts(since)], exact=exact,
    )
    report.vat_codes = sync_vat_codes(exact, store)
    return report


def sync_vat_codes(exact: ExactApi, store: StateStore) -> int:
    """Exact's VAT codes, replacing what is stored; returns how many there are."""
    rows = [{"id": str(c.id), "code": c.code.strip(), "description": c.description, "type": c.type,
             "percentage": c.percentage, "gl_to_claim_code": (c.gl_to_claim_code or "").strip() or None,
             "is_blocked": c.is_blocked} for c in exact.vat_codes()]
    with store.transaction() as conn:
        stored = {r["id"] for r in reference.all_rows(conn, exact_vat_codes)}
        reference.upsert_rows(conn, exact_vat_codes, rows)
        reference.delete_ids(conn, exact_vat_codes, stored - {r["id"] for r in rows})
    return len(rows)


def stored_vat_codes(store: StateStore) -> dict[str, VatCode]:
    with store.transaction() as conn:
        rows = reference.all_rows(conn, exact_vat_codes)
    return {r["code"]: VatCode(r["code"], r["type"] or "N", Decimal(str(r["percentage"])), r["gl_to_claim_code"],
                               r["is_blocked"], r["description"]) for r in rows}


def sync_suppliers(exact: ExactApi, store: StateStore) -> SyncReport:
    """crm Accounts changed since the last sync; suppliers and customers alike (a customer may become one)."""
    return _sync_incremental(
        store, exact_suppliers, "exact:accounts", DELETED_ACCOUNTS,
        read=lambda since: [supplier_row(a) for a in exact.sync_accounts(since)], exact=exact,
    )


def sync_cost_centers(exact: ExactApi, store: StateStore) -> SyncReport:
    """Cost centers have no sync endpoint (api-reference §4.5): read them whole, replace what is stored."""
    today = datetime.now(tz=UTC)
    rows = [{"id": str(c.id), "code": c.code.strip(), "description": c.description,
             "active": c.end_date is None or c.end_date > today} for c in exact.cost_centers()]
    with store.transaction() as conn:
        stored = {r["id"] for r in reference.all_rows(conn, exact_cost_centers)}
        created = reference.upsert_rows(conn, exact_cost_centers, rows)
        deleted = reference.delete_ids(conn, exact_cost_centers, stored - {r["id"] for r in rows})
        cursors.put(conn, "exact:cost_centers", today.isoformat())
    report = SyncReport(read=len(rows), created=created, deleted=deleted)
    deduplicated = stored_cost_centers(store)
    report.merges, report.kept = deduplicated.report(), len(deduplicated.rows)
    return report


def _sync_incremental(store: StateStore, table: sa.Table, cursor: str, deleted_type: int, *, read: Any,
                      exact: ExactApi) -> SyncReport:
    with store.transaction() as conn:
        since = int(cursors.get(conn, f"{cursor}:timestamp") or 1)
        deleted_since = int(cursors.get(conn, f"{cursor}:deleted") or 1)
    rows = read(since)
    # The first sync reads everything as it is now, so only later syncs need the deletion log.
    deletions = exact.deleted(deleted_since) if since > 1 else []
    with store.transaction() as conn:
        created = reference.upsert_rows(conn, table, rows)
        gone = reference.delete_ids(conn, table, [str(d.entity_key) for d in deletions
                                                  if d.entity_type == deleted_type])
        newest = max([since, *(r["row_timestamp"] or 0 for r in rows)])
        cursors.put(conn, f"{cursor}:timestamp", str(newest))
        if deletions:
            cursors.put(conn, f"{cursor}:deleted", str(max(d.timestamp for d in deletions)))
    report = SyncReport(read=len(rows), created=created, deleted=gone, incremental=since > 1)
    # A record changed while it was being paged comes back twice; the later copy was kept.
    repeats = dedupe_by_id_and_code(rows, id_of=lambda r: r["id"], code_of=lambda r: r["id"], preference=lambda r: 0)
    report.merges = [m for m in repeats.report() if m["by"] == "id"]
    if table is exact_gl_accounts:
        deduplicated = stored_gl_accounts(store)
        report.merges += deduplicated.report()
        report.kept = len(deduplicated.rows)
    return report


def stored_gl_accounts(store: StateStore) -> Deduplicated[dict[str, Any]]:
    """The stored GL accounts, one per code: an active one before a blocked one, then the newest row version."""
    with store.transaction() as conn:
        rows = reference.all_rows(conn, exact_gl_accounts)
    return dedupe_by_id_and_code(rows, id_of=lambda r: r["id"], code_of=lambda r: r["code"],
                                 preference=lambda r: (not r["is_blocked"], r["row_timestamp"] or 0, r["id"]))


def stored_cost_centers(store: StateStore) -> Deduplicated[dict[str, Any]]:
    with store.transaction() as conn:
        rows = reference.all_rows(conn, exact_cost_centers)
    return dedupe_by_id_and_code(rows, id_of=lambda r: r["id"], code_of=lambda r: r["code"],
                                 preference=lambda r: (r["active"], r["id"]))


def stored_suppliers(store: StateStore) -> list[dict[str, Any]]:
    with store.transaction() as conn:
        return reference.all_rows(conn, exact_suppliers)
