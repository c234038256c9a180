"""Turns the shared seeded firm into the records of the Exact division the sandbox serves."""

from __future__ import annotations

import random
import uuid

from exact_bill_pipeline.sandbox.ap_seed import (
    EURO_TAX_ID,
    EURO_VENDOR_NAME,
    VAT_ACCOUNTS,
    VAT_CLAIM_ACCOUNT,
    VAT_CODES,
    ApDocuments,
)
from exact_bill_pipeline.sandbox.exact_online.currency import CURRENCY_NAMES
from exact_bill_pipeline.sandbox.exact_online.edm import DAY_MS, date_ms
from exact_bill_pipeline.sandbox.exact_online.postings import GL_TYPES, PURCHASE_JOURNAL, LineRefs, Postings
from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore
from exact_bill_pipeline.sandbox.exact_online.vat import add_vat_code, padded
from exact_bill_pipeline.sandbox.seed import Firm, PurchaseOrderSeed, exact_supplier_code
from exact_bill_pipeline.sandbox.settings import SandboxSettings


def seed_division(store: DivisionStore, postings: Postings, settings: SandboxSettings, firm: Firm) -> None:
    setup_ms = firm.history_start_ms - 400 * DAY_MS
    rng = random.Random(f"exact-sandbox:{settings.seed}")
    _gl_accounts(store, firm, setup_ms)
    _cost_centers(store, firm, setup_ms)
    _journals(store, firm, setup_ms, rng, settings)
    for period in firm.financial_periods:
        store.insert("FinancialPeriods", {"ID": period.id, "FinYear": period.year, "FinPeriod": period.period,
                                          "StartDate": date_ms(period.start), "EndDate": date_ms(period.end)},
                     setup_ms)
    _relations(store, postings, settings, firm, setup_ms, rng)
    for order in firm.purchase_orders:
        _purchase_order(store, order, rng, settings.exact.currency)
    _historic_entries(store, postings, firm)
    # Added after everything above, so that the IDs and row versions of the firm's older records stay as they were.
    add_vat_code(store, {"ID": _uuid(rng), "Code": "0", "Description": "No VAT", "Type": "N", "Percentage": 0.0},
                 setup_ms)
    if settings.ap_documents:
        _ap_documents(store, postings, settings, ApDocuments(firm), setup_ms)


def _gl_accounts(store: DivisionStore, firm: Firm, setup_ms: int) -> None:
    for seed in firm.gl_accounts:
        # The duplicates came with a later migration (seed.DUPLICATED_CODES); Exact serves them as they are.
        created = setup_ms if seed.duplicate_of is None else firm.history_start_ms - 100 * DAY_MS
        store.insert("GLAccounts", {
            "ID": seed.id, "Code": seed.code, "Description": seed.description, "Type": seed.type,
            "TypeDescription": GL_TYPES.get(seed.type), "BalanceType": seed.balance_type,
            "BalanceSide": seed.balance_side, "IsBlocked": seed.blocked, "UseCostcenter": seed.use_costcenter,
            "UseCostunit": 0, "Matching": seed.type in {20, 22}, "Compress": False, "RevalueCurrency": False,
            "AllowCostsInSales": 0, "ExcludeVATListing": 0, "SearchCode": seed.code,
        }, created)


def _cost_centers(store: DivisionStore, firm: Firm, setup_ms: int) -> None:
    for center in firm.cost_centers:
        store.insert("Costcenters", {
            "ID": center.id, "Code": center.code, "Description": center.description,
            "Active": center.end_date is None, "EndDate": date_ms(center.end_date) if center.end_date else None,
        }, setup_ms)
    for unit in firm.cost_units:
        store.insert("Costunits", {"ID": unit.id, "Code": unit.code, "Description": unit.description,
                                   "EndDate": None}, setup_ms)


def _journals(store: DivisionStore, firm: Firm, setup_ms: int, rng: random.Random, settings: SandboxSettings) -> None:
    currency = settings.exact.currency
    for journal in firm.journals:
        gl = next((r for r in store.find("GLAccounts", "Code", journal.gl_account_code)), None)
        bank = journal.type == 12
        variable = settings.ap_documents and journal.type in (12, 22, 90)
        store.insert("Journals", {
            "ID": journal.id, "Code": journal.code, "Description": journal.description, "Type": journal.type,
            "Currency": currency, "CurrencyDescription": CURRENCY_NAMES.get(currency, currency), "AllowVAT": False,
            # The AP documents' firm books EUR bills and payments at the rates they come with.
            "AllowVariableCurrency": variable, "AllowVariableExchangeRate": variable, "AutoSave": False,
            "IsBlocked": False, "GLAccount": gl and gl["ID"], "GLAccountCode": gl and gl["Code"],
            "GLAccountDescription": gl and gl["Description"], "GLAccountType": gl and gl["Type"],
            "BankAccountID": _uuid(rng) if bank else None,
            "BankAccountDescription": "Operating account" if bank else None,
            "BankName": "Harbor Community Bank" if bank else None,
        }, setup_ms)


def _relations(
    store: DivisionStore, postings: Postings, settings: SandboxSettings, firm: Firm, setup_ms: int,
    rng: random.Random,
) -> None:
    ap = postings.ap_account()
    for relation in firm.relations:
        terms = firm.vendors[relation.vendor_index].payment_terms_days if relation.vendor_index is not None else 30
        store.insert("Accounts", {
            "ID": relation.id, "Code": exact_supplier_code(relation.code), "Name": relation.name,
            "IsSupplier": relation.is_supplier, "IsSales": relation.is_customer,
            "Status": "C" if relation.is_customer else None, "Blocked": relation.blocked,
            "VATNumber": relation.vat_number, "Email": relation.email, "City": relation.city, "Country": "US",
            "CountryName": "United States", "Type": "A", "Language": "EN",
            "PurchaseCurrency": settings.exact.currency if relation.is_supplier else None,
            "GLAP": ap["ID"] if relation.is_supplier else None,
            "PaymentConditionPurchase": f"{terms:02d}" if relation.is_supplier else None,
        }, setup_ms)
    first_code = max(r.code for r in firm.relations) + 1
    for n in range(settings.exact.extra_relations):
        name = f"Sandbox Customer {n + 1:05d}"
        store.insert("Accounts", {
            "ID": _uuid(rng), "Code": exact_supplier_code(first_code + n), "Name": name, "IsSupplier": False,
            "IsSales": True, "Status": "C", "Blocked": False, "City": "Portland", "Country": "US",
            "CountryName": "United States", "Type": "A", "Email": f"ap@customer{n + 1:05d}.example",
        }, setup_ms)


def _purchase_order(store: DivisionStore, order: PurchaseOrderSeed, rng: random.Random, currency: str) -> None:
    supplier = store.get("Accounts", order.supplier_id) or {}
    total = round(sum(qty * price for _d, qty, price in order.lines), 2)
    order_ms = date_ms(order.order_date)
    header = {
        "PurchaseOrderID": order.id, "OrderNumber": order.number, "Supplier": order.supplier_id,
        "SupplierCode": supplier.get("Code"), "SupplierName": supplier.get("Name"), "OrderDate": order_ms,
        "ReceiptDate": date_ms(order.receipt_date), "Description": order.description, "YourRef": order.your_ref,
        "OrderStatus": order.status, "ReceiptStatus": order.status, "InvoiceStatus": 10, "ApprovalStatus": 2,
        "ApprovalStatusDescription": "Approved", "Currency": currency, "AmountFC": total, "AmountDC": total,
        "AmountFCExclVat": total, "VATAmount": 0.0, "Source": 1, "PurchaseOrderLineCount": len(order.lines),
        "DropShipment": False, "ExchangeRate": 1.0,
    }
    store.insert("PurchaseOrders", header, order_ms)
    store.insert("PurchaseOrderSyncRows", {**header, "ID": order.id, "LineNumber": 0}, order_ms)
    received = {10: 0.0, 20: 0.5, 30: 1.0, 40: 0.0}[order.status]
    for number, (description, quantity, price) in enumerate(order.lines, start=1):
        item = _uuid(rng)
        line = {
            "ID": _uuid(rng), "PurchaseOrderID": order.id, "LineNumber": number, "Item": item,
            "ItemCode": f"ITEM-{order.number}-{number}", "ItemDescription": description, "Description": description,
            "QuantityInPurchaseUnits": quantity, "Quantity": quantity, "UnitPrice": price, "NetPrice": price,
            "AmountFC": round(quantity * price, 2), "AmountDC": round(quantity * price, 2), "VATAmount": 0.0,
            "ReceiptDate": header["ReceiptDate"], "ReceivedQuantity": round(quantity * received, 2),
            "InvoicedQuantity": 0.0, "Unit": "pc", "UnitDescription": "Piece", "Discount": 0.0, "Rebill": False,
        }
        store.insert("PurchaseOrderLines", line, order_ms)
        store.insert("PurchaseOrderSyncRows", {**header, **line}, order_ms)


def _historic_entries(store: DivisionStore, postings: Postings, firm: Firm) -> None:
    journal = next(r for r in store.table("Journals").rows.values() if r["Type"] == PURCHASE_JOURNAL)
    for seed in firm.historic_entries:
        supplier = store.get("Accounts", seed.supplier_id)
        gl = next(r for r in store.find("GLAccounts", "Code", seed.gl_code) if not r.get("IsBlocked"))
        entry_ms = date_ms(seed.entry_date)
        period = store.period_of(entry_ms)
        if supplier is None or period is None:
            continue
        values = {"EntryID": seed.id, "YourRef": seed.your_ref, "Description": seed.description}
        line = {"GLAccount": gl["ID"], "AmountFC": seed.amount, "CostCenter": seed.cost_center}
        center = next(iter(store.find("Costcenters", "Code", seed.cost_center)), None)
        postings.book_purchase_entry(values, [line], [LineRefs(gl, center, None)], journal, supplier, period,
                                     entry_ms, status=50, at_ms=entry_ms + 9 * 3_600_000)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ap_documents(
    store: DivisionStore, postings: Postings, settings: SandboxSettings, documents: ApDocuments, setup_ms: int,
) -> None:
    """The Exact side of the AP documents (sandbox/ap_seed.py): VAT codes and the accounts that carry them, the
    exchange-difference account, EUR rates, the supplier billing in EUR, and a period closed for every journal."""
    def gl_id(code: str) -> str:
        return next(r["ID"] for r in store.find("GLAccounts", "Code", code) if not r.get("IsBlocked"))

    for code, description, kind, percentage in VAT_CODES:
        add_vat_code(store, {"ID": documents.uuid(), "Code": code, "Description": description, "Type": kind,
                             "Percentage": percentage, "GLToClaim": gl_id(VAT_CLAIM_ACCOUNT), "GLToPay": gl_id("1510")},
                     setup_ms)
    descriptions = {code: description for code, description, _kind, _pct in VAT_CODES}
    for code, description, _name, vat in VAT_ACCOUNTS:
        _gl_account(store, documents.uuid(), code, description, 121, setup_ms,
                    VATCode=padded(vat), VATDescription=descriptions[vat])
    _gl_account(store, documents.uuid(), settings.exact.exchange_difference_account,
                "Realized exchange rate differences", 130, setup_ms)
    for rate, start in documents.euro_rates():
        postings.currencies.add_rate("EUR", rate, start, documents.uuid(), setup_ms)
    codes = [int(r["Code"]) for r in store.table("Accounts").rows.values() if r["Code"].strip().isdigit()]
    store.insert("Accounts", {
        "ID": documents.uuid(), "Code": exact_supplier_code(max(codes) + 1), "Name": EURO_VENDOR_NAME,
        "IsSupplier": True, "IsSales": False, "Status": None, "Blocked": False, "VATNumber": EURO_TAX_ID,
        "Email": "factures@lindqvist-moreau.example", "City": "Lyon", "Country": "FR", "CountryName": "France",
        "Type": "A", "Language": "FR", "PurchaseCurrency": "EUR", "GLAP": postings.ap_account()["ID"],
        "PaymentConditionPurchase": "30",
    }, setup_ms)
    year, period = documents.closed_period
    journals = sorted(j["Code"] for j in store.table("Journals").rows.values())
    postings.locks.set_closed(year, period, journals, True)


def _gl_account(store: DivisionStore, row_id: str, code: str, description: str, gl_type: int, setup_ms: int,
                **extra: object) -> None:
    store.insert("GLAccounts", {
        "ID": row_id, "Code": code, "Description": description, "Type": gl_type,
        "TypeDescription": GL_TYPES.get(gl_type), "BalanceType": "W", "BalanceSide": "D", "IsBlocked": False,
        "UseCostcenter": 0, "UseCostunit": 0, "Matching": False, "Compress": False, "RevalueCurrency": False,
        "AllowCostsInSales": 0, "ExcludeVATListing": 0, "SearchCode": code, **extra,
    }, setup_ms)
