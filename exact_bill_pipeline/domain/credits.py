"""Turning a BILL vendor credit into the Exact purchase credit note it is: a purchase entry with negative amounts."""

from __future__ import annotations

from typing import Any

from exact_bill_pipeline.domain.postings import line_content
from exact_bill_pipeline.domain.records import Bill, Invoice, VendorCredit


def is_postable_credit(credit: VendorCredit) -> bool:
    """A vendor credit is posted once it exists in BILL and is not archived, whether applied yet or not."""
    return not credit.archived and credit.amount > 0


def as_credit_note(credit: VendorCredit, vendor_name: str | None = None) -> Bill:
    """The credit in the shape of a bill whose amounts are negative, for ``plan_purchase_entry``.

    "In case of a credit invoice the amount should have negative value when retrieved or posted to Exact", and
    Exact types such a purchase entry 31, purchase credit note (docs/ap-documents.md, "Purchase credit notes";
    Exact reference PurchaseEntry/PurchaseEntries.php). The credit's reference number is the supplier's document
    number (YourRef) and its credit date the entry date, as a bill's invoice number and date are. A credit with an
    exchange rate carries it, and its vendor's currency as stamped when it was read (a credit with a rate and no
    stamp waits as currency_unsupported).
    """
    day = credit.credit_date or credit.created_time.date()
    stamped = {"bill_currency": credit.bill_currency} if "bill_currency" in credit.model_fields_set else {}
    return Bill(
        id=credit.id, vendor_id=credit.vendor_id, vendor_name=vendor_name, description=credit.description,
        amount=-credit.amount, invoice=Invoice(invoice_number=credit.reference_number or credit.id, invoice_date=day),
        due_date=day, lines=[line.model_copy(update={"amount": -line.amount}) for line in credit.lines],
        created_time=credit.created_time, exchange_rate=credit.exchange_rate or None, **stamped,
    )


def credit_content(credit: VendorCredit) -> dict[str, Any]:
    """What of a vendor credit ends up in Exact; a change to any of it after posting is flagged.

    Plain JSON, as it was made before the domain was typed (the hash of a posted credit still matches).
    """
    return {
        "vendorId": credit.vendor_id, "amount": str(credit.amount), "referenceNumber": credit.reference_number,
        "creditDate": credit.credit_date.isoformat() if credit.credit_date else "", "archived": credit.archived,
        "lines": line_content(credit.lines),
    }
