"""Vendor credits (/v3/vendor-credits): their records, and what is applied of them, to which bill, by which payment.

Rules and sources: docs/ap-documents.md, "BILL". A credit's usage lists each application {billId, paymentId,
amount}; a payment that is voided, cancelled or fails gives its applications back.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from exact_bill_pipeline.sandbox.bill.settlement import CLEARED, PENDING, cents
from exact_bill_pipeline.sandbox.bill.store import BillStore
from exact_bill_pipeline.sandbox.control import ControlError

CREDIT_FIELDS = ("vendorId", "referenceNumber", "creditDate", "description", "vendorCreditLineItems",
                 "applyToChartOfAccountId", "exchangeRate")
CREDIT_LINE_FIELDS = ("amount", "description", "classifications")


def credit_record(credit_id: str, vendor: Mapping[str, Any], body: Mapping[str, Any], lines: list[dict[str, Any]],
                  now: str) -> dict[str, Any]:
    """A new vendor credit as BILL's REST API returns it (BILL Postman), nulls left out."""
    record: dict[str, Any] = {
        "id": credit_id, "vendorId": vendor["id"], "referenceNumber": body["referenceNumber"],
        "creditDate": body["creditDate"], "archived": False, "amount": cents(sum(line["amount"] for line in lines)),
        "appliedAmount": 0.0, "status": "NOT_APPLIED", "vendorCreditLineItems": lines, "usage": [],
        "createdTime": now, "updatedTime": now,
    }
    for name in ("description", "applyToChartOfAccountId"):
        if body.get(name) is not None:
            record[name] = body[name]
    return record


def line_id() -> str:
    return f"vcl{secrets.token_hex(9)[:17]}"


class Credits:
    """Applies vendor credits and keeps each credit's appliedAmount, status and usage in step with its payments."""

    def __init__(self, store: BillStore) -> None:
        self.store = store

    def require(self, credit_id: Any) -> dict[str, Any]:
        record = self.store.vendor_credits.get(credit_id) if isinstance(credit_id, str) else None
        if record is None:
            raise ControlError(f"vendor credit {credit_id!r} does not exist")
        return record

    def available(self, credit: Mapping[str, Any]) -> float:
        return cents(credit["amount"] - sum(use["amount"] for use in self._live_usage(credit)))

    def check(self, bill: Mapping[str, Any], wanted: list[dict[str, Any]]) -> None:
        """Refuses credits of another vendor, archived ones, and more than a credit has left."""
        for item in wanted:
            credit = self.require(item.get("id"))
            amount = item.get("amount")
            if credit["vendorId"] != bill["vendorId"]:
                raise ControlError(f"vendor credit {credit['id']} belongs to another vendor than bill {bill['id']}")
            if credit["archived"]:
                raise ControlError(f"vendor credit {credit['id']} is archived")
            if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
                raise ControlError("each vendor credit needs a positive amount")
            if cents(amount) > self.available(credit):
                raise ControlError(f"vendor credit {credit['id']} has {self.available(credit):.2f} left, "
                                   f"not {amount:.2f}")

    def apply(self, credit_id: str, bill_id: str, payment_id: str | None, amount: float, now: str) -> dict[str, Any]:
        credit = copy.deepcopy(self.require(credit_id))
        use: dict[str, Any] = {"billId": bill_id, "amount": cents(amount)}
        if payment_id is not None:
            use["paymentId"] = payment_id
        credit["usage"].append(use)
        return self.refresh(credit, now)

    def release(self, payment_id: str, now: str) -> None:
        """A payment that was voided, cancelled or failed gives back the credits it applied."""
        for credit in list(self.store.vendor_credits.records()):
            if any(use.get("paymentId") == payment_id for use in credit["usage"]):
                changed = copy.deepcopy(credit)
                changed["usage"] = [use for use in credit["usage"] if use.get("paymentId") != payment_id]
                self.refresh(changed, now)

    def refresh(self, credit: dict[str, Any], now: str) -> dict[str, Any]:
        """Recomputes appliedAmount and status from the credit's usage, then saves it."""
        live = self._live_usage(credit)
        applied = cents(sum(use["amount"] for use in live))
        pending = any(self._payment_status(use) in PENDING for use in live)
        credit["appliedAmount"] = applied
        # Statuses seen: NOT_APPLIED, IN_PROCESS, FULLY_APPLIED (BILL Postman); PARTIALLY_APPLIED is UNCONFIRMED for
        # vendor credits (seen for AR credit memos in a third-party SDK).
        if pending:
            credit["status"] = "IN_PROCESS"
        elif applied >= credit["amount"]:
            credit["status"] = "FULLY_APPLIED"
        else:
            credit["status"] = "PARTIALLY_APPLIED" if applied else "NOT_APPLIED"
        credit["updatedTime"] = now
        return self.store.vendor_credits.save(credit)

    def direct_credits(self, bill_id: str) -> float:
        """Credits applied to a bill outside any payment (BILL's bills accept vendorCredits since May 2025)."""
        return cents(sum(use["amount"] for credit in self.store.vendor_credits.records()
                         for use in credit["usage"] if use["billId"] == bill_id and "paymentId" not in use))

    def _live_usage(self, credit: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [use for use in credit["usage"]
                if "paymentId" not in use or self._payment_status(use) in CLEARED | PENDING]

    def _payment_status(self, use: Mapping[str, Any]) -> str | None:
        payment = self.store.payments.get(use["paymentId"]) if "paymentId" in use else None
        return None if payment is None else payment["status"]
