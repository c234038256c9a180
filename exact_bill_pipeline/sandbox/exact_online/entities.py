"""The entity sets the sandbox serves: paths, properties, keys, page sizes, mandatory filters, and serialising rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from exact_bill_pipeline.sandbox.exact_online import fields as f
from exact_bill_pipeline.sandbox.exact_online.fields import Prop

NORMAL_PAGE_SIZE = 60
BULK_PAGE_SIZE = 1000  # bulk and sync (api-reference §4.2)


@dataclass(frozen=True)
class Navigation:
    """A collection property (an entry's lines); ``table`` is None when the sandbox keeps no such records."""

    table: str | None
    child_path: str | None = None


@dataclass(eq=False)
class EntitySet:
    """One addressable collection, e.g. ``financial/GLAccounts`` or ``sync/Financial/GLAccounts``."""

    path: str
    type_name: str
    props: tuple[Prop, ...]
    table: str
    kind: str = "normal"  # normal, bulk or sync
    methods: frozenset[str] = frozenset({"GET"})
    # Normal and bulk endpoints with a sync twin need a $filter on one of these (api-reference §4.2).
    mandatory_filter: tuple[str, ...] = ()
    select_star: bool = True
    navigation: dict[str, Navigation] = field(default_factory=dict)
    by_name: dict[str, Prop] = field(init=False)
    key: Prop = field(init=False)
    keys: tuple[Prop, ...] = field(init=False)  # more than one for a composite key, e.g. JournalStatusList
    fields: tuple[tuple[str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {p.name: p for p in self.props}
        self.keys = tuple(p for p in self.props if p.key)
        self.key = self.keys[0]
        self.fields = tuple((p.name, p.edm) for p in self.props)

    def key_of(self, row: dict[str, Any]) -> Any:
        """The row's key, a tuple for a composite key (the order its table sorts and pages by)."""
        if len(self.keys) == 1:
            return row.get(self.key.name)
        return tuple(row.get(p.name) for p in self.keys)

    def key_text(self, row: dict[str, Any]) -> str:
        """The key as OData v2 writes it inside (…): guid'…', or Name=value pairs for a composite key."""
        if len(self.keys) == 1:
            return key_literal(self.key.edm, row.get(self.key.name))
        return ",".join(f"{p.name}={key_literal(p.edm, row.get(p.name))}" for p in self.keys)

    @property
    def page_size(self) -> int:
        return NORMAL_PAGE_SIZE if self.kind == "normal" else BULK_PAGE_SIZE

    @property
    def entity_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def key_literal(edm: str, value: Any) -> str:
    """A key as OData v2 writes it in URLs and $skiptoken: guid'…', 387L, 'GMD' or 12."""
    if edm == "Guid":
        return f"guid'{value}'"
    if edm == "Int64":
        return f"{value}L"
    if edm == "String":
        return "'" + str(value).replace("'", "''") + "'"
    return str(value)


def _model(name: str) -> str:
    # The item fixture shows "Exact.Web.Api.Models.Item"; the names of the other types, and of the bulk and
    # sync types, follow that pattern (UNCONFIRMED).
    return f"Exact.Web.Api.Models.{name}"


GL_ACCOUNT = f.parse_props(f.GLACCOUNT)
ACCOUNT = f.parse_props(f.ACCOUNT)
TRANSACTION_LINE = f.parse_props(f.TRANSACTION_LINE)
GL_ACCOUNT_FILTER = ("ID", "Code", "Description", "Type", "IsBlocked", "Modified")
ACCOUNT_FILTER = ("ID", "Code", "Name", "IsSupplier", "IsSales", "Status", "VATNumber", "Email", "Modified")
TRANSACTION_LINE_FILTER = ("ID", "EntryID", "EntryNumber", "Date", "FinancialYear", "FinancialPeriod",
                           "JournalCode", "Account", "GLAccount", "Modified")
PURCHASE_ORDER_FILTER = ("PurchaseOrderID", "OrderNumber", "Supplier", "OrderDate", "Modified")
# cashflow/Payments has a sync twin (sync/Cashflow/PaymentTerms), so a GET needs a $filter; which fields count is
# UNCONFIRMED, and the sandbox accepts these.
CASHFLOW_PAYMENT_FILTER = ("ID", "Account", "EntryID", "InvoiceNumber", "Status", "TransactionEntryID", "YourRef",
                           "Modified")
UNKEPT = Navigation(None)


def _sets() -> list[EntitySet]:
    post = frozenset({"GET", "POST"})
    entries = frozenset({"GET", "POST", "DELETE"})
    return [
        EntitySet("financial/GLAccounts", _model("GLAccount"), GL_ACCOUNT, "GLAccounts",
                  mandatory_filter=GL_ACCOUNT_FILTER, navigation={"DeductibilityPercentages": UNKEPT}),
        EntitySet("hrm/Costcenters", _model("Costcenter"), f.parse_props(f.COSTCENTER), "Costcenters"),
        EntitySet("hrm/Costunits", _model("Costunit"), f.parse_props(f.COSTUNIT), "Costunits"),
        EntitySet("financial/Journals", _model("Journal"), f.parse_props(f.JOURNAL), "Journals"),
        EntitySet("financial/FinancialPeriods", _model("FinancialPeriod"), f.parse_props(f.FINANCIAL_PERIOD),
                  "FinancialPeriods"),
        EntitySet("crm/Accounts", _model("Account"), ACCOUNT, "Accounts", methods=post,
                  mandatory_filter=ACCOUNT_FILTER, navigation={"BankAccounts": UNKEPT}),
        EntitySet("purchaseentry/PurchaseEntries", _model("PurchaseEntry"), f.parse_props(f.PURCHASE_ENTRY),
                  "PurchaseEntries", methods=entries, navigation={
                      "PurchaseEntryLines": Navigation("PurchaseEntryLines", "purchaseentry/PurchaseEntryLines")}),
        EntitySet("purchaseentry/PurchaseEntryLines", _model("PurchaseEntryLine"),
                  f.parse_props(f.PURCHASE_ENTRY_LINE), "PurchaseEntryLines"),
        EntitySet("generaljournalentry/GeneralJournalEntries", _model("GeneralJournalEntry"),
                  f.parse_props(f.GENERAL_JOURNAL_ENTRY), "GeneralJournalEntries", methods=entries, navigation={
                      "GeneralJournalEntryLines": Navigation(
                          "GeneralJournalEntryLines", "generaljournalentry/GeneralJournalEntryLines")}),
        EntitySet("generaljournalentry/GeneralJournalEntryLines", _model("GeneralJournalEntryLine"),
                  f.parse_props(f.GENERAL_JOURNAL_ENTRY_LINE), "GeneralJournalEntryLines"),
        EntitySet("financialtransaction/BankEntries", _model("BankEntry"), f.parse_props(f.BANK_ENTRY),
                  "BankEntries", methods=entries, navigation={
                      "BankEntryLines": Navigation("BankEntryLines", "financialtransaction/BankEntryLines")}),
        EntitySet("financialtransaction/BankEntryLines", _model("BankEntryLine"),
                  f.parse_props(f.BANK_ENTRY_LINE), "BankEntryLines"),
        EntitySet("financialtransaction/TransactionLines", _model("TransactionLine"), TRANSACTION_LINE,
                  "TransactionLines", mandatory_filter=TRANSACTION_LINE_FILTER),
        EntitySet("purchaseorder/PurchaseOrders", _model("PurchaseOrder"), f.parse_props(f.PURCHASE_ORDER),
                  "PurchaseOrders", mandatory_filter=PURCHASE_ORDER_FILTER, navigation={
                      "PurchaseOrderLines": Navigation("PurchaseOrderLines", "purchaseorder/PurchaseOrderLines")}),
        EntitySet("purchaseorder/PurchaseOrderLines", _model("PurchaseOrderLine"),
                  f.parse_props(f.PURCHASE_ORDER_LINE), "PurchaseOrderLines",
                  navigation={"ShopOrderMaterialPlans": UNKEPT, "ShopOrderRoutingStepPlans": UNKEPT}),
        EntitySet("webhooks/WebhookSubscriptions", _model("WebhookSubscription"),
                  f.parse_props(f.WEBHOOK_SUBSCRIPTION), "WebhookSubscriptions", methods=entries),
        EntitySet("bulk/Financial/GLAccounts", _model("Bulk.Financial.GLAccount"), f.read_only(GL_ACCOUNT),
                  "GLAccounts", kind="bulk", mandatory_filter=GL_ACCOUNT_FILTER,
                  navigation={"DeductibilityPercentages": UNKEPT}),
        EntitySet("bulk/CRM/Accounts", _model("Bulk.CRM.Account"), f.read_only(ACCOUNT), "Accounts", kind="bulk",
                  mandatory_filter=ACCOUNT_FILTER, navigation={"BankAccounts": UNKEPT}),
        EntitySet("bulk/Financial/TransactionLines", _model("Bulk.Financial.TransactionLine"),
                  f.read_only(TRANSACTION_LINE), "TransactionLines", kind="bulk",
                  mandatory_filter=TRANSACTION_LINE_FILTER),
        EntitySet("sync/Financial/GLAccounts", _model("Sync.Financial.GLAccount"),
                  f.sync_variant(GL_ACCOUNT, frozenset({"DeductibilityPercentages"})), "GLAccounts", kind="sync"),
        EntitySet("sync/CRM/Accounts", _model("Sync.CRM.Account"), f.sync_variant(ACCOUNT), "Accounts",
                  kind="sync", navigation={"BankAccounts": UNKEPT}),
        EntitySet("sync/Financial/TransactionLines", _model("Sync.Financial.TransactionLine"),
                  f.sync_variant(TRANSACTION_LINE, frozenset({"ShopOrder"})), "TransactionLines", kind="sync"),
        # The reference page says this endpoint refuses $select=*.
        EntitySet("sync/PurchaseOrder/PurchaseOrders", _model("Sync.PurchaseOrder.PurchaseOrder"),
                  f.parse_props(f.SYNC_PURCHASE_ORDER), "PurchaseOrderSyncRows", kind="sync", select_star=False),
        EntitySet("sync/Deleted", _model("Sync.Deleted"), f.parse_props(f.DELETED), "Deleted", kind="sync"),
        # The AP documents of issue 14 (docs/ap-documents.md): VAT codes, exchange rates, closed periods, open items.
        EntitySet("vat/VATCodes", _model("VATCode"), f.parse_props(f.VAT_CODE), "VATCodes",
                  navigation={"VATPercentages": UNKEPT}),
        EntitySet("financial/ExchangeRates", _model("ExchangeRate"), f.parse_props(f.EXCHANGE_RATE), "ExchangeRates"),
        EntitySet("read/financial/JournalStatusList", _model("JournalStatusList"), f.parse_props(f.JOURNAL_STATUS),
                  "JournalStatusList"),
        EntitySet("read/financial/PayablesList", _model("PayablesListItem"), f.parse_props(f.PAYABLES_LIST),
                  "PayablesList", navigation={"Notes": UNKEPT}),
        EntitySet("cashflow/Payments", _model("Payment"), f.parse_props(f.CASHFLOW_PAYMENT), "CashflowPayments",
                  mandatory_filter=CASHFLOW_PAYMENT_FILTER),
        EntitySet("system/Divisions", _model("Division"), f.parse_props(f.DIVISION), "Divisions"),
    ]


ENTITY_SETS: dict[str, EntitySet] = {es.path: es for es in _sets()}
# Served under /api/v1/current/, where "current" stands in for the division.
ME = EntitySet("Me", "Exact.Web.Api.System.Me", f.parse_props(f.ME), "", methods=frozenset({"GET"}))
# Where each table's records live by default, for __metadata URIs of expanded lines.
HOME_SET: dict[str, EntitySet] = {es.table: es for es in ENTITY_SETS.values() if es.kind == "normal"}
# crm/Accounts.Code is an 18-character, right-aligned string (api-reference §4.3).
ACCOUNT_CODE_WIDTH = 18


@dataclass(frozen=True)
class Selection:
    """Which properties a response row carries and which collections are expanded (None: all of them)."""

    names: frozenset[str] | None = None
    expand: dict[str, Selection] = field(default_factory=dict)

    def fields_of(self, entity_set: EntitySet) -> tuple[tuple[str, str], ...]:
        if self.names is None:
            return entity_set.fields
        return tuple(item for item in entity_set.fields if item[0] in self.names)


ALL = Selection()
Children = Callable[[str, str], Iterable[dict[str, Any]]]


class Serializer:
    """Turns stored rows into Exact's verbose JSON: __metadata, /Date(ms)/, deferred or expanded lines."""

    def __init__(self, base_url: str, division: int | str, children: Children) -> None:
        self.root = f"{base_url}/api/v1/{division}"
        self.children = children
        self._fields: dict[tuple[int, int], tuple[tuple[str, str], ...]] = {}

    def _fields_of(self, entity_set: EntitySet, selection: Selection) -> tuple[tuple[str, str], ...]:
        """The selected fields, worked out once per response rather than once per row."""
        key = (id(entity_set), id(selection))
        if key not in self._fields:
            self._fields[key] = selection.fields_of(entity_set)
        return self._fields[key]

    def uri(self, entity_set: EntitySet, row: dict[str, Any]) -> str:
        return f"{self.root}/{entity_set.path}({entity_set.key_text(row)})"

    def row(self, entity_set: EntitySet, row: dict[str, Any], selection: Selection = ALL) -> dict[str, Any]:
        uri = self.uri(entity_set, row)
        out: dict[str, Any] = {"__metadata": {"uri": uri, "type": entity_set.type_name}}
        for name, edm in self._fields_of(entity_set, selection):
            value = row.get(name)
            if edm == "DateTime":
                value = None if value is None else f"/Date({value})/"
            elif edm == "Collection":
                value = self._collection(entity_set, row, name, uri, selection)
            elif edm == "Boolean" and value is None:
                value = False
            out[name] = value
        return out

    def blank(self, entity_set: EntitySet, row: dict[str, Any]) -> dict[str, Any]:
        """A created entity as Exact returns it without ``Prefer: return=representation``: only key and metadata."""
        out: dict[str, Any] = {"__metadata": {"uri": self.uri(entity_set, row), "type": entity_set.type_name}}
        for name, _edm in entity_set.fields:
            out[name] = row.get(name) if name == entity_set.key.name else None
        return out

    def _collection(
        self, entity_set: EntitySet, row: dict[str, Any], name: str, uri: str, selection: Selection
    ) -> dict[str, Any]:
        nav = entity_set.navigation.get(name, UNKEPT)
        if name not in selection.expand:
            return {"__deferred": {"uri": f"{uri}/{name}"}}
        if nav.table is None:
            return {"results": []}
        child_set = HOME_SET[nav.table]
        lines = list(self.children(nav.table, row[entity_set.key.name]))
        # Expanded lines are capped at one page (api-reference §4.1); the rest come from the lines endpoint.
        page = lines[:NORMAL_PAGE_SIZE]
        out: dict[str, Any] = {"results": [self.row(child_set, line, selection.expand[name]) for line in page]}
        if len(lines) > NORMAL_PAGE_SIZE:
            last = page[-1][child_set.key.name]
            names = selection.expand[name].names
            select = "*" if names is None else ",".join(sorted(names))
            out["__next"] = f"{uri}/{name}?$select={select}&$skiptoken={key_literal(child_set.key.edm, last)}"
        return out
