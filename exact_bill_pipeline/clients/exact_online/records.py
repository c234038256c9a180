"""Typed records of the Exact Online entities the pipeline reads and writes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from exact_bill_pipeline.clients.exact_online.odata import parse_date

ODataDate = Annotated[datetime | None, BeforeValidator(parse_date)]


class ExactRecord(BaseModel):
    """A row as Exact returns it; unknown fields are ignored, names follow Exact's PascalCase aliases."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ExactRecord:
        return cls.model_validate(row)


class Me(ExactRecord):
    user_id: UUID = Field(alias="UserID")
    current_division: int = Field(alias="CurrentDivision")
    full_name: str | None = Field(default=None, alias="FullName")
    user_name: str | None = Field(default=None, alias="UserName")
    division_customer_name: str | None = Field(default=None, alias="DivisionCustomerName")


class GLAccount(ExactRecord):
    id: UUID = Field(alias="ID")
    code: str = Field(alias="Code")
    description: str | None = Field(default=None, alias="Description")
    type: int | None = Field(default=None, alias="Type")
    balance_type: str | None = Field(default=None, alias="BalanceType")
    balance_side: str | None = Field(default=None, alias="BalanceSide")
    is_blocked: bool = Field(default=False, alias="IsBlocked")
    use_costcenter: int | None = Field(default=None, alias="UseCostcenter")
    vat_code: str | None = Field(default=None, alias="VATCode")
    modified: ODataDate = Field(default=None, alias="Modified")
    timestamp: int | None = Field(default=None, alias="Timestamp")


class VATCode(ExactRecord):
    """A VAT code (vat/VATCodes): its type (B, E, I, N), its percentage as a fraction, where VAT is claimed."""

    id: UUID = Field(alias="ID")
    code: str = Field(alias="Code")
    description: str | None = Field(default=None, alias="Description")
    type: str | None = Field(default=None, alias="Type")
    percentage: Decimal = Field(default=Decimal(0), alias="Percentage")
    gl_to_claim_code: str | None = Field(default=None, alias="GLToClaimCode")
    is_blocked: bool = Field(default=False, alias="IsBlocked")


class CostCenter(ExactRecord):
    id: UUID = Field(alias="ID")
    code: str = Field(alias="Code")
    description: str | None = Field(default=None, alias="Description")
    end_date: ODataDate = Field(default=None, alias="EndDate")
    modified: ODataDate = Field(default=None, alias="Modified")


class CostUnit(CostCenter):
    pass


class Journal(ExactRecord):
    id: UUID = Field(alias="ID")
    code: str = Field(alias="Code")
    description: str | None = Field(default=None, alias="Description")
    type: int | None = Field(default=None, alias="Type")
    gl_account: UUID | None = Field(default=None, alias="GLAccount")


class FinancialPeriod(ExactRecord):
    id: UUID = Field(alias="ID")
    year: int = Field(alias="FinYear")
    period: int = Field(alias="FinPeriod")
    start_date: ODataDate = Field(default=None, alias="StartDate")
    end_date: ODataDate = Field(default=None, alias="EndDate")


class Account(ExactRecord):
    """A crm Account: a supplier when ``is_supplier``."""

    id: UUID = Field(alias="ID")
    code: str | None = Field(default=None, alias="Code")
    name: str = Field(alias="Name")
    is_supplier: bool = Field(default=False, alias="IsSupplier")
    blocked: bool = Field(default=False, alias="Blocked")
    vat_number: str | None = Field(default=None, alias="VATNumber")
    email: str | None = Field(default=None, alias="Email")
    city: str | None = Field(default=None, alias="City")
    modified: ODataDate = Field(default=None, alias="Modified")
    timestamp: int | None = Field(default=None, alias="Timestamp")


class PurchaseEntry(ExactRecord):
    entry_id: UUID = Field(alias="EntryID")
    entry_number: int | None = Field(default=None, alias="EntryNumber")
    journal: str | None = Field(default=None, alias="Journal")
    supplier: UUID | None = Field(default=None, alias="Supplier")
    your_ref: str | None = Field(default=None, alias="YourRef")
    description: str | None = Field(default=None, alias="Description")
    entry_date: ODataDate = Field(default=None, alias="EntryDate")
    amount_fc: float | None = Field(default=None, alias="AmountFC")


class JournalEntry(ExactRecord):
    """A general journal entry or a bank entry, which share their header fields."""

    entry_id: UUID = Field(alias="EntryID")
    entry_number: int | None = Field(default=None, alias="EntryNumber")
    journal_code: str | None = Field(default=None, alias="JournalCode")
    financial_year: int | None = Field(default=None, alias="FinancialYear")
    financial_period: int | None = Field(default=None, alias="FinancialPeriod")


class TransactionLine(ExactRecord):
    """One line of a booked entry; line 0 of a purchase entry is its payables line (api-reference §4.5)."""

    id: UUID = Field(alias="ID")
    entry_id: UUID | None = Field(default=None, alias="EntryID")
    entry_number: int | None = Field(default=None, alias="EntryNumber")
    line_number: int | None = Field(default=None, alias="LineNumber")
    journal_code: str | None = Field(default=None, alias="JournalCode")
    type: int | None = Field(default=None, alias="Type")
    gl_account_code: str | None = Field(default=None, alias="GLAccountCode")
    amount_dc: float | None = Field(default=None, alias="AmountDC")
    # Money in the entry's own currency, as Decimal: JSON's 60.83 must stay 60.83.
    amount_fc: Decimal | None = Field(default=None, alias="AmountFC")
    currency: str | None = Field(default=None, alias="Currency")
    cost_center: str | None = Field(default=None, alias="CostCenter")
    account: UUID | None = Field(default=None, alias="Account")
    your_ref: str | None = Field(default=None, alias="YourRef")
    invoice_number: int | None = Field(default=None, alias="InvoiceNumber")
    description: str | None = Field(default=None, alias="Description")
    date: ODataDate = Field(default=None, alias="Date")
    created: ODataDate = Field(default=None, alias="Created")
    timestamp: int | None = Field(default=None, alias="Timestamp")


class PurchaseOrder(ExactRecord):
    id: UUID = Field(alias="PurchaseOrderID")
    order_number: int | None = Field(default=None, alias="OrderNumber")
    supplier: UUID | None = Field(default=None, alias="Supplier")
    order_date: ODataDate = Field(default=None, alias="OrderDate")
    description: str | None = Field(default=None, alias="Description")
    your_ref: str | None = Field(default=None, alias="YourRef")
    order_status: int | None = Field(default=None, alias="OrderStatus")
    amount_fc: float | None = Field(default=None, alias="AmountFC")


class Deleted(ExactRecord):
    timestamp: int = Field(alias="Timestamp")
    entity_key: UUID = Field(alias="EntityKey")
    entity_type: int = Field(alias="EntityType")
    deleted_date: ODataDate = Field(default=None, alias="DeletedDate")
    deleted_by: UUID | None = Field(default=None, alias="DeletedBy")


class WebhookSubscription(ExactRecord):
    id: UUID = Field(alias="ID")
    callback_url: str = Field(alias="CallbackURL")
    topic: str = Field(alias="Topic")
