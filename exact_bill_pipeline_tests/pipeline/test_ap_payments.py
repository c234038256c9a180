"""Payments, part payments and vendor credits of the seeded firm's AP documents (issue 14), end to end: the real
asset graph against both sandboxes, then what Exact holds read back through its own REST API (open items in
read/financial/PayablesList, transaction lines), never from the connector's ledger alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from exact_bill_pipeline.defs.payables import bill_payments, exact_payment_entries
from exact_bill_pipeline.domain.payments import credit_application_id
from exact_bill_pipeline.domain.postings import money, partition_of
from exact_bill_pipeline.domain.records import Payment
from exact_bill_pipeline.sandbox.ap_seed import PLANS, ApDocuments
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import PostingLedger
from exact_bill_pipeline_tests.pipeline.conftest import fast_settings
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import Pipeline, control, run_figures
from exact_bill_pipeline_tests.sandbox.exact_helpers import ExactClient, onboard

PAYABLES = "read/financial/PayablesList"
LINES = "financialtransaction/TransactionLines"


@dataclass
class Synced:
    pipeline: Pipeline
    docs: ApDocuments
    exact: ExactClient
    result: dg.ExecuteInProcessResult

    def __iter__(self) -> Iterator[Any]:
        return iter((self.pipeline, self.docs, self.exact))


@pytest.fixture
def synced(make_pipeline_for) -> Synced:
    """The whole graph over the history of a firm with the AP documents, once."""
    pipeline = make_pipeline_for(fast_settings(bills=40, ap_documents=True))
    result = pipeline.sync_everything()
    return Synced(pipeline, ApDocuments(Firm(pipeline.running.settings)), onboard(pipeline.running), result)


def bill_of(docs: ApDocuments, key: str) -> dict[str, Any]:
    return next(bill for plan, bill in zip(PLANS, docs.bills, strict=True) if plan.key == key)


def payments_of(docs: ApDocuments, key: str) -> list[dict[str, Any]]:
    return [p for p in docs.payments if p["billId"] == bill_of(docs, key)["id"]]


def entry_number(pipeline: Pipeline, kind: str, source_id: str) -> int:
    entry = PostingLedger(pipeline.store).get(kind, source_id)  # type: ignore[arg-type]
    assert entry is not None, f"{kind} {source_id} is not in the ledger"
    assert entry.state == "posted", (kind, source_id, entry.state)
    assert entry.entry_number is not None
    return entry.entry_number


def open_in_exact(exact: ExactClient, invoice_number: int) -> Decimal | None:
    """What Exact's PayablesList says is still open on an invoice (or credit note); None when it is settled."""
    rows = exact.results(PAYABLES, {"$select": "Amount,InvoiceNumber,JournalCode",
                                    "$filter": f"InvoiceNumber eq {invoice_number}"})
    rows = [r for r in rows if r["JournalCode"] == "60"]
    assert len(rows) <= 1, rows
    return money(rows[0]["Amount"]) if rows else None


def bill_due(pipeline: Pipeline, bill_id: str) -> Decimal:
    return money(pipeline.resources["bill"].api().bill(bill_id).raw["dueAmount"])


def entry_lines(exact: ExactClient, entry_number: int, journal: str) -> list[dict[str, Any]]:
    return exact.results(LINES, {
        "$select": "LineNumber,AmountFC,GLAccountCode,InvoiceNumber,Type,Description,Account",
        "$filter": f"EntryNumber eq {entry_number} and JournalCode eq '{journal}'"})


def test_a_part_paid_bill_leaves_exactly_bills_due_amount_open_in_exact(synced):
    pipeline, docs, exact = synced
    bill = bill_of(docs, "part-paid")
    (payment,) = payments_of(docs, "part-paid")
    invoice = entry_number(pipeline, "bill", bill["id"])
    paid = entry_number(pipeline, "payment", payment["id"])

    assert bill_due(pipeline, bill["id"]) == Decimal("2800.00")
    assert open_in_exact(exact, invoice) == bill_due(pipeline, bill["id"])
    # The bank line names the invoice it pays and carries the payment's own amount, out of the bank.
    on_supplier = [line for line in entry_lines(exact, paid, "20") if line["GLAccountCode"] == "1600"]
    assert [(line["AmountFC"], line["InvoiceNumber"]) for line in on_supplier] == [(2000.0, invoice)]


def test_a_bill_paid_in_two_payments_is_cleared_by_both(synced):
    pipeline, docs, exact = synced
    bill = bill_of(docs, "two-payments")
    first, second = payments_of(docs, "two-payments")
    invoice = entry_number(pipeline, "bill", bill["id"])
    for payment in (first, second):
        paid = entry_number(pipeline, "payment", payment["id"])
        assert [line["InvoiceNumber"] for line in entry_lines(exact, paid, "20")
                if line["GLAccountCode"] == "1600"] == [invoice]

    assert bill_due(pipeline, bill["id"]) == 0
    assert open_in_exact(exact, invoice) is None


def test_a_vendor_credit_is_a_purchase_credit_note_with_negative_amounts_open_until_applied(synced):
    pipeline, docs, exact = synced
    unapplied = docs.vendor_credits[2]
    note = entry_number(pipeline, "vendor_credit", unapplied["id"])
    lines = entry_lines(exact, note, "60")

    assert {line["Type"] for line in lines} == {31}  # Exact's purchase credit note
    payable = next(line for line in lines if line["LineNumber"] == 0)
    expense = [line["AmountFC"] for line in lines if line["LineNumber"] > 0]
    assert expense == [-float(unapplied["amount"])]
    assert payable["AmountFC"] == float(unapplied["amount"])  # a debit: the supplier owes it back
    assert open_in_exact(exact, note) == -money(unapplied["amount"])


def test_a_payment_applying_a_credit_settles_the_invoice_and_the_credit_note(synced):
    pipeline, docs, exact = synced
    bill, credit = bill_of(docs, "credit-applied"), docs.vendor_credits[0]
    (payment,) = payments_of(docs, "credit-applied")
    invoice = entry_number(pipeline, "bill", bill["id"])
    note = entry_number(pipeline, "vendor_credit", credit["id"])
    applied = entry_number(pipeline, "credit_application", credit_application_id(payment["id"], credit["id"]))

    # The money by bank, the credit by a general journal entry of its own: invoice debited, credit note credited.
    assert [line["AmountFC"] for line in entry_lines(exact, entry_number(pipeline, "payment", payment["id"]), "20")
            if line["GLAccountCode"] == "1600"] == [1090.0]
    assert sorted((line["AmountFC"], line["InvoiceNumber"]) for line in entry_lines(exact, applied, "90")) == [
        (-150.0, note), (150.0, invoice)]
    assert open_in_exact(exact, invoice) is None
    assert open_in_exact(exact, note) is None


def test_a_credit_applied_in_part_leaves_the_rest_of_the_credit_note_open(synced):
    pipeline, docs, exact = synced
    bill, credit = bill_of(docs, "credit-in-part"), docs.vendor_credits[1]
    invoice = entry_number(pipeline, "bill", bill["id"])
    note = entry_number(pipeline, "vendor_credit", credit["id"])

    assert open_in_exact(exact, invoice) is None
    assert bill_due(pipeline, bill["id"]) == 0
    assert open_in_exact(exact, note) == Decimal("-200.00")  # 300 credited, 100 applied


def test_a_payment_in_the_vendors_currency_clears_its_invoice_and_books_the_exchange_difference(synced):
    """The EUR bill is in Exact in EUR at its own rate; its payment, at another rate, settles it in full and Exact
    books the difference in the division's currency on the exchange-difference account (4790)."""
    pipeline, docs, exact = synced
    bill = bill_of(docs, "euro-paid")
    (payment,) = payments_of(docs, "euro-paid")
    invoice = entry_number(pipeline, "bill", bill["id"])
    paid = entry_number(pipeline, "payment", payment["id"])

    assert open_in_exact(exact, invoice) is None
    lines = exact.results(LINES, {"$select": "AmountDC,AmountFC,Currency,GLAccountCode",
                                  "$filter": f"EntryNumber eq {paid} and JournalCode eq '20'"})
    assert {line["Currency"] for line in lines if line["GLAccountCode"] == "1600"} == {"EUR"}
    difference = [money(line["AmountDC"]) for line in lines if line["GLAccountCode"] == "4790"]
    assert difference == [money(Decimal("3200") * (Decimal("1.0956") - Decimal("1.0812")))]  # paid dearer: a loss


def test_every_payment_credit_note_and_credit_application_costs_one_exact_call(synced):
    payments = run_figures(synced.result, "exact_payment_entries")
    notes = run_figures(synced.result, "exact_purchase_credit_notes")
    assert (payments["credit_applications_posted"], notes["posted"]) == (2, 3)
    assert payments["exact_calls"] == payments["posted"] + payments["credit_applications_posted"]
    assert notes["exact_calls"] == notes["posted"]
    again = synced.pipeline.run([bill_payments, exact_payment_entries], days=synced.pipeline.history())
    assert run_figures(again, "exact_payment_entries")["exact_calls"] == 0


def test_a_payment_paying_more_than_is_open_in_exact_waits_as_overpaid(synced):
    pipeline, docs, exact = synced
    bill = bill_of(docs, "part-paid")
    (first,) = payments_of(docs, "part-paid")
    invoice = entry_number(pipeline, "bill", bill["id"])
    # BILL voids the first payment (Exact keeps it: a voided payment is flagged, never reversed by the connector)
    # and the whole bill is paid again: Exact would then have 2000 more paid than the bill.
    control(pipeline.running, "bill", "POST", f"payments/{first['id']}/void", {})
    again = control(pipeline.running, "bill", "POST", "payments", {"billId": bill["id"]})
    day = partition_of(Payment.from_snapshot(again))
    pipeline.run([bill_payments, exact_payment_entries], partition=day)

    item = FailureQueue(pipeline.store).find("payment", again["id"])
    assert item is not None
    assert item.reason_code == "overpaid"
    assert "4800.00" in item.message
    assert "2800.00" in item.message
    assert open_in_exact(exact, invoice) == Decimal("2800.00")


def test_every_posted_bills_open_amount_in_exact_is_bills_due_amount(synced):
    """The whole firm, not just the awkward bills: what Exact's PayablesList leaves open on each posted invoice is
    what BILL says is still due (a settled invoice leaves the list)."""
    pipeline, _docs, exact = synced
    posted = [e for e in PostingLedger(pipeline.store).entries(kind="bill") if e.state == "posted"]
    assert len(posted) > 30
    differing = {}
    for entry in posted:
        open_amount = open_in_exact(exact, entry.entry_number) or Decimal("0.00")
        if open_amount != bill_due(pipeline, entry.source_id):
            differing[entry.source_id] = (open_amount, bill_due(pipeline, entry.source_id))
    assert differing == {}
