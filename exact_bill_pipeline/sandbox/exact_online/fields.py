"""The properties of each Exact entity the sandbox serves, copied from Exact's REST reference pages.

Source: the reference pages as scraped by Pi-Systems/exact-online (commit 91a41169, src/Entity/…), the copy
api-reference/exact-online.md cites. Each token is ``Name:EdmType[:flags]`` in the pages' order, where the
flags are ``k`` (key), ``w`` (may be sent on POST) and ``m`` (mandatory on POST). Serving every documented
property keeps $select and $filter honest: a real property is never refused, an invented one always is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prop:
    """One property of an entity type."""

    name: str
    edm: str
    key: bool = False
    writable: bool = False
    mandatory: bool = False

    @property
    def is_collection(self) -> bool:
        return self.edm == "Collection"


def parse_props(spec: str) -> tuple[Prop, ...]:
    """The properties listed in one of the tables below."""
    props = []
    for token in spec.split():
        name, edm, *flags = token.split(":")
        flag = flags[0] if flags else ""
        props.append(Prop(name, edm, key="k" in flag, writable="w" in flag, mandatory="m" in flag))
    return tuple(props)


def sync_variant(props: tuple[Prop, ...], drop: frozenset[str] = frozenset()) -> tuple[Prop, ...]:
    """A sync endpoint's properties: the Timestamp row version as key, then the rest, read-only."""
    rest = (Prop(p.name, p.edm) for p in props if p.name not in drop)
    return (Prop("Timestamp", "Int64", key=True), *sorted(rest, key=lambda p: p.name.lower()))


def read_only(props: tuple[Prop, ...]) -> tuple[Prop, ...]:
    return tuple(Prop(p.name, p.edm, key=p.key) for p in props)


GLACCOUNT = """
ID:Guid:kw AllowCostsInSales:Byte:w AssimilatedVATBox:Int16:w BalanceSide:String:w
BalanceType:String:w BelcotaxType:Int32:w Code:String:wm Compress:Boolean:w Costcenter:String:w
CostcenterDescription:String Costunit:String:w CostunitDescription:String Created:DateTime
Creator:Guid CreatorFullName:String CustomField:String DeductibilityPercentages:Collection:w
Description:String:wm DescriptionTermID:Int32:w Division:Int32 ExcludeVATListing:Byte:w
ExpenseNonDeductiblePercentage:Double:w IsBlocked:Boolean:w Matching:Boolean:w Modified:DateTime
Modifier:Guid ModifierFullName:String PrivateGLAccount:Guid:w PrivatePercentage:Double:w
ReportingCode:String:w RevalueCurrency:Boolean:w SearchCode:String:w Type:Int32:w
TypeDescription:String UseCostcenter:Byte:w UseCostunit:Byte:w VATCode:String:w
VATDescription:String VATGLAccountType:String:w VATNonDeductibleGLAccount:Guid:w
VATNonDeductiblePercentage:Double:w VATSystem:String:w YearEndCostGLAccount:Guid:w
YearEndReflectionGLAccount:Guid:w
"""
COSTCENTER = """
ID:Guid:kw Active:Boolean:w Code:String:wm Created:DateTime Creator:Guid CreatorFullName:String
CustomField:String Description:String:wm Division:Int32 EndDate:DateTime:w Modified:DateTime
Modifier:Guid ModifierFullName:String
"""
COSTUNIT = """
ID:Guid:kw Code:String:wm Created:DateTime Creator:Guid CreatorFullName:String CustomField:String
Description:String:wm Division:Int32 EndDate:DateTime:w Modified:DateTime Modifier:Guid
ModifierFullName:String
"""
JOURNAL = """
ID:Guid:kw AllowVariableCurrency:Boolean:w AllowVariableExchangeRate:Boolean:w AllowVAT:Boolean:w
AutoSave:Boolean:w Bank:Guid:w BankAccountBICCode:String BankAccountCountry:String
BankAccountDescription:String BankAccountIBAN:String BankAccountID:Guid:w
BankAccountIncludingMask:String:w BankAccountUseSEPA:Boolean BankAccountUseSepaDirectDebit:Boolean
BankName:String Code:String:w Created:DateTime Creator:Guid CreatorFullName:String Currency:String:w
CurrencyDescription:String CustomField:String Description:String:w Division:Int32 GLAccount:Guid:w
GLAccountCode:String GLAccountDescription:String GLAccountType:Int32 IsBlocked:Boolean:w
Modified:DateTime Modifier:Guid ModifierFullName:String PaymentInTransitAccount:Guid:w
PaymentServiceAccountIdentifier:String:w PaymentServiceProvider:Int32:w
PaymentServiceProviderName:String Type:Int32:w
"""
FINANCIAL_PERIOD = """
ID:Guid:k Created:DateTime Creator:Guid CreatorFullName:String Division:Int32 EndDate:DateTime
FinPeriod:Int16 FinYear:Int16 Modified:DateTime Modifier:Guid ModifierFullName:String
StartDate:DateTime
"""
ACCOUNT = """
ID:Guid:kw Accountant:Guid:w AccountManager:Guid:w AccountManagerFullName:String
AccountManagerHID:Int32 ActivitySector:Guid:w ActivitySubSector:Guid:w AddressLine1:String:w
AddressLine2:String:w AddressLine3:String:w AddressSource:Byte AutomaticProcessProposedEntry:Byte:w
BankAccounts:Collection Blocked:Boolean:w BRIN:Guid BSN:String:w BusinessType:Guid:w
CanDropShip:Boolean:w ChamberOfCommerce:String:w City:String:w Classification:String
Classification1:Guid:w Classification2:Guid:w Classification3:Guid:w Classification4:Guid:w
Classification5:Guid:w Classification6:Guid:w Classification7:Guid:w Classification8:Guid:w
ClassificationDescription:String Code:String:w CodeAtSupplier:String:w CompanySize:Guid:w
ConsolidationScenario:Byte:w ControlledDate:DateTime:w Costcenter:String
CostcenterDescription:String CostPaid:Byte Country:String:w CountryName:String Created:DateTime
Creator:Guid CreatorFullName:String CreditLinePurchase:Double:w CreditLineSales:Double:w
Currency:String CustomerSince:DateTime CustomField:String DatevCreditorCode:String:w
DatevDebtorCode:String:w DeliveryAdvice:Byte:w DiscountPurchase:Double:w DiscountSales:Double:w
Division:Int32 Document:Guid DunsNumber:String Email:String:w EnableSalesPaymentLink:Boolean:w
EndDate:DateTime:w EORINumber:String:w EstablishedDate:DateTime:w Fax:String:w
GLAccountPurchase:Guid:w GLAccountSales:Guid:w GLAP:Guid:w GLAR:Guid:w GlnNumber:String:w
HasWithholdingTaxSales:Boolean:w IgnoreDatevWarningMessage:Boolean:w
IncotermAddressPurchase:String:w IncotermAddressSales:String:w IncotermCodePurchase:String:w
IncotermCodeSales:String:w IncotermVersionPurchase:Int16:w IncotermVersionSales:Int16:w
IntraStatArea:String:w IntraStatDeliveryTerm:String:w IntraStatSystem:String:w
IntraStatTransactionA:String:w IntraStatTransactionB:String:w IntraStatTransportMethod:String:w
InvoiceAccount:Guid:w InvoiceAccountCode:String InvoiceAccountName:String
InvoiceAttachmentType:Int32:w InvoicingMethod:Int32:w IsAccountant:Byte:w IsAgency:Byte:w
IsAnonymised:Byte IsBank:Boolean IsCompetitor:Byte:w IsExtraDuty:Boolean:w IsMailing:Byte:w
IsMember:Boolean IsPilot:Boolean:w IsPurchase:Boolean IsReseller:Boolean:w IsSales:Boolean
IsSupplier:Boolean:w Language:String:w LanguageDescription:String Latitude:Double:w
LeadPurpose:Guid:w LeadSource:Guid:w Logo:Binary:w LogoFileName:String:w LogoThumbnailUrl:String
LogoUrl:String Longitude:Double:w MainContact:Guid:w Modified:DateTime Modifier:Guid
ModifierFullName:String Name:String:wm OINNumber:String:w Parent:Guid:w PayAsYouEarn:String:w
PaymentConditionPurchase:String:w PaymentConditionPurchaseDescription:String
PaymentConditionSales:String:w PaymentConditionSalesDescription:String PeppolIdentifier:String:w
PeppolIdentifierType:Int32:w Phone:String:w PhoneExtension:String:w Postcode:String:w
PriceList:Guid:w PurchaseCurrency:String:w PurchaseCurrencyDescription:String
PurchaseLeadDays:Int32:w PurchaseVATCode:String:w PurchaseVATCodeDescription:String
RecepientOfCommissions:Boolean:w Remarks:String:w Reseller:Guid:w ResellerCode:String
ResellerName:String RSIN:String:w SalesCurrency:String:w SalesCurrencyDescription:String
SalesTaxSchedule:Guid:w SalesTaxScheduleCode:String SalesTaxScheduleDescription:String
SalesVATCode:String:w SalesVATCodeDescription:String SearchCode:String:w SecurityLevel:Int32:w
SeparateInvPerProject:Byte:w SeparateInvPerSubscription:Byte:w ShippingLeadDays:Int32:w
ShippingMethod:Guid:w ShowRemarkForSales:Boolean:w Source:Byte StartDate:DateTime:w State:String:w
StateName:String Status:String:w StatusSince:DateTime TradeName:String:w Type:String
UniqueTaxpayerReference:String:w VATLiability:String:w VATNumber:String:w Website:String:w
"""
PURCHASE_ENTRY = """
EntryID:Guid:kw AmountDC:Double AmountFC:Double BatchNumber:Int32:w Created:DateTime Creator:Guid
CreatorFullName:String Currency:String:w CustomField:String Description:String:w Division:Int32
Document:Guid:w DocumentNumber:Int32 DocumentSubject:String DueDate:DateTime:w EntryDate:DateTime:w
EntryNumber:Int32:w ExternalLinkDescription:String ExternalLinkReference:String:w
GAccountAmountFC:Double:w InvoiceNumber:Int32:w Journal:String:wm JournalDescription:String
Modified:DateTime Modifier:Guid ModifierFullName:String OrderNumber:Int32:w
PaymentCondition:String:w PaymentConditionDescription:String PaymentConditionPaymentMethod:String
PaymentReference:String:w ProcessNumber:Int32:w PurchaseEntryLines:Collection:wm Rate:Double:w
ReportingPeriod:Int16:w ReportingYear:Int16:w Reversal:Boolean:w Status:Int16
StatusDescription:String Supplier:Guid:wm SupplierName:String Type:Int32 TypeDescription:String
VATAmountDC:Double VATAmountFC:Double:w YourRef:String:w
"""
PURCHASE_ENTRY_LINE = """
ID:Guid:kw AmountDC:Double AmountFC:Double:wm Asset:Guid:w AssetDescription:String
CostCenter:String:w CostCenterDescription:String CostUnit:String:w CostUnitDescription:String
CustomField:String Description:String:w Division:Int32 EntryID:Guid:wm Expense:Guid:w
ExpenseDescription:String From:DateTime:w GLAccount:Guid:wm GLAccountCode:String
GLAccountDescription:String IntraStatArea:String:w IntraStatCountry:String:w
IntraStatDeliveryTerm:String:w IntraStatTransactionA:String:w IntraStatTransactionB:String:w
IntraStatTransportMethod:String:w LineNumber:Int32 Notes:String:w PrivateUsePercentage:Double:w
Project:Guid:w ProjectDescription:String Quantity:Double:w SerialNumber:String:w
StatisticalNetWeight:Double:w StatisticalNumber:String:w StatisticalQuantity:Double:w
StatisticalValue:Double:w Subscription:Guid:w SubscriptionDescription:String To:DateTime:w
TrackingNumber:Guid:w TrackingNumberDescription:String Type:Int32 VATAmountDC:Double
VATAmountFC:Double:w VATBaseAmountDC:Double VATBaseAmountFC:Double:w VATCode:String:w
VATCodeDescription:String VATNonDeductiblePercentage:Double:w VATPercentage:Double:w
WithholdingAmountDC:Double:w WithholdingTax:String:w
"""
GENERAL_JOURNAL_ENTRY = """
EntryID:Guid:kw Created:DateTime Currency:String:w CustomField:String Division:Int32
EntryNumber:Int32:w ExchangeRate:Double:w FinancialPeriod:Int16:w FinancialYear:Int16:w
GeneralJournalEntryLines:Collection:wm JournalCode:String:wm JournalDescription:String
Modified:DateTime Reversal:Boolean:w Status:Int16 StatusDescription:String Type:Int32
TypeDescription:String
"""
GENERAL_JOURNAL_ENTRY_LINE = """
ID:Guid:kw Account:Guid:w AccountCode:String AccountName:String AmountDC:Double AmountFC:Double:w
AmountVATDC:Double AmountVATFC:Double:w Asset:Guid:w AssetCode:String AssetDescription:String
CostCenter:String:w CostCenterDescription:String CostUnit:String:w CostUnitDescription:String
Created:DateTime Creator:Guid CreatorFullName:String CustomField:String Date:DateTime:w
Description:String:w Division:Int32 Document:Guid:w DocumentNumber:Int32 DocumentSubject:String
EntryID:Guid:wm EntryNumber:Int32 GLAccount:Guid:wm GLAccountCode:String GLAccountDescription:String
LineNumber:Int32 Modified:DateTime Modifier:Guid ModifierFullName:String Notes:String:w
OffsetID:Guid:w OurRef:Int32:w Project:Guid:w ProjectCode:String ProjectDescription:String
ProjectWBS:Guid:w ProjectWBSDescription:String Quantity:Double:w VATBaseAmountDC:Double
VATBaseAmountFC:Double VATCode:String:w VATCodeDescription:String VATPercentage:Double:w
VATType:String
"""
BANK_ENTRY = """
EntryID:Guid:kw BankEntryLines:Collection:wm BankStatementDocument:Guid:w
BankStatementDocumentNumber:Int32 BankStatementDocumentSubject:String ClosingBalanceFC:Double:w
Created:DateTime Currency:String:w CustomField:String Division:Int32 EntryNumber:Int32:w
FinancialPeriod:Int16:w FinancialYear:Int16:w JournalCode:String:wm JournalDescription:String
Modified:DateTime OpeningBalanceFC:Double:w Status:Int16 StatusDescription:String
"""
BANK_ENTRY_LINE = """
ID:Guid:k Account:Guid:w AccountCode:String AccountName:String AmountDC:Double AmountFC:Double:wm
AmountVATFC:Double:w Asset:Guid:w AssetCode:String AssetDescription:String CostCenter:String:w
CostCenterDescription:String CostUnit:String:w CostUnitDescription:String Created:DateTime
Creator:Guid CreatorFullName:String CustomField:String Date:DateTime:w Description:String:w
Division:Int32 Document:Guid:w DocumentNumber:Int32 DocumentSubject:String EntryID:Guid:wm
EntryNumber:Int32 ExchangeRate:Double:w GLAccount:Guid:wm GLAccountCode:String
GLAccountDescription:String LineNumber:Int32 Modified:DateTime Modifier:Guid ModifierFullName:String
Notes:String:w OffsetID:Guid OurRef:Int32:w Project:Guid:w ProjectCode:String
ProjectDescription:String ProjectWBS:Guid:w ProjectWBSDescription:String Quantity:Double:w
VATCode:String:w VATCodeDescription:String VATPercentage:Double:w VATType:String:w
"""
TRANSACTION_LINE = """
ID:Guid:k Account:Guid AccountCode:String AccountName:String AmountDC:Double AmountFC:Double
AmountVATBaseFC:Double AmountVATFC:Double Asset:Guid AssetCode:String AssetDescription:String
CostCenter:String CostCenterDescription:String CostUnit:String CostUnitDescription:String
Created:DateTime Creator:Guid CreatorFullName:String Currency:String CustomField:String
Date:DateTime Description:String Division:Int32 Document:Guid DocumentNumber:Int32
DocumentSubject:String DueDate:DateTime EntryID:Guid EntryNumber:Int32 ExchangeRate:Double
ExternalLinkDescription:String ExternalLinkReference:String ExtraDutyAmountFC:Double
ExtraDutyPercentage:Double FinancialPeriod:Int16 FinancialYear:Int16 GLAccount:Guid
GLAccountCode:String GLAccountDescription:String InvoiceNumber:Int32 Item:Guid ItemCode:String
ItemDescription:String JournalCode:String JournalDescription:String LineNumber:Int32 LineType:Int16
Modified:DateTime Modifier:Guid ModifierFullName:String Notes:String OffsetID:Guid OrderNumber:Int32
PaymentDiscountAmount:Double PaymentReference:String Project:Guid ProjectCode:String
ProjectDescription:String ProjectWBS:Guid ProjectWBSDescription:String Quantity:Double
SerialNumber:String ShopOrder:Guid Status:Int16 Subscription:Guid SubscriptionDescription:String
TrackingNumber:String TrackingNumberDescription:String Type:Int32 VATCode:String
VATCodeDescription:String VATPercentage:Double VATType:String YourRef:String
"""
PURCHASE_ORDER = """
PurchaseOrderID:Guid:kw AmountDC:Double AmountDiscount:Double:w AmountDiscountExclVat:Double:w
AmountFC:Double AmountFCExclVat:Double ApprovalStatus:Int16 ApprovalStatusDescription:String
Approved:DateTime Approver:Guid ApproverFullName:String Created:DateTime Creator:Guid
CreatorFullName:String Currency:String:w DeliveryAccount:Guid DeliveryAccountCode:String
DeliveryAccountName:String DeliveryAddress:Guid DeliveryContact:Guid
DeliveryContactPersonFullName:String Description:String:w Discount:Double:w Division:Int32
Document:Guid:w DocumentSubject:String DropShipment:Boolean ExchangeRate:Double:w
IncotermAddress:String:w IncotermCode:String:w IncotermVersion:Int16:w InvoiceStatus:Int32
Modified:DateTime Modifier:Guid ModifierFullName:String OrderDate:DateTime:w OrderNumber:Int32:w
OrderStatus:Int32 PaymentCondition:String:w PaymentConditionDescription:String PurchaseAgent:Guid:w
PurchaseAgentFullName:String PurchaseOrderLineCount:Int32 PurchaseOrderLines:Collection:wm
ReceiptDate:DateTime:w ReceiptStatus:Int32 Remarks:String:w SalesOrder:Guid SalesOrderNumber:Int32
SelectionCode:Guid:w SelectionCodeCode:String SelectionCodeDescription:String ShippingMethod:Guid:w
ShippingMethodCode:String ShippingMethodDescription:String Source:Int16 Supplier:Guid:wm
SupplierCode:String SupplierContact:Guid:w SupplierContactPersonFullName:String:w
SupplierName:String VATAmount:Double Warehouse:Guid:w WarehouseCode:String
WarehouseDescription:String YourRef:String:w
"""
PURCHASE_ORDER_LINE = """
ID:Guid:kw AmountDC:Double AmountFC:Double CostCenter:String:w CostCenterDescription:String
CostUnit:String:w CostUnitDescription:String Created:DateTime Creator:Guid CreatorFullName:String
CustomField:String Description:String:w Discount:Double:w Division:Int32 Expense:Guid
ExpenseDescription:String InStock:Double InvoicedQuantity:Double IsBatchNumberItem:Byte
IsSerialNumberItem:Byte Item:Guid:wm ItemBarcode:String ItemBarcodeAdditional:String ItemCode:String
ItemDescription:String ItemDivisable:Boolean LineNumber:Int32 Modified:DateTime Modifier:Guid
ModifierFullName:String NetPrice:Double:w Notes:String:w Project:Guid:w ProjectCode:String
ProjectDescription:String ProjectedStock:Double PurchaseOrderID:Guid:wm Quantity:Double
QuantityInPurchaseUnits:Double:wm Rebill:Boolean:w ReceiptDate:DateTime:w ReceivedQuantity:Double
SalesOrder:Guid SalesOrderLine:Guid SalesOrderLineNumber:Int32 SalesOrderNumber:Int32 ShopOrder:Guid
ShopOrderMaterialPlan:Guid ShopOrderMaterialPlanLineNumber:Int32 ShopOrderMaterialPlans:Collection
ShopOrderNumber:Int32 ShopOrderRoutingStepPlan:Guid ShopOrderRoutingStepPlanLineNumber:Int32
ShopOrderRoutingStepPlans:Collection SupplierItemCode:String SupplierItemCopyRemarks:Byte
Unit:String UnitDescription:String UnitPrice:Double:w VATAmount:Double VATCode:String:w
VATDescription:String VATPercentage:Double:w
"""
SYNC_PURCHASE_ORDER = """
Timestamp:Int64:k AmountDC:Double AmountDiscount:Double AmountDiscountExclVat:Double AmountFC:Double
AmountFCExclVat:Double ApprovalStatus:Int16 ApprovalStatusDescription:String Approved:DateTime
Approver:Guid ApproverFullName:String CostCenter:Guid CostCenterCode:String
CostCenterDescription:String CostUnit:Guid CostUnitCode:String CostUnitDescription:String
Created:DateTime Creator:Guid CreatorFullName:String Currency:String CustomField:String
DeliveryAccount:Guid DeliveryAccountCode:String DeliveryAccountName:String DeliveryAddress:Guid
DeliveryContact:Guid DeliveryContactPersonFullName:String Description:String Discount:Double
Division:Int32 Document:Guid DocumentNumber:Int32 DocumentSubject:String DropShipment:Boolean
ExchangeRate:Double Expense:Guid ExpenseDescription:String ID:Guid IncotermAddress:String
IncotermCode:String IncotermVersion:Int16 InvoicedQuantity:Double InvoiceStatus:Int32
IsBatchNumberItem:Byte IsSerialNumberItem:Byte Item:Guid ItemBarcode:String ItemCode:String
ItemDescription:String ItemDivisable:Boolean LineNumber:Int32 Modified:DateTime Modifier:Guid
ModifierFullName:String NetPrice:Double Notes:String OrderDate:DateTime OrderNumber:Int32
OrderStatus:Int32 PaymentCondition:String PaymentConditionDescription:String Project:Guid
ProjectCode:String ProjectDescription:String PurchaseAgent:Guid PurchaseAgentFullName:String
PurchaseOrderID:Guid Quantity:Double QuantityInPurchaseUnits:Double Rebill:Boolean
ReceiptDate:DateTime ReceiptStatus:Int32 ReceivedQuantity:Double Remarks:String SalesOrder:Guid
SalesOrderLine:Guid SalesOrderLineNumber:Int32 SalesOrderNumber:Int32 SelectionCode:Guid
SelectionCodeCode:String SelectionCodeDescription:String SendingMethod:Int32 ShippingMethod:Guid
ShippingMethodCode:String ShippingMethodDescription:String Source:Int16 Supplier:Guid
SupplierCode:String SupplierContact:Guid SupplierContactPersonFullName:String
SupplierItemCode:String SupplierItemCopyRemarks:Byte SupplierName:String Unit:String
UnitDescription:String UnitPrice:Double VATAmount:Double VATCode:String VATDescription:String
VATPercentage:Double Warehouse:Guid WarehouseCode:String WarehouseDescription:String YourRef:String
"""
DELETED = """
Timestamp:Int64:k DeletedBy:Guid DeletedDate:DateTime Division:Int32 EntityKey:Guid EntityType:Int32
ID:Guid
"""
# IsInstant is missing from that scrape; picqer's WebhookSubscription model and CData list it (§6.1).
WEBHOOK_SUBSCRIPTION = """
ID:Guid:kw CallbackURL:String:wm ClientID:Guid Created:DateTime Creator:Guid CreatorFullName:String
Description:String Division:Int32 IsInstant:Boolean:w Topic:String:wm UserID:Guid:w
"""
ME = """
UserID:Guid:k AccountingDivision:Int32 CurrentDivision:Int32 CustomerCode:String
DivisionCustomer:Guid DivisionCustomerCode:String DivisionCustomerName:String
DivisionCustomerSiretNumber:String DivisionCustomerVatNumber:String DossierDivision:Int32
Email:String EmployeeID:Guid FirstName:String FullName:String Gender:String Initials:String
IsClientUser:Boolean IsEmployeeSelfServiceUser:Boolean IsMyFirmLiteUser:Boolean
IsMyFirmPortalUser:Boolean IsOEIMigrationMandatory:Boolean IsStarterUser:Boolean Language:String
LanguageCode:String LastName:String Legislation:Int64 MiddleName:String Mobile:String
Nationality:String PackageCode:String Phone:String PhoneExtension:String PictureUrl:String
ServerTime:String ServerUtcOffset:Double ThumbnailPicture:Binary ThumbnailPictureFormat:String
Title:String UserName:String
"""
VAT_CODE = """
ID:Guid:kw Account:Guid:w AccountCode:String AccountName:String CalculationBasis:Byte:w Charged:Boolean:w
Code:String:wm Country:String Created:DateTime Creator:Guid CreatorFullName:String CustomField:String
Description:String:wm Division:Int32 EUSalesListing:String:w ExcludeVATListing:Byte:w
GLDiscountPurchase:Guid:w GLDiscountPurchaseCode:String GLDiscountPurchaseDescription:String
GLDiscountSales:Guid:w GLDiscountSalesCode:String GLDiscountSalesDescription:String GLToClaim:Guid:w
GLToClaimCode:String GLToClaimDescription:String GLToPay:Guid:w GLToPayCode:String GLToPayDescription:String
IntraStat:Boolean:w IntrastatType:String:w IsBlocked:Boolean:w LegalText:String:w Modified:DateTime
Modifier:Guid ModifierFullName:String OssCountry:String:w Percentage:Double TaxReturnType:Int16:w
Type:String:w VatDocType:String:w VatMargin:Byte:w VATPartialRatio:Int16:w VATPercentages:Collection:w
VATTransactionType:String:w
"""
EXCHANGE_RATE = """
ID:Guid:kw Created:DateTime Creator:Guid CreatorFullName:String Division:Int32 Modified:DateTime
Modifier:Guid ModifierFullName:String Rate:Double:w SourceCurrency:String:wm SourceCurrencyDescription:String
StartDate:DateTime:w TargetCurrency:String TargetCurrencyDescription:String
"""
# The reference page keys this list by journal, year and period together.
JOURNAL_STATUS = """
Journal:String:k Period:Int32:k Year:Int32:k JournalDescription:String JournalType:Int32
JournalTypeDescription:String Status:Int32 StatusDescription:String
"""
PAYABLES_LIST = """
HID:Int64:k AccountCode:String AccountId:Guid AccountName:String Amount:Double AmountInTransit:Double
ApprovalStatus:Int16 CurrencyCode:String Description:String DueDate:DateTime EntryNumber:Int32 Id:Guid
InvoiceDate:DateTime InvoiceNumber:Int32 JournalCode:String JournalDescription:String Notes:Collection
YourRef:String
"""
CASHFLOW_PAYMENT = """
ID:Guid:k Account:Guid AccountBankAccountID:Guid AccountBankAccountNumber:String AccountCode:String
AccountContact:Guid AccountContactName:String AccountName:String AmountDC:Double AmountDiscountDC:Double
AmountDiscountFC:Double AmountFC:Double BankAccountID:Guid BankAccountNumber:String
CashflowTransactionBatchCode:String Created:DateTime Creator:Guid CreatorFullName:String Currency:String
Description:String DiscountDueDate:DateTime Division:Int32 Document:Guid DocumentNumber:Int32
DocumentSubject:String DueDate:DateTime EndDate:DateTime EndPeriod:Int16 EndYear:Int16 EntryDate:DateTime
EntryID:Guid EntryNumber:Int32 GLAccount:Guid GLAccountCode:String GLAccountDescription:String
InvoiceDate:DateTime InvoiceNumber:Int32 IsBatchBooking:Byte Journal:String JournalDescription:String
Modified:DateTime Modifier:Guid ModifierFullName:String PaymentBatchNumber:Int32 PaymentCondition:String
PaymentConditionDescription:String PaymentDays:Int32 PaymentDaysDiscount:Int32
PaymentDiscountPercentage:Double PaymentMethod:String PaymentReference:String PaymentSelected:DateTime
PaymentSelector:Guid PaymentSelectorFullName:String RateFC:Double Source:Int32 Status:Int16
TransactionAmountDC:Double TransactionAmountFC:Double TransactionDueDate:DateTime TransactionEntryID:Guid
TransactionID:Guid TransactionIsReversal:Boolean TransactionReportingPeriod:Int16
TransactionReportingYear:Int16 TransactionStatus:Int16 TransactionType:Int32 YourRef:String
"""
# The scrape also lists Class_01 to Class_05, whose types it does not give; the sandbox leaves them out.
DIVISION = """
Code:Int32:k AddressLine1:String AddressLine2:String AddressLine3:String ArchiveDate:DateTime
BlockingStatus:Int32 BusinessTypeCode:String BusinessTypeDescription:String
ChamberOfCommerceEstablishment:String ChamberOfCommerceNumber:String City:String CompanySizeCode:String
CompanySizeDescription:String Country:String Created:DateTime Creator:Guid CreatorFullName:String
Currency:String Current:Boolean Customer:Guid CustomerCode:String CustomerName:String
DatevAccountantNumber:String DatevClientNumber:String Description:String DivisionHRLinkUnlinkDate:DateTime
DivisionMoveDate:DateTime Email:String Fax:String Hid:Int64 IsDossierDivision:Boolean IsHRDivision:Boolean
IsMainDivision:Boolean IsPracticeDivision:Boolean Legislation:String Modified:DateTime Modifier:Guid
ModifierFullName:String OBNumber:String Phone:String Postcode:String SbiCode:String SbiDescription:String
SectorCode:String SectorDescription:String ShareCapital:Double SiretNumber:String StartDate:DateTime
State:String Status:Int32 SubsectorCode:String SubsectorDescription:String TaxOfficeNumber:String
TaxReferenceNumber:String TemplateCode:String VATNumber:String Website:String
"""
