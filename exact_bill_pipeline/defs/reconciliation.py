"""Reconciliation against Exact itself: the asset that reads what Exact holds, and the checks that read the asset."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.payables import bill_bills, bill_payments, exact_payment_entries, exact_purchase_entries
from exact_bill_pipeline.defs.reporting import api_calls, call_marks, preview
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.domain.reconciliation import FindingKind
from exact_bill_pipeline.services.reconciliation import reconcile_with_exact
from exact_bill_pipeline.state import reconciliations
from exact_bill_pipeline.transport.errors import BudgetExhausted

GROUP = "reconciliation"
PREVIEW_FINDINGS = 100
# Two reconciliations at once would both move the read cursor; dagster.yaml gives every pool a limit of 1.
RECONCILIATION_POOL = "exact_reconciliation"


@dg.asset(group_name=GROUP, kinds={"exact_online"}, pool=RECONCILIATION_POOL,
          deps=[bill_bills, bill_payments, exact_purchase_entries, exact_payment_entries])
def exact_reconciliation(exact: ExactOnlineClient, state: StateDatabase,
                         accounting: AccountingSettings) -> dg.MaterializeResult:
    """What Exact really holds for the connector's bills and payments, matched with BILL.

    Per document: exactly one entry, on the same supplier, invoice number and date, with each line's GL account,
    cost center and amount (for payments, the invoices they settle). Per day and per vendor: Exact's totals
    against BILL's. Reads Exact's sync endpoints incrementally (1,000 lines a call, plus its deletion log), on
    the day's read budget, never the posting reserve. The checks on this asset fail on what it finds.
    """
    api = exact.api()
    marks = call_marks(api)
    try:
        report = reconcile_with_exact(api, state.store(), accounting.reconciliation())
    except BudgetExhausted as spent:
        raise dg.Failure(description=f"Reconciliation stopped: {spent} What it read so far is kept; the next "
                                     f"run continues from there.") from spent
    result, read = report.result, report.read
    rows = [f.row() for f in result.findings]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": result.documents, "documents": result.documents,
        "expected_in_exact": result.expected, "entries_in_scope": result.entries_in_scope,
        **result.counts(), "findings": preview(rows, limit=PREVIEW_FINDINGS),
        "lines_read": read.lines_read, "full_read": read.full_read, "deletions_read": read.deletions_read,
        **api_calls(api, since=marks),
    })


def _check(state: StateDatabase, kinds: Sequence[FindingKind]) -> dg.AssetCheckResult:
    """Fails on any finding of these kinds in the latest reconciliation, naming each document."""
    with state.store().transaction() as conn:
        run = reconciliations.latest(conn)
        found = reconciliations.findings(conn, run.id, kinds) if run else []
    if run is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "Exact has not been reconciled yet: "
                                                                     "materialize exact_reconciliation"})
    named = sorted({f.source_id for f in found if f.source_id})
    return dg.AssetCheckResult(passed=not found, metadata={
        "findings": len(found), "table": preview([f.row() for f in found], limit=PREVIEW_FINDINGS),
        "document_ids": dg.MetadataValue.json(named), "reconciled_at": run.finished_at.isoformat(),
    })


@dg.asset_check(asset=exact_reconciliation, description="Each BILL bill or payment is in Exact at most once, and "
                "Exact holds no entry BILL does not account for: an entry added by hand carrying a BILL ID, a bill "
                "typed by hand that the connector also posted, an entry of a bill archived or voided in BILL.")
def duplicates_in_exact(state: StateDatabase) -> dg.AssetCheckResult:
    return _check(state, ("duplicated", "extra"))


@dg.asset_check(asset=exact_reconciliation, description="Every approved bill and every paid payment BILL has is "
                "in Exact (those waiting in the failure queue are its own checks).")
def missing_in_exact(state: StateDatabase) -> dg.AssetCheckResult:
    return _check(state, ("missing",))


@dg.asset_check(asset=exact_reconciliation, description="Each entry in Exact says what BILL says: supplier, "
                "invoice number, date, currency, each line's GL account, cost center and amount, and for payments "
                "the amount on the supplier and the invoices settled.")
def differences_in_exact(state: StateDatabase) -> dg.AssetCheckResult:
    return _check(state, ("different",))


@dg.asset_check(asset=exact_reconciliation, description="No entry the connector posted was deleted in Exact "
                "while BILL still has its bill or payment.")
def deleted_in_exact(state: StateDatabase) -> dg.AssetCheckResult:
    return _check(state, ("deleted",))


@dg.asset_check(asset=exact_reconciliation, description="Per day, the bills and the payments in Exact add up to "
                "BILL's (each day names the documents behind a difference).")
def exact_totals_per_day_match_bill(state: StateDatabase) -> dg.AssetCheckResult:
    return _check(state, ("day_total",))


@dg.asset_check(asset=exact_reconciliation, description="Per vendor, the bills and the payments in Exact add up to "
                "BILL's, so the supplier's payable in Exact is what BILL says is open.")
def exact_totals_per_vendor_match_bill(state: StateDatabase) -> dg.AssetCheckResult:
    return _check(state, ("vendor_total",))


RECONCILIATION_CHECKS = [duplicates_in_exact, missing_in_exact, differences_in_exact, deleted_in_exact,
                         exact_totals_per_day_match_bill, exact_totals_per_vendor_match_bill]

reconciliation_job = dg.define_asset_job(
    "reconciliation", selection=dg.AssetSelection.assets(exact_reconciliation),
    description="Reads what Exact holds and matches it with BILL; its checks name every difference.")
