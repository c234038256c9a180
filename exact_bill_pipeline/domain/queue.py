"""What a person does about each reason a bill or payment waits in the failure queue."""

from __future__ import annotations

from exact_bill_pipeline.domain.postings import ReasonCode

FIXES: dict[ReasonCode, str] = {
    "unmapped_gl_account": "Add the GL account in Exact (the next reference sync and the replay post the bill), or "
                           "map the BILL account: `exact-bill mapping override account <BILL number> <Exact code>`.",
    "unmapped_cost_center": "Add the cost center in Exact, or map the BILL department: "
                            "`exact-bill mapping override department <BILL name> <Exact code>`.",
    "cost_center_required": "The Exact GL account needs a cost center: give the bill line a department in BILL, "
                            "or make the cost center optional on the GL account in Exact.",
    "gl_account_blocked": "Unblock the GL account in Exact, or map the BILL account to another one "
                          "(`exact-bill mapping override account ...`).",
    "vendor_unmatched": "Create the supplier in Exact or tell the connector which one it is: "
                        "`exact-bill mapping vendor <BILL vendor ID> <Exact supplier ID>`.",
    "vendor_ambiguous": "Choose the supplier among the candidates: "
                        "`exact-bill mapping vendor <BILL vendor ID> <Exact supplier ID>`.",
    "vendor_blocked": "Unblock the supplier in Exact, or choose another: `exact-bill mapping vendor ...`.",
    "exact_rejected": "Read Exact's words in the item, fix the cause (in Exact or in BILL), then "
                      "`exact-bill failures replay <ID>`.",
    "bill_not_posted": "Nothing to do here: the payment is posted once its bill is in Exact.",
    "changed_after_posting": "Correct (or reverse) the entry in Exact by hand, then "
                             "`exact-bill failures ignore <ID> --note \"corrected in Exact\"`.",
    "invalid_bill": "Fix the bill in BILL (it has no lines); the next run picks it up.",
    "outside_partitions": "Move EXACT_BILL_PARTITIONS_START back and backfill that day, or "
                          "`exact-bill failures ignore <ID>` if it was booked in Exact before the connector.",
    "overpaid": "The payment settles more of a bill than is still open in Exact: check the bill's payments and "
                "credits in BILL (one voided or changed?), fix it there, then `exact-bill failures replay <ID>`.",
    "credit_not_posted": "Nothing to do here, unless the vendor credit itself waits in the queue (fix that first): "
                         "the payment is posted once its credits are in Exact as purchase credit notes.",
    "payment_currency": "The payment's bill is in Exact without the vendor's currency: the payment is posted once "
                        "the bill is in its own currency; or settle it in Exact by hand and `exact-bill failures "
                        "ignore <ID>`.",
}


def fix_for(reason: str) -> str:
    """The fix for a reason code; an unknown code points at the item itself."""
    return FIXES.get(reason, "See `exact-bill failures show <ID>`.")  # type: ignore[call-overload]
