"""Turning a BILL payment into the Exact bank (or general journal) entry that settles the supplier's open item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from exact_bill_pipeline.domain.postings import money

PAYMENT_STATUSES_TO_POST = frozenset({"PAID"})
SINGLE_STATUSES_TO_POST = frozenset({"PROCESSED", "SENT", "DELIVERED", "CLEARED"})
# bill.md §4.4: payment status VOID and CANCELLED; the unified singleStatus values that mean the same.
VOIDED_STATUSES = frozenset({"VOID", "CANCELLED"})
VOIDED_SINGLE_STATUSES = frozenset({"VOIDED", "CANCELED", "FUNDING_FAILED_VOIDED", "VOID_PENDING"})


@dataclass(frozen=True)
class PaymentSettings:
    """Where payments go: a bank journal (the default) or a general journal with an explicit bank line."""

    entry_kind: Literal["bank", "general"] = "bank"
    journal: str = "20"
    ap_account_id: str = ""  # the Exact GL account of accounts payable (the supplier's open items)
    bank_account_id: str = ""  # the Exact GL account of the bank, for general journal entries


def is_settled(payment: Mapping[str, Any]) -> bool:
    """A payment is posted once money has left: BILL's status PAID, or a single status past processing."""
    return (payment.get("status") in PAYMENT_STATUSES_TO_POST
            or payment.get("singleStatus") in SINGLE_STATUSES_TO_POST)


def payment_description(payment: Mapping[str, Any], invoice_numbers: list[str]) -> str:
    """Carries the BILL payment ID, so the entry can be found again after an uncertain POST."""
    refs = ", ".join(invoice_numbers)
    return f"BILL {payment['id']} {refs}".strip()[:60]


def plan_payment_entry(
    payment: Mapping[str, Any], *, supplier_id: str, invoice_numbers: list[str], settings: PaymentSettings
) -> dict[str, Any]:
    """The Exact entry for a payment: the AP line (debit, on the supplier) against the bank.

    A bank line's AmountFC is seen from the bank: money paid out is negative, and Exact books the line's own
    account (accounts payable) with the opposite sign, a debit that settles the bill's credit. A general
    journal entry states both sides itself, debits positive.
    """
    amount = float(money(payment.get("amount", 0)))
    when = str(payment.get("processDate") or payment.get("createdTime") or "")[:10]
    description = payment_description(payment, invoice_numbers)
    ap_line = {"GLAccount": settings.ap_account_id, "AmountFC": amount, "Account": supplier_id, "Date": when,
               "Description": description}
    if settings.entry_kind == "bank":
        return {"JournalCode": settings.journal, "BankEntryLines": [{**ap_line, "AmountFC": -amount}]}
    bank_line = {"GLAccount": settings.bank_account_id, "AmountFC": -amount, "Date": when,
                 "Description": description}
    return {"JournalCode": settings.journal, "GeneralJournalEntryLines": [ap_line, bank_line]}


def is_voided(payment: Mapping[str, Any]) -> bool:
    """BILL voided or cancelled the payment: no money left, or it came back."""
    return payment.get("status") in VOIDED_STATUSES or payment.get("singleStatus") in VOIDED_SINGLE_STATUSES


def settlement(payment: Mapping[str, Any]) -> str:
    """Where the money of a payment is: ``settled`` (paid out), ``voided``, or ``pending`` (not yet, or failed)."""
    if is_voided(payment):
        return "voided"
    return "settled" if is_settled(payment) else "pending"


def payment_content(payment: Mapping[str, Any]) -> dict[str, Any]:
    """What of a payment ends up in Exact, and whether its money left: a change to any of it is flagged."""
    return {"amount": str(money(payment.get("amount", 0))), "bills": paid_bill_ids(payment),
            "processDate": payment.get("processDate"), "settlement": settlement(payment)}


def payment_diff(posted: Mapping[str, Any], payment: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Field by field, what of ``payment`` differs from what was posted (a ``payment_content`` result).

    A payment is posted only once settled, so content recorded before settlement was kept counts as settled.
    """
    now, before = payment_content(payment), {"settlement": "settled", **posted}
    return {key: {"before": before.get(key), "after": now[key]} for key in now if before.get(key) != now[key]}


def paid_bill_ids(payment: Mapping[str, Any]) -> list[str]:
    """The bills a payment pays: billPayments[] when present, else the single billId."""
    ids = [item["billId"] for item in payment.get("billPayments") or [] if item.get("billId")]
    if not ids and payment.get("billId"):
        ids = [payment["billId"]]
    return list(dict.fromkeys(ids))
