"""Reconciliation against Exact itself: each defect a person can plant in Exact makes its check fail, naming the bill.

Every test goes the real way: the whole graph posts a seeded firm to the Exact sandbox, a defect is planted in
Exact as a person would (through Exact's API, or the sandbox's bookkeeper screens), and exact_reconciliation
with its checks is materialized against SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pytest

from exact_bill_pipeline.clients.exact_online import odata
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.jobs import PAYABLES_ASSETS, REFERENCE_ASSETS
from exact_bill_pipeline.defs.reconciliation import RECONCILIATION_CHECKS, exact_reconciliation
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.state import exact_lines, snapshots
from exact_bill_pipeline.state.ledger import LedgerEntry, PostingLedger
from exact_bill_pipeline_tests.pipeline.conftest import fast_settings
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import Pipeline, control, exact_reader

CHECK_NAMES = {c.check_specs_by_output_name[name].name for c in RECONCILIATION_CHECKS
               for name in c.check_specs_by_output_name}


def reconcile(pipeline: Pipeline, **kwargs: Any) -> dg.ExecuteInProcessResult:
    return pipeline.run(selection=[exact_reconciliation, *RECONCILIATION_CHECKS], **kwargs)


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {c.check_name: c for c in result.get_asset_check_evaluations()}


def failing(result: dg.ExecuteInProcessResult) -> set[str]:
    return {name for name, check in checks(result).items() if not check.passed}


def named(check: dg.AssetCheckEvaluation) -> list[str]:
    return check.metadata["document_ids"].value


def table(check: dg.AssetCheckEvaluation) -> str:
    return check.metadata["table"].value


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return {k: v.value for k, v in result.asset_materializations_for_node("exact_reconciliation")[0].metadata.items()}


def posted(pipeline: Pipeline, kind: str = "bill") -> list[LedgerEntry]:
    return PostingLedger(pipeline.store).entries(kind=kind, state="posted")  # type: ignore[arg-type]


def bill_of(pipeline: Pipeline, bill_id: str) -> dict[str, Any]:
    with pipeline.store.transaction() as conn:
        return snapshots.get(conn, "bill", bill_id).data


def delete_entry(pipeline: Pipeline, path: str, entry_id: str) -> None:
    """DELETE through Exact's API, as an app (or a person in Exact's screens) would."""
    api = exact_reader(pipeline)
    api.request("DELETE", api.url(f"{path}({odata.guid(entry_id)})"))


@pytest.fixture
def synced(pipeline: Pipeline) -> Pipeline:
    """A seeded firm posted to Exact and reconciled once, with every reconciliation check passing."""
    result = pipeline.sync_everything()
    assert failing(result) & CHECK_NAMES == set()
    assert metadata(result)["expected_in_exact"] > 50
    return pipeline


def test_an_entry_added_by_hand_carrying_a_bill_id_fails_the_duplicates_and_both_totals_naming_the_bill(synced):
    entry = posted(synced)[3]
    exact_reader(synced).create_purchase_entry(entry.sent)  # the same entry, BILL ID and all, once more

    result = reconcile(synced)

    assert failing(result) == {"duplicates_in_exact", "exact_totals_per_day_match_bill",
                               "exact_totals_per_vendor_match_bill"}
    duplicates = checks(result)["duplicates_in_exact"]
    assert named(duplicates) == [entry.source_id]
    assert str(entry.entry_number) in table(duplicates)
    assert entry.source_id in table(checks(result)["exact_totals_per_day_match_bill"])
    vendor = bill_of(synced, entry.source_id)["vendorName"]
    assert vendor in table(checks(result)["exact_totals_per_vendor_match_bill"])


def test_an_amount_changed_in_exact_fails_the_differences_naming_the_bill_and_both_amounts(synced):
    entry = posted(synced)[5]
    bill = bill_of(synced, entry.source_id)
    control(synced.running, "exact", "PATCH", f"entries/{entry.exact_entry_id}/lines/1",
            {"amount": bill["billLineItems"][0]["amount"] + 1000})

    result = reconcile(synced)

    assert failing(result) == {"differences_in_exact", "exact_totals_per_day_match_bill",
                               "exact_totals_per_vendor_match_bill"}
    different = checks(result)["differences_in_exact"]
    assert named(different) == [entry.source_id]
    expected, booked = f"{bill['amount']:.2f}", f"{bill['amount'] + 1000:.2f}"
    assert expected in table(different)
    assert booked in table(different)
    assert metadata(result)["lines_read"] == 2  # the changed line and the payables line that follows it


def test_an_entry_deleted_in_exact_fails_the_deleted_check_naming_the_bill(synced):
    entry = posted(synced)[7]
    delete_entry(synced, "purchaseentry/PurchaseEntries", entry.exact_entry_id)

    result = reconcile(synced)

    assert {"deleted_in_exact", "exact_totals_per_day_match_bill"} <= failing(result)
    assert "missing_in_exact" not in failing(result)
    deleted = checks(result)["deleted_in_exact"]
    assert named(deleted) == [entry.source_id]
    assert f"entry {entry.entry_number} was deleted in Exact on" in table(deleted)


def test_a_bill_typed_by_hand_for_a_bill_the_connector_posted_fails_the_duplicates_naming_the_bill(synced):
    entry = posted(synced)[9]
    bill, sent = bill_of(synced, entry.source_id), entry.sent
    first_line = sent["PurchaseEntryLines"][0]
    typed = {"Journal": "60", "Supplier": sent["Supplier"], "EntryDate": sent["EntryDate"],
             "YourRef": bill["invoice"]["invoiceNumber"], "Description": "Office supplies, typed from the paper copy",
             "PurchaseEntryLines": [{k: v for k, v in first_line.items() if k != "Description"}]}
    created = exact_reader(synced).create_purchase_entry(typed)

    result = reconcile(synced)

    duplicates = checks(result)["duplicates_in_exact"]
    assert not duplicates.passed
    assert named(duplicates) == [entry.source_id]
    assert f"{created.entry_number} (a typed-by-hand)" in table(duplicates)


def test_a_bill_in_bill_that_exact_does_not_hold_fails_the_missing_check_until_it_is_posted(synced):
    pipeline = synced
    firm = Firm(pipeline.running.settings)
    vendor = next(v for v in firm.vendors if v.match_kind == "tax_id")
    account = next(a for a in firm.chart_of_accounts if a.exact_code and a.number.startswith("46"))
    new = control(pipeline.running, "bill", "POST", "bills", {
        "vendorId": vendor.id, "invoice": {"invoiceNumber": "LATE-1", "invoiceDate": pipeline.history()[1]},
        "billLineItems": [{"amount": 321.5, "classifications": {"chartOfAccountId": account.id}}]})
    day = new["createdTime"][:10]
    pipeline.run(selection=[PAYABLES_ASSETS[0]], partition=day)  # BILL's bills read; nothing posted yet

    missing = checks(reconcile(pipeline))["missing_in_exact"]

    assert not missing.passed
    assert named(missing) == [new["id"]]
    assert "not been posted yet" in table(missing)
    pipeline.run(selection=[PAYABLES_ASSETS[1]], partition=day)
    assert failing(reconcile(pipeline)) & CHECK_NAMES == set()


def test_a_payment_that_doubles_the_suppliers_payable_fails_the_differences_and_the_vendor_totals(synced):
    payment = posted(synced, "payment")[0]
    delete_entry(synced, "financialtransaction/BankEntries", payment.exact_entry_id)
    wrong_way = payment.sent
    wrong_way["BankEntryLines"][0]["AmountFC"] = -wrong_way["BankEntryLines"][0]["AmountFC"]  # money "received"
    exact_reader(synced).create_bank_entry(wrong_way)

    result = reconcile(synced)

    assert {"differences_in_exact", "exact_totals_per_vendor_match_bill"} <= failing(result)
    assert named(checks(result)["differences_in_exact"]) == [payment.source_id]
    vendors = table(checks(result)["exact_totals_per_vendor_match_bill"])
    assert f"-{payment.amount:.2f}" in vendors


def test_the_second_reconciliation_spends_one_call_per_thousand_new_lines_and_one_on_the_deletion_log(
        make_pipeline_for):
    pipeline = make_pipeline_for(fast_settings(bills=500))
    pipeline.run(selection=[*REFERENCE_ASSETS, *PAYABLES_ASSETS], days=pipeline.history())

    first = metadata(reconcile(pipeline))
    second = metadata(reconcile(pipeline))

    assert first["lines_read"] > 1000
    assert (first["full_read"], first["exact_calls"]) == (True, math.ceil(first["lines_read"] / 1000) + 1)
    assert (second["full_read"], second["lines_read"], second["exact_calls"]) == (False, 0, 2)
    assert second["documents"] == first["documents"]


def test_reads_stop_before_the_posting_reserve_and_the_next_run_resumes_where_they_stopped(synced):
    pipeline = synced
    exact_reader(pipeline).create_purchase_entry(posted(pipeline)[2].sent)
    client: ExactOnlineClient = pipeline.resources["exact"]
    spent = client.api().budget.figures().day_spent
    reserve = client.posting_reserve
    pipeline.resources["exact"] = ExactOnlineClient(**{**client.model_dump(), "daily_call_limit": spent + reserve + 1})

    stopped = reconcile(pipeline, raise_on_error=False)

    assert not stopped.success
    assert "kept in reserve for postings" in str(stopped.get_step_failure_events()[0].event_specific_data.error)
    assert pipeline.resources["exact"].api().budget.figures().day_left == reserve  # the reserve is untouched
    pipeline.resources["exact"] = client
    resumed = reconcile(pipeline)
    assert metadata(resumed)["lines_read"] == 0  # the lines were stored before the budget ran out
    assert not checks(resumed)["duplicates_in_exact"].passed


def test_a_first_reconciliation_after_a_deletion_reports_the_bill_as_missing_from_exact(make_pipeline_for):
    pipeline = make_pipeline_for()
    pipeline.run(selection=[*REFERENCE_ASSETS, *PAYABLES_ASSETS], days=pipeline.history())
    entry = posted(pipeline)[4]
    delete_entry(pipeline, "purchaseentry/PurchaseEntries", entry.exact_entry_id)

    result = reconcile(pipeline)

    # Exact's log names the deleted lines, which this connector never saw: the bill is reported all the same.
    missing = checks(result)["missing_in_exact"]
    assert named(missing) == [entry.source_id]
    assert f"posted it as entry {entry.entry_number}, which Exact no longer holds" in table(missing)


def test_after_a_pause_longer_than_exacts_deletion_log_a_full_read_still_finds_the_deleted_entry(make_pipeline_for):
    # An Exact whose deletion log has already forgotten every deletion: as if its two months had passed.
    pipeline = make_pipeline_for(fast_settings(deleted_log_days=0))
    assert failing(pipeline.sync_everything()) & CHECK_NAMES == set()
    entry = posted(pipeline)[6]
    delete_entry(pipeline, "purchaseentry/PurchaseEntries", entry.exact_entry_id)
    # The connector last read the log 60 days ago.
    with pipeline.store.transaction() as conn:
        cursor = exact_lines.load_cursor(conn)
        cursor.deleted_read_at = (datetime.now(tz=UTC) - timedelta(days=60)).isoformat()
        exact_lines.save_cursor(conn, cursor)

    result = reconcile(pipeline)

    assert metadata(result)["full_read"] is True
    assert metadata(result)["deletions_read"] == 0
    deleted = checks(result)["deleted_in_exact"]
    assert named(deleted) == [entry.source_id]
    assert metadata(reconcile(pipeline))["full_read"] is False
