"""The awkward AP documents of a real firm, end to end: what Exact holds afterwards, read through its API.

VAT-bearing accounts, a vendor billing in EUR, an invoice number used twice, a bill dated in a closed period.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.sandbox.ap_seed import ApDocuments
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.services.reconciliation import ReconcileSettings, match_with_bill
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline_tests.pipeline.conftest import fast_settings
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import Pipeline, control, entries_in_exact
from exact_bill_pipeline_tests.pipeline.test_recovery import use_sandboxes


def ap_firm(**exact: object):
    return fast_settings(bills=40, ap_documents=True, **exact)


def by_invoice(pipeline: Pipeline) -> dict[str, list[dict[str, Any]]]:
    """Exact's purchase entries per invoice number (YourRef), each as its lines."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entries in entries_in_exact(pipeline).values():
        for entry in entries:
            found.setdefault(entry["your_ref"], []).append(entry)
    return found


def lines_of(entry: dict[str, Any]) -> list[tuple[str | None, Decimal]]:
    return sorted((line.gl_account_code, line.amount_fc) for line in entry["lines"] if line.line_number)


def payable(entry: dict[str, Any]) -> Any:
    return next(line for line in entry["lines"] if line.line_number == 0)


def queued(pipeline: Pipeline, reason: str) -> list[Any]:
    return FailureQueue(pipeline.store).items(status=None, reason=reason)


@pytest.fixture
def synced(make_pipeline_for) -> Pipeline:
    pipeline = make_pipeline_for(ap_firm())
    pipeline.sync_everything()
    return pipeline


def test_vat_is_explicit_and_each_entry_totals_what_bill_says(synced: Pipeline):
    entries = by_invoice(synced)
    # 4670 carries an excluding 6 % code: the net and its VAT make up BILL's 1,180.00, nothing on top.
    excluding = entries["KHD-30091"][0]
    assert lines_of(excluding) == [("1500", Decimal("66.79")), ("4670", Decimal("1113.21"))]
    assert payable(excluding).amount_fc == Decimal("-1180.00")
    # 4680 carries an including 8.25 % code: Exact takes the VAT out of BILL's 432.50.
    including = entries["LC-7731"][0]
    assert lines_of(including) == [("1500", Decimal("32.96")), ("4680", Decimal("399.54"))]
    assert payable(including).amount_fc == Decimal("-432.50")


def test_a_bill_in_the_vendors_currency_is_booked_in_it_at_its_rate(synced: Pipeline):
    entry = by_invoice(synced)["LM-F-0467"][0]
    line = payable(entry)
    assert (line.currency, line.amount_fc) == ("EUR", Decimal("-1450.00"))
    assert line.amount_dc == pytest.approx(-1450.00 * 1.0934, abs=0.01)


def test_an_invoice_number_used_twice_waits_naming_both_bills(synced: Pipeline):
    assert len(by_invoice(synced)["NSA-2291"]) == 1
    [item] = queued(synced, "duplicate_invoice")
    first = next(iter(entries_in_exact(synced).keys() & set(item.tried["bills"])))
    assert item.tried["bills"] == [item.source_id, first]
    assert first in item.message
    assert "release" in item.message


def test_a_bill_in_a_closed_period_waits_and_is_not_moved(synced: Pipeline):
    [item] = queued(synced, "period_closed")
    assert "Period is closed" in item.message
    assert "not moved into another period" in item.message
    assert "GPM-RENT-OLD" not in by_invoice(synced)


def test_the_reconciliation_finds_only_what_the_queue_explains(synced: Pipeline):
    settings = synced.resources["accounting"]
    result = match_with_bill(synced.store, ReconcileSettings(settings.posting(), settings.reconciliation().journals))
    assert [(f.kind, f.invoice) for f in result.findings if f.source_kind != "payment"] == []


def test_a_released_duplicate_is_posted_and_audited(make_pipeline_for, monkeypatch):
    pipeline = make_pipeline_for(ap_firm())
    pipeline.sync_everything()
    use_sandboxes(pipeline, monkeypatch)
    [item] = queued(pipeline, "duplicate_invoice")
    runner = CliRunner()
    result = runner.invoke(main, ["failures", "release", str(item.id), "--note", "a real second invoice"])
    assert result.exit_code == 0, result.output
    assert len(by_invoice(pipeline)["NSA-2291"]) == 2
    history = FailureQueue(pipeline.store).history(FailureQueue(pipeline.store).get(item.id))
    assert [h["action"] for h in history][-2:] == ["released", "resolved"]


def test_exacts_own_duplicate_rule_keeps_a_released_bill_waiting(make_pipeline_for, monkeypatch):
    pipeline = make_pipeline_for(ap_firm(unique_your_ref=True))
    pipeline.sync_everything()
    use_sandboxes(pipeline, monkeypatch)
    [item] = queued(pipeline, "duplicate_invoice")
    result = CliRunner().invoke(main, ["failures", "release", str(item.id), "--note", "a real second invoice"])
    assert result.exit_code == 1
    assert "Your reference already exists" in result.output
    after = FailureQueue(pipeline.store).get(item.id)
    assert (after.status, after.reason_code) == ("open", "duplicate_invoice")
    assert len(by_invoice(pipeline)["NSA-2291"]) == 1


def test_a_vat_rule_per_gl_account_wins_over_the_accounts_own_code(make_pipeline_for, monkeypatch):
    pipeline = make_pipeline_for(ap_firm())
    use_sandboxes(pipeline, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(main, ["mapping", "vat", "4670"]).exit_code == 2  # neither a code nor --no-vat
    set_rule = runner.invoke(main, ["mapping", "vat", "4670", "--no-vat", "--note", "use tax is paid separately"])
    assert set_rule.exit_code == 0, set_rule.output
    assert "GL 4670 -> none" in runner.invoke(main, ["mapping", "list"]).output
    pipeline.sync_everything()
    entry = by_invoice(pipeline)["KHD-30091"][0]
    assert lines_of(entry) == [("4670", Decimal("1180.00"))]  # the no-VAT code: nothing on top, no VAT line
    assert next(line for line in entry["lines"] if line.line_number == 1).gl_account_code == "4670"
    assert payable(entry).amount_fc == Decimal("-1180.00")


def test_a_credit_from_a_vendor_billing_in_eur_is_a_credit_note_in_eur_at_its_rate(make_pipeline_for):
    pipeline = make_pipeline_for(ap_firm())
    docs = ApDocuments(Firm(pipeline.running.settings))
    line = {"amount": 240.0, "description": "Brand identity, revision credited",
            "classifications": {"chartOfAccountId": docs._accounts["4320"], "departmentId": docs._departments["300"]}}
    credit = control(pipeline.running, "bill", "POST", "vendor-credits", {
        "vendorId": docs.euro_vendor["id"], "referenceNumber": "LM-AV-0031", "exchangeRate": 1.0901,
        "creditDate": pipeline.history()[1], "vendorCreditLineItems": [line]})
    pipeline.run(days=(pipeline.history()[0], credit["createdTime"][:10]))
    [note] = by_invoice(pipeline)["LM-AV-0031"]
    assert {line.type for line in note["lines"]} == {31}  # a purchase credit note
    assert (payable(note).currency, payable(note).amount_fc) == ("EUR", Decimal("240.00"))
    assert payable(note).amount_dc == pytest.approx(240.0 * 1.0901, abs=0.01)


def test_a_credit_on_a_vat_bearing_account_follows_the_vat_rules_as_a_bill_does(make_pipeline_for):
    pipeline = make_pipeline_for(ap_firm())
    docs = ApDocuments(Firm(pipeline.running.settings))
    line = {"amount": 432.5, "description": "Catering cancelled",
            "classifications": {"chartOfAccountId": docs._accounts["4680"]}}
    credit = control(pipeline.running, "bill", "POST", "vendor-credits", {
        "vendorId": docs._vendor(11)[0], "referenceNumber": "LC-CR-0007", "creditDate": pipeline.history()[1],
        "vendorCreditLineItems": [line]})
    pipeline.run(days=(pipeline.history()[0], credit["createdTime"][:10]))
    [note] = by_invoice(pipeline)["LC-CR-0007"]
    # The including 8.25 % code of 4680 takes the VAT out of BILL's amount, negative on a credit note.
    assert lines_of(note) == [("1500", Decimal("-32.96")), ("4680", Decimal("-399.54"))]
    assert payable(note).amount_fc == Decimal("432.50")
    settings = pipeline.resources["accounting"]
    result = match_with_bill(pipeline.store, ReconcileSettings(settings.posting(), settings.reconciliation().journals))
    assert [f for f in result.findings if f.source_id == credit["id"]] == []
