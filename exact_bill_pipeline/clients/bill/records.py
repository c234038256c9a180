"""Typed records of the BILL objects the pipeline reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

# The documents the domain works on are defined there, once; the client builds them and re-exports them here.
from exact_bill_pipeline.domain.records import (
    Bill,
    BillLine,
    BillPayment,
    BillRecord,
    Classifications,
    Invoice,
    Payment,
    VendorCredit,
    VendorCreditUse,
)

CreditUse = VendorCreditUse

__all__ = [
    "AccountKind", "AdditionalInfo", "Address", "Bill", "BillLine", "BillPayment", "BillRecord", "ChartAccount",
    "Classifications", "CreditUse", "Department", "EventType", "Invoice", "Payment", "Subscription", "Vendor",
    "VendorCredit", "VendorCreditUse",
]


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
