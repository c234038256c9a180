"""BILL vendors into the state store, and each vendor matched to (or created as) an Exact supplier exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online import odata
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.postings import BILL_CURRENCY
from exact_bill_pipeline.domain.vendors import SupplierFacts, SupplierIndex, VendorFacts, VendorMatch
from exact_bill_pipeline.services.exactly_once import Created, DoubtPolicy, Posting, post_exactly_once
from exact_bill_pipeline.services.reference import stored_suppliers, supplier_row
from exact_bill_pipeline.state import cursors, mappings, reference, snapshots
from exact_bill_pipeline.state.claims import Claimant, claimed
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import Intent, PostingLedger
from exact_bill_pipeline.state.schema import exact_suppliers

VENDOR_CURSOR = "bill:vendors:updated"


@dataclass
class VendorReport:
    read: int = 0
    matched: int = 0
    created: int = 0
    queued: int = 0
    unchanged: int = 0
    matches: list[dict[str, Any]] = field(default_factory=list)


def read_vendors(bill: BillApi, store: StateStore) -> int:
    """Vendors changed since the last read (all the first time), stored as snapshots."""
    with store.transaction() as conn:
        since = cursors.get(conn, VENDOR_CURSOR)
    vendors = bill.vendors(updated_since=datetime.fromisoformat(since) if since else None)
    with store.transaction() as conn:
        for vendor in vendors:
            data = vendor.model_dump(mode="json", by_alias=True)
            snapshots.save(conn, "vendor", vendor.id, partition="", amount=Decimal(0), status=None,
                           archived=vendor.archived, updated_time=str(vendor.updated_time or ""),
                           content_hash="", data=data)
        newest = max((v.updated_time for v in vendors if v.updated_time), default=None)
        if newest is not None:
            cursors.put(conn, VENDOR_CURSOR, newest.isoformat())
    return len(vendors)


def stored_vendors(store: StateStore) -> list[dict[str, Any]]:
    with store.transaction() as conn:
        return [s.data for s in snapshots.in_partition(conn, "vendor", "")]


def vendor_currencies(store: StateStore) -> dict[str, str]:
    """Each stored vendor's billCurrency, the currency of its bills (BILL's own, USD, when it names none)."""
    return {vendor["id"]: vendor.get("billCurrency") or BILL_CURRENCY for vendor in stored_vendors(store)}


def vendor_facts(vendor: dict[str, Any]) -> VendorFacts:
    return VendorFacts(vendor["id"], vendor["name"], (vendor.get("additionalInfo") or {}).get("taxId"),
                       vendor.get("email"))


def match_and_create_suppliers(exact: ExactApi, store: StateStore, *, actor: str, create: bool = True,
                               claimant: Claimant | None = None, policy: DoubtPolicy | None = None) -> VendorReport:
    """Matches every known vendor; a vendor that matches nothing becomes a new Exact supplier, exactly once.

    An ambiguous or blocked match goes to the failure queue: a person decides, the pipeline never guesses.
    """
    with claimed(store, actor, claimant) as holder:
        return _match_and_create(exact, store, actor=actor, create=create, claimant=holder, policy=policy)


def _match_and_create(exact: ExactApi, store: StateStore, *, actor: str, create: bool, claimant: Claimant | None,
                      policy: DoubtPolicy | None) -> VendorReport:
    report = VendorReport()
    index = SupplierIndex(_supplier_facts(store))
    ledger, queue = PostingLedger(store), FailureQueue(store)
    with store.transaction() as conn:
        previous = mappings.vendor_match_rows(conn)
    for vendor in stored_vendors(store):
        report.read += 1
        known = previous.get(vendor["id"])
        if known and known["outcome"] in {"matched", "created"} and known["supplier_id"]:
            report.unchanged += 1
            continue
        match = index.match(vendor_facts(vendor))
        if match.outcome == "none" and create and not vendor.get("archived"):
            supplier_id = _create_supplier(exact, store, ledger, vendor, actor, claimant, policy)
            if supplier_id is not None:
                match = VendorMatch(vendor["id"], "created", None, supplier_id, (), match.tried)
                index.add(SupplierFacts(supplier_id, vendor["name"], vendor_facts(vendor).tax_id, vendor.get("email")))
                report.created += 1
        elif match.outcome == "matched":
            report.matched += 1
        if match.outcome in {"ambiguous", "blocked"}:
            queue.report("vendor", vendor["id"], partition="", reason=f"vendor_{match.outcome}",
                         message=f"vendor {vendor['name']!r}: {match.explain()}", snapshot=vendor,
                         tried={"tried": match.tried, "candidates": list(match.candidates)}, actor=actor)
            report.queued += 1
        elif match.outcome in {"matched", "created"}:
            queue.resolve("vendor", vendor["id"], actor=actor, note=f"supplier {match.supplier_id}")
        with store.transaction() as conn:
            mappings.save_vendor_match(conn, match, vendor["name"], actor=actor)
        report.matches.append({"vendor": vendor["name"], "outcome": match.outcome, "method": match.method or "",
                               "supplier": match.supplier_id or ""})
    return report


def supplier_for_vendor(store: StateStore) -> dict[str, str]:
    """vendor ID -> Exact supplier ID, for the vendors that are matched or created."""
    with store.transaction() as conn:
        rows = mappings.vendor_match_rows(conn)
    return {vid: row["supplier_id"] for vid, row in rows.items()
            if row["outcome"] in {"matched", "created"} and row["supplier_id"]}


def _supplier_facts(store: StateStore) -> list[SupplierFacts]:
    return [SupplierFacts(r["id"], r["name"], r["vat_number"], r["email"], r["blocked"])
            for r in stored_suppliers(store) if r["is_supplier"]]


def _create_supplier(exact: ExactApi, store: StateStore, ledger: PostingLedger, vendor: dict[str, Any],
                     actor: str, claimant: Claimant | None, policy: DoubtPolicy | None) -> str | None:
    facts = vendor_facts(vendor)
    fields: dict[str, Any] = {"Name": vendor["name"][:50]}
    if facts.tax_id:
        fields["VATNumber"] = facts.tax_id
    if facts.email:
        fields["Email"] = facts.email

    def create(guard: Callable[[], None]) -> Created:
        account = exact.create_supplier(fields, guard=guard)
        with store.transaction() as conn:
            reference.upsert_rows(conn, exact_suppliers, [supplier_row(account)])
        return Created(str(account.id))

    def find(sent: dict[str, Any]) -> Created | None:
        rows = list(exact.rows("crm/Accounts", select="ID,Name",
                               filter=f"Name eq {odata.string(sent['Name'])} and IsSupplier eq true"))
        return Created(str(rows[0]["ID"])) if rows else None

    intent = Intent("vendor", vendor["id"], "", "", "", None, fields["Name"], Decimal(0), payload=fields)
    posting = Posting(intent, create, find)
    result = post_exactly_once([posting], ledger, claimant, actor=actor, policy=policy)[vendor["id"]]
    return result.entry_id if result.outcome in {"posted", "recovered", "already_posted"} else None
