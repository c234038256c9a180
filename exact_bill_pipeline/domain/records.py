"""The BILL documents the domain works on, typed: ``Decimal`` money (to the cent, as ``money()``), real dates.

One definition for the client and the domain: the BILL client builds these (clients/bill/records.py re-exports
them) and the services turn stored snapshots into them with ``from_snapshot``. Snapshots themselves stay BILL's
raw JSON: a record keeps the JSON it was made from in ``raw`` (never serialized), and fields the domain does not
use are left out of the record, not out of the stored snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

CENT = Decimal("0.01")


def money(value: float | str | Decimal) -> Decimal:
    """An amount to the cent, half up; a float is taken as it prints (0.1 + 0.2 is 0.30, not 0.3000...04)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _day(value: Any) -> Any:
    """A date as BILL writes it (YYYY-MM-DD); a timestamp counts by the day it names, as the domain always did."""
    return value[:10] if isinstance(value, str) and len(value) > 10 else value


def _number(value: Any) -> Any:
    """A JSON number as the Decimal it prints as (pydantic would keep a float's binary noise otherwise)."""
    return Decimal(str(value)) if isinstance(value, float | int) and not isinstance(value, bool) else value


Money = Annotated[Decimal, BeforeValidator(_number), AfterValidator(money)]
Rate = Annotated[Decimal, BeforeValidator(_number)]
Day = Annotated[date, BeforeValidator(_day)]


def json_number(value: Decimal | None) -> int | float | None:
    """A rate back as the JSON number BILL sent (1 stays 1, 1.0842 stays 1.0842): what content hashes were made of."""
    if value is None:
        return None
    return int(value) if value.as_tuple().exponent >= 0 else float(value)  # type: ignore[operator]


class BillRecord(BaseModel):
    """An object as BILL returns it; unknown fields ignored, absent ones default (BILL leaves out nulls)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Self:
        """The record of a stored snapshot (BILL's JSON), keeping that JSON in ``raw`` where the record has one."""
        return cls.model_validate({**data, "raw": data} if "raw" in cls.model_fields else data)


class Classifications(BillRecord):
    chart_of_account_id: str | None = Field(default=None, alias="chartOfAccountId")
    department_id: str | None = Field(default=None, alias="departmentId")
    accounting_class_id: str | None = Field(default=None, alias="accountingClassId")
    location_id: str | None = Field(default=None, alias="locationId")


class BillLine(BillRecord):
    id: str | None = None
    amount: Money = Decimal("0.00")
    description: str | None = None
    classifications: Classifications = Field(default_factory=Classifications)


class Invoice(BillRecord):
    invoice_number: str | None = Field(default=None, alias="invoiceNumber")
    invoice_date: Day | None = Field(default=None, alias="invoiceDate")


class Bill(BillRecord):
    id: str
    archived: bool = False
    vendor_id: str | None = Field(default=None, alias="vendorId")
    vendor_name: str | None = Field(default=None, alias="vendorName")
    amount: Money = Decimal("0.00")
    due_amount: Money | None = Field(default=None, alias="dueAmount")
    description: str | None = None
    due_date: Day | None = Field(default=None, alias="dueDate")
    invoice: Invoice = Field(default_factory=Invoice)
    lines: list[BillLine] = Field(default_factory=list, alias="billLineItems")
    payment_status: str | None = Field(default=None, alias="paymentStatus")
    approval_status: str | None = Field(default=None, alias="approvalStatus")
    # BILL US dollars per unit of the bill's currency, on a bill of a vendor billing in another currency.
    exchange_rate: Rate | None = Field(default=None, alias="exchangeRate")
    # The vendor's billCurrency as it was when the bill was read: stamped on the snapshot by the services, not
    # BILL's; present and None means the vendor was not known (``stamped_currency`` tells the two apart).
    bill_currency: str | None = Field(default=None, alias="billCurrency")
    created_time: datetime = Field(alias="createdTime")
    updated_time: datetime | None = Field(default=None, alias="updatedTime")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @property
    def stamped_currency(self) -> bool:
        """Whether the snapshot carries a billCurrency stamp at all (even an empty one)."""
        return "bill_currency" in self.model_fields_set


class VendorCreditUse(BillRecord):
    """A vendor credit applied in a payment (docs/ap-documents.md, BILL: billPayments[].vendorCredits)."""

    id: str | None = None
    amount: Money = Decimal("0.00")


class BillPayment(BillRecord):
    bill_id: str | None = Field(default=None, alias="billId")
    amount: Money = Decimal("0.00")
    vendor_credits: list[VendorCreditUse] = Field(default_factory=list, alias="vendorCredits")


class Payment(BillRecord):
    id: str
    vendor_id: str | None = Field(default=None, alias="vendorId")
    vendor_name: str | None = Field(default=None, alias="vendorName")
    bill_id: str | None = Field(default=None, alias="billId")
    bill_payments: list[BillPayment] = Field(default_factory=list, alias="billPayments")
    amount: Money = Decimal("0.00")
    process_date: Day | None = Field(default=None, alias="processDate")
    # A payment to a vendor billing in another currency: its amount is in that currency, fundingAmount in USD.
    exchange_rate: Rate | None = Field(default=None, alias="exchangeRate")
    funding_amount: Money | None = Field(default=None, alias="fundingAmount")
    status: str | None = None
    single_status: str | None = Field(default=None, alias="singleStatus")
    created_time: datetime | None = Field(default=None, alias="createdTime")
    updated_time: datetime | None = Field(default=None, alias="updatedTime")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)


class VendorCredit(BillRecord):
    """A vendor credit (/v3/vendor-credits): what the vendor owes back, applied to bills in payments."""

    id: str
    archived: bool = False
    vendor_id: str | None = Field(default=None, alias="vendorId")
    reference_number: str | None = Field(default=None, alias="referenceNumber")
    credit_date: Day | None = Field(default=None, alias="creditDate")
    description: str | None = None
    amount: Money = Decimal("0.00")
    applied_amount: Money = Field(default=Decimal("0.00"), alias="appliedAmount")
    status: str | None = None
    lines: list[BillLine] = Field(default_factory=list, alias="vendorCreditLineItems")
    exchange_rate: Rate | None = Field(default=None, alias="exchangeRate")
    # The vendor's billCurrency when the credit was read, stamped by the services as on a bill.
    bill_currency: str | None = Field(default=None, alias="billCurrency")
    created_time: datetime = Field(alias="createdTime")
    updated_time: datetime | None = Field(default=None, alias="updatedTime")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)
