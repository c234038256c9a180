"""The reconciliation rules: what counts as missing, extra, duplicated, different and deleted, and the totals."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from exact_bill_pipeline.domain.postings import GLTarget, PostingSettings
from exact_bill_pipeline.domain.reconciliation import (
    Deletion,
    Document,
    Journals,
    Line,
    Posted,
    bill_document,
    payment_document,
    reconcile,
)
from exact_bill_pipeline.domain.records import Bill, Payment

JOURNALS = Journals(purchase="60", payment="20")
ACME, GLOBEX = "s-acme", "s-globex"
MANAGED = {ACME: "v-acme", GLOBEX: "v-globex"}
STARTED = datetime(2026, 6, 1, 9, tzinfo=UTC)
ACCOUNTS = {"a-soft": GLTarget("g-4140", "4140"), "a-office": GLTarget("g-4640", "4640")}
CENTERS = {"d-100": "100"}
_ids = itertools.count(1)

BILL = {
    "id": "00n1", "vendorId": "v-acme", "vendorName": "Acme", "amount": 150.5, "approvalStatus": "APPROVED",
    "archived": False, "createdTime": "2026-06-02T10:00:00.000+00:00", "dueDate": "2026-07-02",
    "invoice": {"invoiceNumber": "INV-7", "invoiceDate": "2026-06-02"},
    "billLineItems": [
        {"amount": 100.25, "description": "Licences",
         "classifications": {"chartOfAccountId": "a-soft", "departmentId": "d-100"}},
        {"amount": 50.25, "description": "Paper", "classifications": {"chartOfAccountId": "a-office"}},
    ],
}
PAYMENT = {"id": "stp1", "vendorId": "v-acme", "vendorName": "Acme", "amount": 150.5, "status": "PAID",
           "processDate": "2026-06-20", "billPayments": [{"billId": "00n1", "amount": 150.5}]}


def purchase_entry(bill_id: str | None = "00n1", *, number: int = 60000001, supplier: str = ACME,
                   your_ref: str = "INV-7", day: date = date(2026, 6, 2), created: datetime = STARTED,
                   lines: tuple[tuple[str, str | None, str], ...] = (("4140", "100", "100.25"),
                                                                    ("4640", None, "50.25")),
                   currency: str = "USD") -> list[Line]:
    """The TransactionLines Exact books for a purchase entry: the payables line 0, then one per expense line."""
    entry_id = f"e{next(_ids)}"
    description = f"BILL {bill_id} Acme" if bill_id else "Typed in by hand"
    total = sum(Decimal(amount) for _gl, _cc, amount in lines)
    rows = [("1600", None, -total, description)] + [(gl, cc, Decimal(amount), "a line") for gl, cc, amount in lines]
    return [Line(f"{entry_id}-{n}", entry_id, number, n, "60", 30, day, gl, cc, supplier, amount, currency, your_ref,
                 number, text, created) for n, (gl, cc, amount, text) in enumerate(rows)]


def payment_entry(payment_id: str = "stp1", *, amount: str = "150.5", refs: str = "INV-7",
                  number: int = 20000001) -> list[Line]:
    """A bank entry: the bank on line 0, the supplier's payable (debit, positive) on line 1."""
    entry_id = f"p{next(_ids)}"
    day, value = date(2026, 6, 20), Decimal(amount)
    return [Line(f"{entry_id}-0", entry_id, number, 0, "20", 40, day, "1100", None, None, -value, "USD", None, None,
                 None, STARTED),
            Line(f"{entry_id}-1", entry_id, number, 1, "20", 40, day, "1600", None, ACME, value, "USD", None, None,
                 f"BILL {payment_id} {refs}", STARTED)]


def bill_doc(bill: dict | None = None, *, posted: Posted | None = None, held: str | None = None) -> Document:
    bill = bill or BILL
    return bill_document(Bill.from_snapshot(bill), supplier_id=ACME, accounts=ACCOUNTS, cost_centers=CENTERS,
                         settings=PostingSettings(), posted=posted, held=held, gl_codes={})


def payment_doc(payment: dict | None = None) -> Document:
    return payment_document(Payment.from_snapshot(payment or PAYMENT), bills={"00n1": Bill.from_snapshot(BILL)},
                            supplier_id=ACME, posted=Posted("posted", "p-entry", 20000001, ACME), held=None)


def run(documents: list[Document], lines: list[Line], deletions: dict[str, Deletion] | None = None):
    return reconcile(documents, lines, deletions or {}, managed=MANAGED, journals=JOURNALS,
                     connector_since=STARTED)


def kinds(result) -> list[str]:
    return sorted(f.kind for f in result.findings)


def test_a_bill_posted_once_as_billed_and_its_payment_reconcile_with_nothing_to_report():
    result = run([bill_doc(), payment_doc()], purchase_entry() + payment_entry())
    assert result.findings == []
    assert (result.documents, result.expected, result.entries_in_scope) == (2, 2, 2)


def test_a_second_entry_carrying_the_bill_id_is_a_duplicate_naming_both_entries_and_doubling_the_day():
    result = run([bill_doc()], purchase_entry() + purchase_entry(number=60000002))
    assert kinds(result) == ["day_total", "duplicated", "vendor_total"]
    duplicate = next(f for f in result.findings if f.kind == "duplicated")
    assert (duplicate.source_id, duplicate.vendor, duplicate.entries) == ("00n1", "Acme", (60000001, 60000002))
    assert duplicate.exact_amount == Decimal("301.00")
    day = next(f for f in result.findings if f.kind == "day_total")
    assert (day.day, day.bill_amount, day.exact_amount) == (date(2026, 6, 2), Decimal("150.50"), Decimal("301.00"))
    assert "00n1" in day.detail


def test_a_bill_typed_by_hand_on_its_supplier_after_the_connector_began_is_a_duplicate():
    typed = purchase_entry(None, number=60000777, your_ref=" inv-7 ", created=datetime(2026, 6, 3, tzinfo=UTC))
    result = run([bill_doc(posted=Posted("posted", "x", 60000001, ACME))], purchase_entry() + typed)
    duplicate = next(f for f in result.findings if f.kind == "duplicated")
    assert "60000777 (a typed-by-hand)" in duplicate.detail


def test_entries_exact_had_before_the_connector_or_on_other_suppliers_are_not_the_connectors():
    old = purchase_entry(None, number=60000005, created=datetime(2026, 1, 1, tzinfo=UTC))
    stranger = purchase_entry(None, number=60000006, supplier="s-unmanaged", created=datetime(2026, 7, 1, tzinfo=UTC))
    result = run([bill_doc()], purchase_entry() + old + stranger)
    assert result.findings == []
    assert result.entries_in_scope == 1


def test_the_connectors_own_first_entry_in_exact_dates_its_beginning_not_the_ledger():
    connector = purchase_entry(created=datetime(2026, 6, 10, tzinfo=UTC))
    before_it = purchase_entry(None, number=60000009, created=datetime(2026, 6, 5, tzinfo=UTC))
    assert run([bill_doc(posted=Posted("posted", connector[0].entry_id, 60000001, ACME))],
               connector + before_it).findings == []


def test_an_amount_changed_in_exact_is_a_difference_with_the_lines_and_shows_in_the_totals():
    changed = purchase_entry(lines=(("4140", "100", "120.25"), ("4640", None, "50.25")))
    result = run([bill_doc()], changed)
    assert kinds(result) == ["day_total", "different", "vendor_total"]
    different = next(f for f in result.findings if f.kind == "different")
    assert different.differences["amount"] == {"bill": "150.50", "exact": "170.50"}
    assert different.differences["lines (GL account/cost center amount)"] == {
        "bill": "4140/100 100.25; 4640/- 50.25", "exact": "4140/100 120.25; 4640/- 50.25"}
    vendor = next(f for f in result.findings if f.kind == "vendor_total")
    assert (vendor.vendor, vendor.bill_amount, vendor.exact_amount) == ("Acme", Decimal("150.50"), Decimal("170.50"))


def test_supplier_invoice_number_date_currency_and_cost_center_are_each_compared():
    moved = purchase_entry(supplier=GLOBEX, your_ref="INV-8", day=date(2026, 6, 3), currency="EUR",
                           lines=(("4140", "200", "100.25"), ("4640", None, "50.25")))
    different = next(f for f in run([bill_doc()], moved).findings if f.kind == "different")
    assert set(different.differences) == {"supplier", "invoice number", "date", "currency",
                                          "lines (GL account/cost center amount)"}
    assert different.differences["currency"] == {"bill": "USD", "exact": "EUR"}


def test_a_deleted_entry_is_deleted_whether_exact_names_its_lines_or_the_entry():
    for by_line in (True, False):
        lines = purchase_entry()
        keys = [line.id for line in lines] if by_line else [lines[0].entry_id]
        deletions = {key: Deletion(key, datetime(2026, 6, 15, tzinfo=UTC), "u-clerk") for key in keys}
        result = run([bill_doc(posted=Posted("posted", lines[0].entry_id, 60000001, ACME))], lines, deletions)
        deleted = next(f for f in result.findings if f.kind == "deleted")
        assert deleted.entries == (60000001,)
        assert "deleted in Exact on 2026-06-15 by user u-clerk" in deleted.detail
        assert "missing" not in kinds(result)


def test_a_posted_bill_with_no_entry_and_no_deletion_on_record_is_missing_naming_the_posted_entry():
    result = run([bill_doc(posted=Posted("posted", "gone", 60000042, ACME))], [])
    missing = next(f for f in result.findings if f.kind == "missing")
    assert "posted it as entry 60000042" in missing.detail
    assert next(f for f in result.findings if f.kind == "day_total").exact_amount == 0
    not_posted = next(f for f in run([bill_doc()], []).findings if f.kind == "missing")
    assert "not been posted yet" in not_posted.detail
    in_doubt = next(f for f in run([bill_doc(posted=Posted("uncertain"))], []).findings if f.kind == "missing")
    assert "in doubt (uncertain)" in in_doubt.detail
    settled_absent = next(f for f in run([bill_doc(posted=Posted("absent"))], []).findings if f.kind == "missing")
    assert "not been posted yet" in settled_absent.detail


def test_what_bill_does_not_expect_is_no_finding_when_absent_and_extra_when_exact_has_it():
    archived = {**BILL, "archived": True}
    assert run([bill_doc(archived)], []).findings == []
    extra = next(f for f in run([bill_doc(archived)], purchase_entry()).findings if f.kind == "extra")
    assert "archived in BILL" in extra.detail
    waiting = bill_doc(held="it waits in the failure queue")
    assert not waiting.expected
    typed = purchase_entry(None, created=datetime(2026, 7, 1, tzinfo=UTC))
    assert "it waits in the failure queue" in next(f for f in run([waiting], typed).findings).detail


def test_an_entry_carrying_a_bill_id_bill_does_not_have_is_extra():
    result = run([bill_doc()], purchase_entry() + purchase_entry("00nUNKNOWN", number=60000031))
    extra = next(f for f in result.findings if f.kind == "extra")
    assert (extra.source_id, extra.vendor, extra.entries) == ("00nUNKNOWN", "Acme", (60000031,))
    assert "which BILL does not have" in extra.detail


def test_a_payment_that_doubles_the_payable_differs_and_the_vendors_payments_total_says_so():
    doubled = payment_entry(amount="-150.5")
    result = run([bill_doc(), payment_doc()], purchase_entry() + doubled)
    different = next(f for f in result.findings if f.kind == "different")
    assert different.source_id == "stp1"
    assert different.differences["amount"] == {"bill": "150.50", "exact": "-150.50"}
    vendor = next(f for f in result.findings if f.kind == "vendor_total")
    assert (vendor.source_kind, vendor.bill_amount, vendor.exact_amount) == (
        "payment", Decimal("150.50"), Decimal("-150.50"))


def test_a_payment_naming_another_invoice_settles_the_wrong_one():
    result = run([bill_doc(), payment_doc()], purchase_entry() + payment_entry(refs="INV-9"))
    assert next(f for f in result.findings if f.kind == "different").differences == {
        "invoices settled": {"bill": "INV-7", "exact": "INV-9"}}


def test_a_bill_whose_mapping_no_longer_resolves_is_compared_with_the_lines_as_sent():
    sent = {"PurchaseEntryLines": [{"GLAccount": "g-old", "AmountFC": 150.5, "CostCenter": "300"}]}
    document = bill_document(Bill.from_snapshot({**BILL, "billLineItems": [{"amount": 150.5, "classifications": {
        "chartOfAccountId": "a-gone"}}]}), supplier_id=ACME, accounts=ACCOUNTS, cost_centers=CENTERS,
        settings=PostingSettings(), posted=Posted("posted", "e", 1, ACME, sent), held=None,
        gl_codes={"g-old": "4900"})
    assert [line.label() for line in document.lines] == ["4900/300 150.50"]
