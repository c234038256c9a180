"""The stored mapping (BILL record -> Exact record), the user's overrides, VAT rules and vendor matches."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from exact_bill_pipeline.domain.mapping import MappingRow, Override
from exact_bill_pipeline.domain.vat import VatRule
from exact_bill_pipeline.domain.vendors import VendorMatch
from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.rows import upsert
from exact_bill_pipeline.state.schema import account_mapping, mapping_overrides, vendor_matches
from exact_bill_pipeline.state.schema import vat_rules as vat_rule_table

MAPPING_FIELDS = ("bill_label", "exact_id", "exact_code", "source", "status")


def stored_mapping(conn: sa.Connection) -> dict[tuple[str, str], MappingRow]:
    rows = conn.execute(sa.select(account_mapping)).mappings()
    return {(r["kind"], r["bill_id"]): MappingRow(r["kind"], r["bill_id"], r["bill_label"], r["exact_id"],
                                                  r["exact_code"], r["source"], r["status"]) for r in rows}


def replace_mapping(conn: sa.Connection, rows: Iterable[MappingRow], *, actor: str) -> list[MappingRow]:
    """Makes the stored mapping equal ``rows``; returns the rows that changed (new, altered or gone).

    Writing only what changed keeps a rerun silent: no writes, no audit entries.
    """
    current = stored_mapping(conn)
    wanted = {(row.kind, row.bill_id): row for row in rows}
    changed: list[MappingRow] = []
    now = datetime.now(tz=UTC)
    for key, row in wanted.items():
        before = current.get(key)
        if before == row:
            continue
        upsert(conn, account_mapping, {"kind": row.kind, "bill_id": row.bill_id},
               {**{f: getattr(row, f) for f in MAPPING_FIELDS}, "updated_at": now})
        audit.record(conn, actor=actor, entity_kind=f"mapping:{row.kind}", entity_id=row.bill_id,
                     action="mapping_changed" if before else "mapping_added",
                     before=asdict(before) if before else None, after=asdict(row))
        changed.append(row)
    for key, before in current.items():
        if key not in wanted:
            conn.execute(sa.delete(account_mapping).where(account_mapping.c.kind == key[0],
                                                          account_mapping.c.bill_id == key[1]))
            audit.record(conn, actor=actor, entity_kind=f"mapping:{before.kind}", entity_id=before.bill_id,
                         action="mapping_removed", before=asdict(before))
            changed.append(before)
    return changed


def overrides(conn: sa.Connection) -> list[Override]:
    rows = conn.execute(sa.select(mapping_overrides).order_by(mapping_overrides.c.kind,
                                                              mapping_overrides.c.bill_key)).mappings()
    return [Override(r["kind"], r["bill_key"], r["exact_code"]) for r in rows]


def override_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(mapping_overrides).order_by(
        mapping_overrides.c.kind, mapping_overrides.c.bill_key)).mappings()]


def set_override(conn: sa.Connection, override: Override, *, actor: str, note: str | None = None) -> None:
    where = (mapping_overrides.c.kind == override.kind, mapping_overrides.c.bill_key == override.bill_key)
    before = conn.execute(sa.select(mapping_overrides).where(*where)).mappings().first()
    upsert(conn, mapping_overrides, {"kind": override.kind, "bill_key": override.bill_key},
           {"exact_code": override.exact_code, "note": note, "created_by": actor, "created_at": datetime.now(tz=UTC)})
    audit.record(conn, actor=actor, entity_kind=f"override:{override.kind}", entity_id=override.bill_key,
                 action="override_set", before=dict(before) if before else None, after=asdict(override))


def remove_override(conn: sa.Connection, kind: str, bill_key: str, *, actor: str) -> bool:
    deleted = conn.execute(sa.delete(mapping_overrides).where(mapping_overrides.c.kind == kind,
                                                              mapping_overrides.c.bill_key == bill_key)).rowcount
    if deleted:
        audit.record(conn, actor=actor, entity_kind=f"override:{kind}", entity_id=bill_key, action="override_removed")
    return bool(deleted)


def save_vendor_match(conn: sa.Connection, match: VendorMatch, vendor_name: str, *, actor: str) -> bool:
    """Stores how a vendor matched; returns True (and audits) only when that changed."""
    values = {"vendor_name": vendor_name, "outcome": match.outcome, "method": match.method,
              "supplier_id": match.supplier_id, "candidates": json.dumps(list(match.candidates)),
              "tried": json.dumps(match.tried, sort_keys=True)}
    before = conn.execute(sa.select(vendor_matches).where(vendor_matches.c.vendor_id == match.vendor_id)
                          ).mappings().first()
    if before is not None and all(before[k] == v for k, v in values.items()):
        return False
    upsert(conn, vendor_matches, {"vendor_id": match.vendor_id}, {**values, "updated_at": datetime.now(tz=UTC)})
    audit.record(conn, actor=actor, entity_kind="vendor", entity_id=match.vendor_id, action="vendor_matched",
                 before={k: before[k] for k in values} if before else None, after=values)
    return True


def vendor_match_rows(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    return {r["vendor_id"]: dict(r) for r in conn.execute(sa.select(vendor_matches)).mappings()}


def vat_rules(conn: sa.Connection) -> dict[str, VatRule]:
    """The VAT rule per Exact GL account code, as people set them."""
    return {r["gl_code"]: VatRule(r["vat_code"], r["amounts_include_vat"])
            for r in conn.execute(sa.select(vat_rule_table)).mappings()}


def vat_rule_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(vat_rule_table).order_by(vat_rule_table.c.gl_code)).mappings()]


def set_vat_rule(conn: sa.Connection, gl_code: str, rule: VatRule, *, actor: str, note: str | None = None) -> None:
    before = conn.execute(sa.select(vat_rule_table).where(vat_rule_table.c.gl_code == gl_code)).mappings().first()
    upsert(conn, vat_rule_table, {"gl_code": gl_code},
           {"vat_code": rule.code, "amounts_include_vat": rule.amounts_include_vat, "note": note,
            "created_by": actor, "created_at": datetime.now(tz=UTC)})
    audit.record(conn, actor=actor, entity_kind="vat_rule", entity_id=gl_code, action="vat_rule_set",
                 before={"vat_code": before["vat_code"], "amounts_include_vat": before["amounts_include_vat"]}
                 if before else None, after={**asdict(rule), "note": note})


def remove_vat_rule(conn: sa.Connection, gl_code: str, *, actor: str) -> bool:
    deleted = conn.execute(sa.delete(vat_rule_table).where(vat_rule_table.c.gl_code == gl_code)).rowcount
    if deleted:
        audit.record(conn, actor=actor, entity_kind="vat_rule", entity_id=gl_code, action="vat_rule_removed")
    return bool(deleted)
