"""The asset graph against the sandboxes: every postable, mapped bill posted once, the rest queued with reasons."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg

from exact_bill_pipeline.domain.postings import money
from exact_bill_pipeline.sandbox.seed import BILL_ONLY_DEPARTMENT, Firm
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import PostingLedger
from exact_bill_pipeline.state.mappings import vendor_match_rows
from exact_bill_pipeline_tests.pipeline.conftest import fast_settings
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import (
    bill_id_of,
    exact_reader,
    posts,
    run_figures,
    sandbox_entries,
)


def expectations(firm: Firm) -> tuple[dict[str, dict], dict[str, set[str]]]:
    """From the seed alone: which bills must post, and which must wait (with the reason they wait)."""
    accounts = {a.id: a for a in firm.chart_of_accounts}
    departments = {d.id: d.short_name for d in firm.departments}
    ambiguous = {v.id for v in firm.vendors if v.match_kind == "ambiguous"}
    postable, waiting = {}, {"vendor": set(), "mapping": set()}
    for index in range(firm.bill_count):
        bill = firm.bill(index)
        if bill["approvalStatus"] != "APPROVED" or bill["archived"]:
            continue
        lines = bill["billLineItems"]
        unmapped = any(accounts[line["classifications"]["chartOfAccountId"]].exact_code
                       != accounts[line["classifications"]["chartOfAccountId"]].number
                       or departments.get(line["classifications"].get("departmentId")) == BILL_ONLY_DEPARTMENT[0]
                       for line in lines)
        if bill["vendorId"] in ambiguous:
            waiting["vendor"].add(bill["id"])
        elif unmapped:
            waiting["mapping"].add(bill["id"])
        else:
            postable[bill["id"]] = bill
    return postable, waiting


def test_every_mapped_bill_is_posted_once_on_the_right_account_cost_center_supplier_and_amounts(make_pipeline_for):
    pipeline = make_pipeline_for(fast_settings(bills=240))
    result = pipeline.sync_everything()
    assert result.success

    firm = Firm(pipeline.running.settings)
    postable, _waiting = expectations(firm)
    # Entries typed by hand before the connector existed carry no BILL ID.
    entries = [e for e in sandbox_entries(pipeline.running) if bill_id_of(e) is not None]
    by_bill = Counter(bill_id_of(e) for e in entries)
    assert set(by_bill) == set(postable)
    assert set(by_bill.values()) == {1}  # exactly once

    gl_code = {a.id: a.code for a in firm.gl_accounts}
    accounts = {a.id: a for a in firm.chart_of_accounts}
    departments = {d.id: d.short_name for d in firm.departments}
    with pipeline.store.transaction() as conn:
        supplier_of = {vid: row["supplier_id"] for vid, row in vendor_match_rows(conn).items()}
    expected_supplier = {r.vendor_index: r.id for r in firm.relations if r.vendor_index is not None}
    for entry in entries:
        bill = postable[bill_id_of(entry)]
        vendor = next(v for v in firm.vendors if v.id == bill["vendorId"])
        assert entry["Supplier"] == supplier_of[vendor.id]
        if vendor.match_kind in {"tax_id", "name", "email"}:
            assert entry["Supplier"] == expected_supplier[vendor.index]
        assert entry["YourRef"] == bill["invoice"]["invoiceNumber"]
        assert entry["Journal"] == "60"
        lines = sorted((gl_code.get(line["GLAccount"]), line.get("CostCenter") or "", money(line["AmountFC"]))
                       for line in entry["Lines"])
        wanted = sorted((accounts[i["classifications"]["chartOfAccountId"]].number,
                         departments.get(i["classifications"].get("departmentId")) or "", money(i["amount"]))
                        for i in bill["billLineItems"])
        assert lines == wanted
        assert sum((money(line["AmountFC"]) for line in entry["Lines"]), Decimal(0)) == money(bill["amount"])


def test_bills_that_cannot_be_mapped_wait_in_the_queue_with_their_reasons(make_pipeline_for):
    pipeline = make_pipeline_for(fast_settings(bills=240))
    pipeline.sync_everything()
    _postable, waiting = expectations(Firm(pipeline.running.settings))
    items = {i.source_id: i for i in FailureQueue(pipeline.store).items(kind="bill")}
    assert set(items) == waiting["vendor"] | waiting["mapping"]
    assert {items[b].reason_code for b in waiting["vendor"]} == {"vendor_ambiguous"}
    assert {items[b].reason_code for b in waiting["mapping"]} <= {"unmapped_gl_account", "unmapped_cost_center"}
    sample = items[sorted(waiting["mapping"])[0]]
    assert sample.snapshot["id"] == sample.source_id
    assert sample.tried
    assert all("bill_account" in t for t in sample.tried)
    assert "maps to no Exact" in sample.message
    assert sample.attempts == 1


def test_the_checks_name_the_waiting_bills_and_exact_reconciles_with_bill(pipeline):
    result = pipeline.sync_everything()
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    waiting = {i.source_id for i in FailureQueue(pipeline.store).items(kind="bill")}
    assert not checks["unmatched_bills"].passed
    assert set(checks["unmatched_bills"].metadata["bill_ids"].value) == waiting
    assert checks["bills_changed_after_posting"].passed
    assert checks["reference_data_fresh"].passed
    reconciliation = [c for c in checks.values() if c.asset_key == dg.AssetKey("exact_reconciliation")]
    assert len(reconciliation) == 6
    assert all(c.passed for c in reconciliation), [c.check_name for c in reconciliation if not c.passed]


def test_a_second_run_writes_nothing_anywhere(pipeline):
    pipeline.sync_everything()
    exact_writes, bill_writes = posts(pipeline.running, "exact"), posts(pipeline.running, "bill")
    ledger = PostingLedger(pipeline.store).entries()

    result = pipeline.sync_everything()

    assert result.success
    assert posts(pipeline.running, "exact") == exact_writes
    assert posts(pipeline.running, "bill") == bill_writes
    assert PostingLedger(pipeline.store).entries() == ledger
    posted = run_figures(result, "exact_purchase_entries")
    assert posted["posted"] == 0
    assert posted["already_posted"] == len([e for e in ledger if e.source_kind == "bill"])
    mapping = result.asset_materializations_for_node("account_mapping")[0].metadata
    assert (mapping["created_in_bill"].value, mapping["rows_changed"].value) == (0, 0)


def test_a_healthy_run_spends_one_exact_call_per_posted_bill(pipeline):
    result = pipeline.sync_everything()
    figures = run_figures(result, "exact_purchase_entries")
    assert figures["posted"] > 50
    assert figures["exact_calls"] == figures["posted"]


def test_a_bill_and_its_full_payment_leave_the_suppliers_payable_at_zero(pipeline):
    pipeline.sync_everything()
    ledger = PostingLedger(pipeline.store)
    entry_of = {(e.source_kind, e.source_id): e.exact_entry_id for e in ledger.entries(state="posted")}
    with pipeline.store.transaction() as conn:
        paid = {s.source_id: s.data for s in snapshots.in_partitions(conn, "payment", _days(pipeline))}
    payable: dict[str, Decimal] = {}
    for line in exact_reader(pipeline).sync_transaction_lines(1):
        if line.gl_account_code == "1600" and line.entry_id is not None:
            payable[str(line.entry_id)] = payable.get(str(line.entry_id), Decimal(0)) + money(line.amount_fc)
    settled = [(p["billId"], p["id"]) for p in paid.values() if ("payment", p["id"]) in entry_of]
    assert len(settled) > 10
    for bill_id, payment_id in settled:
        bill_entry, payment_entry = entry_of[("bill", bill_id)], entry_of[("payment", payment_id)]
        assert payable[bill_entry] < 0  # the bill is owed to the supplier: a credit on accounts payable
        assert payable[bill_entry] + payable[payment_entry] == 0, (bill_id, payment_id)


def _days(pipeline) -> list[str]:
    first, last = (date.fromisoformat(d) for d in pipeline.history())
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
