"""What a bill's payments and vendor credits make of it: its paid, due, credit and scheduled amounts and status.

Rules and sources: docs/ap-documents.md, "BILL". paidAmount "is the sum of all cleared payments and any credit
amount applied to the bill" (BILL changelog 2025-06-20); PARTIAL is seen only in a third-party SDK (UNCONFIRMED).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CLEARED = frozenset({"PAID"})
# Payments on their way: what they pay is scheduled, not yet paid (sandbox choice).
PENDING = frozenset({"SCHEDULED", "APPROVING", "PENDING"})


def cents(value: float) -> float:
    return round(value + 0.0, 2)


def part_of(payment: dict[str, Any], bill_id: str) -> dict[str, Any] | None:
    """The payment's billPayments entry for one bill."""
    return next((part for part in payment.get("billPayments", []) if part.get("billId") == bill_id), None)


def credits_of(part: dict[str, Any]) -> float:
    return cents(sum(credit["amount"] for credit in part.get("vendorCredits", [])))


def settle(bill: dict[str, Any], payments: Iterable[dict[str, Any]], direct_credits: float) -> None:
    """Sets the bill's amounts and paymentStatus from its payments and the credits applied to it directly."""
    paid = credited = scheduled = 0.0
    for payment in payments:
        part = part_of(payment, bill["id"])
        if part is None:
            continue
        if payment["status"] in CLEARED:
            paid += part["amount"]
            credited += credits_of(part)
        elif payment["status"] in PENDING:
            scheduled += part["amount"] + credits_of(part)
    credited += direct_credits
    amount = bill["amount"]
    bill["paidAmount"] = cents(paid + credited)
    bill["creditAmount"] = cents(credited)
    bill["scheduledAmount"] = cents(scheduled)
    bill["dueAmount"] = cents(amount - bill["paidAmount"])
    bill["paymentStatus"] = _status(amount, bill["paidAmount"], bill["scheduledAmount"])
    if "exchangeRate" in bill:
        bill["fundingAmount"] = cents(amount * bill["exchangeRate"])


def _status(amount: float, paid: float, scheduled: float) -> str:
    if paid >= amount:
        return "PAID"
    if scheduled and paid + scheduled >= amount:
        return "SCHEDULED"
    if paid > 0:
        return "PARTIAL"
    return "SCHEDULED" if scheduled else "UNPAID"


def settle_by_status(record: dict[str, Any]) -> None:
    """For a bill whose paymentStatus was set by hand: the amounts that go with that status and its amount."""
    amount, status = record["amount"], record["paymentStatus"]
    record["paidAmount"] = amount if status == "PAID" else 0.0
    record["scheduledAmount"] = amount if status == "SCHEDULED" else 0.0
    record["dueAmount"] = 0.0 if status == "PAID" else amount
    if "exchangeRate" in record:
        record["fundingAmount"] = cents(amount * record["exchangeRate"])
