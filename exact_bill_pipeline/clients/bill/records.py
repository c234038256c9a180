"""Typed records of the BILL objects the pipeline reads and writes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BillRecord(BaseModel):
    """An object as BILL returns it; unknown fields ignored, absent ones default (BILL leaves out nulls)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Classifications(BillRecord):
    chart_of_account_id: str | None = Field(default=None, alias="chartOfAccountId")
    department_id: str | None = Field(default=None, alias="departmentId")
    accounting_class_id: str | None = Field(default=None, alias="accountingClassId")
    location_id: str | None = Field(default=None, alias="locationId")


class BillLine(BillRecord):
    id: str | None = None
    amount: float
    description: str | None = None
    classifications: Classifications = Field(default_factory=Classifications)


class Invoice(BillRecord):
    invoice_number: str | None = Field(default=None, alias="invoiceNumber")
    invoice_date: date | None = Field(default=None, alias="invoiceDate")


class Bill(BillRecord):
    id: str
    archived: bool = False
    vendor_id: str = Field(alias="vendorId")
    vendor_name: str | None = Field(default=None, alias="vendorName")
    amount: float
    description: str | None = None
    due_date: date | None = Field(default=None, alias="dueDate")
    invoice: Invoice = Field(default_factory=Invoice)
    lines: list[BillLine] = Field(default_factory=list, alias="billLineItems")
    payment_status: str | None = Field(default=None, alias="paymentStatus")
    approval_status: str | None = Field(default=None, alias="approvalStatus")
    created_time: datetime = Field(alias="createdTime")
    updated_time: datetime = Field(alias="updatedTime")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)


class Address(BillRecord):
    city: str | None = None
    country: str | None = None


class AdditionalInfo(BillRecord):
    tax_id: str | None = Field(default=None, alias="taxId")


class Vendor(BillRecord):
    id: str
    archived: bool = False
    name: str
    email: str | None = None
    phone: str | None = None
    address: Address = Field(default_factory=Address)
    additional_info: AdditionalInfo = Field(default_factory=AdditionalInfo, alias="additionalInfo")
    bill_currency: str | None = Field(default=None, alias="billCurrency")
    created_time: datetime | None = Field(default=None, alias="createdTime")
    updated_time: datetime | None = Field(default=None, alias="updatedTime")


class CreditUse(BillRecord):
    """A vendor credit applied in a payment (docs/ap-documents.md, BILL: billPayments[].vendorCredits)."""

    id: str
    amount: float


class BillPayment(BillRecord):
    bill_id: str = Field(alias="billId")
    amount: float
    vendor_credits: list[CreditUse] = Field(default_factory=list, alias="vendorCredits")


class Payment(BillRecord):
    id: str
    vendor_id: str | None = Field(default=None, alias="vendorId")
    vendor_name: str | None = Field(default=None, alias="vendorName")
    bill_id: str | None = Field(default=None, alias="billId")
    bill_payments: list[BillPayment] = Field(default_factory=list, alias="billPayments")
    amount: float
    process_date: date | None = Field(default=None, alias="processDate")
    # A payment to a vendor billing in another currency: its amount is in that currency, fundingAmount in USD.
    exchange_rate: float | None = Field(default=None, alias="exchangeRate")
    funding_amount: float | None = Field(default=None, alias="fundingAmount")
    status: str | None = None
    single_status: str | None = Field(default=None, alias="singleStatus")
    created_time: datetime | None = Field(default=None, alias="createdTime")
    updated_time: datetime | None = Field(default=None, alias="updatedTime")


class VendorCredit(BillRecord):
    """A vendor credit (/v3/vendor-credits): what the vendor owes back, applied to bills in payments."""

    id: str
    archived: bool = False
    vendor_id: str = Field(alias="vendorId")
    reference_number: str | None = Field(default=None, alias="referenceNumber")
    credit_date: date | None = Field(default=None, alias="creditDate")
    description: str | None = None
    amount: float
    applied_amount: float = Field(default=0.0, alias="appliedAmount")
    status: str | None = None
    lines: list[BillLine] = Field(default_factory=list, alias="vendorCreditLineItems")
    exchange_rate: float | None = Field(default=None, alias="exchangeRate")
    created_time: datetime = Field(alias="createdTime")
    updated_time: datetime | None = Field(default=None, alias="updatedTime")


class AccountKind(BillRecord):
    type: str | None = None
    number: str | None = None


class ChartAccount(BillRecord):
    id: str
    archived: bool = False
    name: str
    description: str | None = None
    parent_id: str | None = Field(default=None, alias="parentId")
    account: AccountKind = Field(default_factory=AccountKind)
    updated_time: datetime | None = Field(default=None, alias="updatedTime")


class Department(BillRecord):
    id: str
    archived: bool = False
    name: str
    short_name: str | None = Field(default=None, alias="shortName")
    description: str | None = None
    updated_time: datetime | None = Field(default=None, alias="updatedTime")


class EventType(BillRecord):
    type: str
    version: str = "1"


class Subscription(BillRecord):
    id: str
    name: str | None = None
    notification_url: str = Field(alias="notificationUrl")
    events: list[EventType] = Field(default_factory=list)
    status: dict[str, Any] = Field(default_factory=dict)
    security_key: str | None = Field(default=None, alias="securityKey", repr=False)
