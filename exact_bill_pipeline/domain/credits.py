"""Turning a BILL vendor credit into the Exact purchase credit note it is: a purchase entry with negative amounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exact_bill_pipeline.domain.postings import money


def is_postable_credit(credit: Mapping[str, Any]) -> bool:
    """A vendor credit is posted once it exists in BILL and is not archived, whether applied yet or not."""
    return not credit.get("archived") and money(credit.get("amount", 0)) > 0


def as_credit_note(credit: Mapping[str, Any], vendor_name: str | None = None) -> dict[str, Any]:
    """The credit in the shape of a bill whose amounts are negative, for ``plan_purchase_entry``.

    "In case of a credit invoice the amount should have negative value when retrieved or posted to Exact", and
    Exact types such a purchase entry 31, purchase credit note (docs/ap-documents.md, "Purchase credit notes";
    Exact reference PurchaseEntry/PurchaseEntries.php). The credit's reference number is the supplier's document
    number (YourRef) and its credit date the entry date, as a bill's invoice number and date are.
    """
    day = str(credit.get("creditDate") or credit.get("createdTime") or "")[:10]
    lines = [{**line, "amount": -money(line.get("amount", 0))} for line in credit.get("vendorCreditLineItems") or []]
    return {
        "id": credit["id"], "vendorId": credit.get("vendorId"), "vendorName": vendor_name,
        "description": credit.get("description"), "amount": -money(credit.get("amount", 0)),
        "invoice": {"invoiceNumber": credit.get("referenceNumber") or credit["id"], "invoiceDate": day},
        "dueDate": day, "billLineItems": lines, "createdTime": credit.get("createdTime"),
        **({"exchangeRate": credit["exchangeRate"]} if credit.get("exchangeRate") else {}),
    }


def credit_content(credit: Mapping[str, Any]) -> dict[str, Any]:
    """What of a vendor credit ends up in Exact; a change to any of it after posting is flagged."""
    return {
        "vendorId": credit.get("vendorId"), "amount": str(money(credit.get("amount", 0))),
        "referenceNumber": credit.get("referenceNumber"), "creditDate": str(credit.get("creditDate") or "")[:10],
        "archived": bool(credit.get("archived")),
        "lines": [{"amount": str(money(line.get("amount", 0))),
                   "account": (line.get("classifications") or {}).get("chartOfAccountId"),
                   "department": (line.get("classifications") or {}).get("departmentId")}
                  for line in credit.get("vendorCreditLineItems") or []],
    }
