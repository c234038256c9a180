"""Turning a BILL bill into an Exact purchase entry, and telling when a bill changed after it was posted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

ReasonCode = Literal[
    "unmapped_gl_account", "unmapped_cost_center", "cost_center_required", "gl_account_blocked",
    "vendor_unmatched", "vendor_ambiguous", "vendor_blocked", "exact_rejected", "changed_after_posting",
    "bill_not_posted", "invalid_bill", "outside_partitions",
    "overpaid", "credit_not_posted", "payment_currency",
]
CENT = Decimal("0.01")


@dataclass(frozen=True)
class GLTarget:
    """The Exact GL account a BILL account maps to."""

    id: str
    code: str
    use_costcenter: int | None = None  # 1 = a cost center is mandatory, 2 = not allowed
    blocked: bool = False


@dataclass(frozen=True)
class PostingSettings:
    purchase_journal: str = "60"
    vat_code: str | None = None
    postable_statuses: frozenset[str] = frozenset({"APPROVED"})
    currency: str | None = None


@dataclass(frozen=True)
class Problem:
    reason: ReasonCode
    message: str
    tried: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryPlan:
    """A purchase entry ready to POST, and what it was made from."""

    payload: dict[str, Any]
    amount: Decimal
    lines: list[dict[str, Any]]


def money(value: float | str | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def is_postable(bill: Mapping[str, Any], settings: PostingSettings) -> bool:
    """Only approved (by default), non-archived bills with a positive amount are posted."""
    return (bill.get("approvalStatus") in settings.postable_statuses and not bill.get("archived")
            and money(bill.get("amount", 0)) > 0)


def posting_content(bill: Mapping[str, Any]) -> dict[str, Any]:
    """What of a bill ends up in Exact; a change to any of it after posting must be flagged."""
    invoice = bill.get("invoice") or {}
    return {
        "vendorId": bill.get("vendorId"),
        "amount": str(money(bill.get("amount", 0))),
        "invoiceNumber": invoice.get("invoiceNumber"),
        "invoiceDate": str(invoice.get("invoiceDate") or "")[:10],
        "dueDate": bill.get("dueDate"),
        "archived": bool(bill.get("archived")),
        "lines": [
            {
                "amount": str(money(line.get("amount", 0))),
                "account": (line.get("classifications") or {}).get("chartOfAccountId"),
                "department": (line.get("classifications") or {}).get("departmentId"),
            }
            for line in bill.get("billLineItems") or []
        ],
    }


def content_hash(content: Mapping[str, Any]) -> str:
    """A stable digest of what is posted (a ``posting_content`` or ``payment_content`` result)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_diff(posted: Mapping[str, Any], bill: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Field by field, what of ``bill`` differs from the ``posted`` content (a ``posting_content`` result)."""
    now = posting_content(bill)
    return {key: {"before": posted.get(key), "after": now[key]} for key in now if posted.get(key) != now[key]}


def plan_purchase_entry(
    bill: Mapping[str, Any],
    *,
    supplier_id: str,
    accounts: Mapping[str, GLTarget],
    cost_centers: Mapping[str, str],
    settings: PostingSettings,
    account_names: Mapping[str, str] | None = None,
    department_names: Mapping[str, str] | None = None,
) -> EntryPlan | list[Problem]:
    """The purchase entry for ``bill``, or every reason it cannot be posted.

    ``accounts`` maps BILL chart-of-accounts IDs to GL targets, ``cost_centers`` maps BILL department IDs
    to Exact cost center codes; the name maps only make the problems readable.
    """
    problems: list[Problem] = []
    lines: list[dict[str, Any]] = []
    names, departments = account_names or {}, department_names or {}
    items = bill.get("billLineItems") or []
    if not items:
        problems.append(Problem("invalid_bill", "the bill has no lines"))
    for number, item in enumerate(items, start=1):
        classes = item.get("classifications") or {}
        account_id, department_id = classes.get("chartOfAccountId"), classes.get("departmentId")
        tried = {"line": number, "bill_account": names.get(account_id or "", account_id),
                 "bill_department": departments.get(department_id or "", department_id)}
        target = accounts.get(account_id or "")
        if target is None:
            message = f"line {number}: BILL account {tried['bill_account']!r} maps to no Exact GL account"
            problems.append(Problem("unmapped_gl_account", message, tried))
            continue
        if target.blocked:
            problems.append(Problem("gl_account_blocked",
                                    f"line {number}: Exact GL account {target.code} is blocked", tried))
            continue
        cost_center = cost_centers.get(department_id) if department_id else None
        if department_id and cost_center is None:
            problems.append(Problem("unmapped_cost_center",
                                    f"line {number}: BILL department {tried['bill_department']!r} maps to no Exact "
                                    f"cost center", tried))
            continue
        if target.use_costcenter == 1 and cost_center is None:
            problems.append(Problem("cost_center_required",
                                    f"line {number}: Exact GL account {target.code} needs a cost center and the "
                                    f"line has no department", tried))
            continue
        line: dict[str, Any] = {"GLAccount": target.id, "AmountFC": float(money(item.get("amount", 0))),
                                "Description": (item.get("description") or bill.get("description") or "")[:60]}
        if cost_center and target.use_costcenter != 2:
            line["CostCenter"] = cost_center
        if settings.vat_code:
            line["VATCode"] = settings.vat_code
        lines.append(line)
    if problems:
        return problems
    invoice = bill.get("invoice") or {}
    invoice_date = str(invoice.get("invoiceDate") or bill.get("createdTime") or "")[:10]
    payload: dict[str, Any] = {
        "Journal": settings.purchase_journal,
        "Supplier": supplier_id,
        "EntryDate": invoice_date,
        "DueDate": bill.get("dueDate") or invoice_date,
        "YourRef": invoice.get("invoiceNumber") or bill["id"],
        "Description": entry_description(bill),
        "PurchaseEntryLines": lines,
    }
    if settings.currency:
        payload["Currency"] = settings.currency
    return EntryPlan(payload, money(bill.get("amount", 0)), lines)


def entry_description(bill: Mapping[str, Any]) -> str:
    """Carries the BILL bill ID, so that an entry can always be traced (and found) from Exact."""
    vendor = bill.get("vendorName") or ""
    return f"BILL {bill['id']} {vendor}".strip()[:60]


def partition_of(bill: Mapping[str, Any]) -> str:
    """The daily partition a bill belongs to: its created date (stable, unlike its updated date)."""
    return date.fromisoformat(str(bill["createdTime"])[:10]).isoformat()
