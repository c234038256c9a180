"""Loads the firm's AP documents (sandbox/ap_seed.py) into the BILL sandbox, settled the way BILL keeps them."""

from __future__ import annotations

import copy

from exact_bill_pipeline.sandbox.ap_seed import ApDocuments
from exact_bill_pipeline.sandbox.bill.credits import Credits
from exact_bill_pipeline.sandbox.bill.fields import COA
from exact_bill_pipeline.sandbox.bill.settlement import settle
from exact_bill_pipeline.sandbox.bill.store import BillStore


def preload(store: BillStore, documents: ApDocuments) -> None:
    """Adds the vendor billing in EUR, the VAT-bearing accounts, the vendor credits, the bills and their payments;
    each bill's amounts and each credit's status follow from its payments, as they do for later changes."""
    store.vendors.save(copy.deepcopy(documents.euro_vendor))
    for account in documents.chart_accounts:
        store.classification(COA).save(copy.deepcopy(account))
    for credit in documents.vendor_credits:
        store.vendor_credits.save(copy.deepcopy(credit))
    credits = Credits(store)
    for payment in documents.payments:
        store.payments.save(copy.deepcopy(payment))
        for part in payment["billPayments"]:
            for used in part.get("vendorCredits", []):
                credits.apply(used["id"], part["billId"], payment["id"], used["amount"], payment["createdTime"])
    for raw in documents.bills:
        bill = copy.deepcopy(raw)
        settle(bill, store.payments_of(bill["id"]), credits.direct_credits(bill["id"]))
        store.bills.save(bill)
