"""What each BILL list accepts in `filters` and `sort` (bill.md §3.2), and the classification kinds."""

from __future__ import annotations

from dataclasses import dataclass

from exact_bill_pipeline.sandbox.bill.listing import Field, ListSpec

EQ_NE = frozenset({"eq", "ne"})
EQ_IN = frozenset({"eq", "in"})
EQ_SW = frozenset({"eq", "sw"})
EQ_NE_IN = frozenset({"eq", "ne", "in"})
SETS = frozenset({"eq", "ne", "in", "nin"})
RANGE = frozenset({"gt", "gte", "lt", "lte"})

TIMES = {
    "createdTime": Field("createdTime", "datetime", RANGE, sortable=True),
    "updatedTime": Field("updatedTime", "datetime", RANGE, sortable=True),
}

# The official filterable-fields table for bills; sortable fields per the [3P] SDK plus `archived`.
# `approvalStatus` is filtered by one third-party script but is not in the official table, so it is refused.
BILLS = ListSpec("bills", {
    "id": Field("id", ops=EQ_NE_IN),
    "archived": Field("archived", "bool", EQ_NE, sortable=True),
    "vendorId": Field("vendorId", ops=EQ_IN),
    "dueDate": Field("dueDate", "date", RANGE, sortable=True),
    "paymentStatus": Field("paymentStatus", ops=EQ_NE_IN),
    "amount": Field("amount", "number", sortable=True),
    "payFromChartOfAccountId": Field("payFromChartOfAccountId", ops=EQ_NE_IN),
    # UNCONFIRMED whether these match line-level coding too; the stricter sandbox matches only the
    # bill's header `classifications` object, which the field names point at.
    **{
        f"classifications.{name}": Field(f"classifications.{name}", ops=EQ_NE_IN)
        for name in ("chartOfAccountId", "accountingClassId", "departmentId", "locationId", "itemId")
    },
    **TIMES,
})

VENDORS = ListSpec("vendors", {
    "id": Field("id", ops=EQ_NE_IN),
    "archived": Field("archived", "bool", EQ_NE),
    "name": Field("name", ops=EQ_SW, sortable=True),
    "accountType": Field("accountType", ops=SETS),
    "billCurrency": Field("billCurrency", ops=SETS),
    "paymentStatus": Field("paymentStatus", ops=SETS),
    "address.country": Field("address.country", ops=EQ_NE),
    **TIMES,
})

# Payments and classifications: the official tables were not retrieved (UNCONFIRMED). Fields follow the
# [3P] SDK; the operators are the sandbox's choice, modelled on the official bill and vendor tables.
PAYMENTS = ListSpec("payments", {
    "id": Field("id", ops=EQ_NE_IN),
    "vendorId": Field("vendorId", ops=EQ_NE_IN),
    "billId": Field("billId", ops=EQ_NE_IN),
    "status": Field("status", ops=SETS),
    "disbursementType": Field("disbursementType", ops=SETS),
    "processDate": Field("processDate", "date", RANGE, sortable=True),
    "amount": Field("amount", "number", EQ_NE | RANGE, sortable=True),
    **TIMES,
})

# Vendor credits (/v3/vendor-credits): the official filterable and sortable fields were not found (UNCONFIRMED);
# the sandbox allows what the bills table allows for the same kinds of field, plus status and creditDate.
VENDOR_CREDITS = ListSpec("vendor-credits", {
    "id": Field("id", ops=EQ_NE_IN),
    "archived": Field("archived", "bool", EQ_NE),
    "vendorId": Field("vendorId", ops=EQ_IN),
    "status": Field("status", ops=EQ_NE_IN),
    "creditDate": Field("creditDate", "date", RANGE, sortable=True),
    "amount": Field("amount", "number", sortable=True),
    **TIMES,
})

_CLASSIFICATION_FIELDS = {
    "id": Field("id", ops=EQ_NE_IN),
    "archived": Field("archived", "bool", EQ_NE),
    "name": Field("name", ops=EQ_SW, sortable=True),
    "parentId": Field("parentId", ops=EQ_NE_IN),
    **TIMES,
}
CLASSIFICATIONS = ListSpec("classifications", _CLASSIFICATION_FIELDS)
CHART_OF_ACCOUNTS = ListSpec("chart-of-accounts", {
    **_CLASSIFICATION_FIELDS,
    # Sandbox choice: the account number and type are filterable, as a sync that matches by number needs.
    "account.number": Field("account.number", ops=EQ_NE_IN | {"sw"}),
    "account.type": Field("account.type", ops=SETS),
})

# Webhook-API lists page forward only and take no filters.
SUBSCRIPTIONS = ListSpec("subscriptions", {"createdTime": Field("createdTime", "datetime", sortable=True)})
EVENT_HISTORY = ListSpec(
    "events", {"createdTime": Field("createdTime", "datetime", sortable=True)}, extra_params=frozenset({"entityId"})
)


@dataclass(frozen=True)
class ClassificationKind:
    """One classification object: its path segment, id prefix, names and list spec."""

    path: str
    prefix: str
    label: str
    bulk_key: str  # the key that wraps bulk results, e.g. {"chartOfAccounts": [...]} ([PM] bulk responses)
    spec: ListSpec


COA = ClassificationKind("chart-of-accounts", "0ca", "Chart of accounts", "chartOfAccounts", CHART_OF_ACCOUNTS)
DEPARTMENTS = ClassificationKind("departments", "0de", "Department", "departments", CLASSIFICATIONS)
LOCATIONS = ClassificationKind("locations", "loc", "Location", "locations", CLASSIFICATIONS)
ACCOUNTING_CLASSES = ClassificationKind(
    "accounting-classes", "cls", "Accounting class", "accountingClasses", CLASSIFICATIONS
)
CLASSIFICATION_KINDS = (COA, DEPARTMENTS, LOCATIONS, ACCOUNTING_CLASSES)
