"""Bill, vendor and payment changes as users make them in BILL's web app, each with the webhook BILL sends."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from exact_bill_pipeline.sandbox.bill.credits import CREDIT_FIELDS, CREDIT_LINE_FIELDS, Credits, credit_record, line_id
from exact_bill_pipeline.sandbox.bill.fields import ACCOUNTING_CLASSES, COA, DEPARTMENTS, LOCATIONS
from exact_bill_pipeline.sandbox.bill.settlement import (
    CLEARED,
    PENDING,
    cents,
    settle,
    settle_by_status,
)
from exact_bill_pipeline.sandbox.bill.state import BillSandbox
from exact_bill_pipeline.sandbox.bill.store import USER_ID, Table
from exact_bill_pipeline.sandbox.control import ControlError
from exact_bill_pipeline.sandbox.seed import BANK_CODE

APPROVAL_STATUSES = ("ASSIGNED", "APPROVED", "DENIED", "UNDEFINED", "UNASSIGNED", "APPROVING")
BILL_PAYMENT_STATUSES = ("PAID", "UNPAID", "SCHEDULED", "PARTIAL", "UNDEFINED")
PAYMENT_STATUSES = ("APPROVING", "SCHEDULED", "PAID", "CANCELLED", "VOID", "FAILED", "PENDING", "UNDEFINED")
# The unified status that goes with each payment status (sandbox choice; bill.md §4.4 lists both).
SINGLE_STATUS = {
    "APPROVING": "SCHEDULED", "SCHEDULED": "SCHEDULED", "PENDING": "FUNDING_STARTED", "PAID": "CLEARED",
    "CANCELLED": "CANCELED", "VOID": "VOIDED", "FAILED": "DISBURSEMENT_FAILED_ACTION_NEEDED", "UNDEFINED": "UNDEFINED",
}
BILL_FIELDS = ("vendorId", "invoice", "dueDate", "billLineItems", "description", "approvalStatus",
               "payFromChartOfAccountId", "classifications", "purchaseOrderNumber", "exchangeRate")
PAYMENT_FIELDS = ("billId", "amount", "vendorCredits", "exchangeRate", "status", "processDate", "disbursementType",
                  "description")
# Void request types seen in BILL's Postman collection (the request's VOID_AND_CREDIT, the record's others).
VOID_TYPES = ("VOID_ONLY", "VOID_AND_CREDIT", "VOID_AND_REISSUE_VCARD")
# The currency BILL organizations pay in; a vendor billing in another one has bills with an exchangeRate.
MAIN_CURRENCY = "USD"
VENDOR_FIELDS = ("name", "shortName", "accountNumber", "accountType", "email", "phone", "address",
                 "paymentInformation", "additionalInfo", "billCurrency")
LINE_FIELDS = ("amount", "description", "quantity", "price", "classifications")
# The classification ids BILL checks on a bill or line, and the kinds they point at.
CLASSIFICATION_REFERENCES = {"chartOfAccountId": COA, "departmentId": DEPARTMENTS, "locationId": LOCATIONS,
                             "accountingClassId": ACCOUNTING_CLASSES}
FUNDING_ACCOUNT = {"type": "BANK_ACCOUNT", "id": "bac02SB0000000000001"}  # the seed's payments use it too


class Ledger:
    """Bill, vendor and payment changes; each saves the record and publishes the matching event."""

    def __init__(self, sandbox: BillSandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self.credits = Credits(sandbox.store)

    # ----- bills ------------------------------------------------------------------------------------
    def create_bill(self, body: Mapping[str, Any]) -> dict[str, Any]:
        _known(body, BILL_FIELDS, "a bill")
        vendor = self._vendor(body.get("vendorId"))
        invoice = _object(body.get("invoice"), "invoice")
        number = invoice.get("invoiceNumber")
        if not isinstance(number, str) or not number.strip():
            raise ControlError("invoice.invoiceNumber is required")
        invoice_date = _date(invoice.get("invoiceDate", self.sandbox.clock.now_datetime().date().isoformat()),
                             "invoice.invoiceDate")
        due_date = _date(body.get("dueDate", (date.fromisoformat(invoice_date) + timedelta(days=30)).isoformat()),
                         "dueDate")
        lines = self._lines(body.get("billLineItems"))
        amount = _total(lines)
        now = self.sandbox.now_iso()
        record: dict[str, Any] = {
            "id": self.store.ids.new("00n"),
            "archived": False,
            "vendorId": vendor["id"],
            "vendorName": vendor["name"],
            "amount": amount,
            "paidAmount": 0.0,
            "dueAmount": amount,
            "scheduledAmount": 0.0,
            "creditAmount": 0.0,
            "description": _text(body.get("description", f"{vendor['name']} invoice"), "description"),
            "dueDate": due_date,
            "invoice": {"invoiceNumber": number, "invoiceDate": invoice_date},
            "billLineItems": lines,
            "payFromChartOfAccountId": self._pay_from(body.get("payFromChartOfAccountId")),
            "paymentStatus": "UNPAID",
            "approvalStatus": _choice(body.get("approvalStatus", "APPROVED"), APPROVAL_STATUSES, "approvalStatus"),
            "createdBy": USER_ID,
            "createdTime": now,
            "updatedTime": now,
        }
        if "classifications" in body:
            record["classifications"] = self._classifications(body["classifications"], "classifications")
        if "purchaseOrderNumber" in body:
            record["purchaseOrderNumber"] = _text(body["purchaseOrderNumber"], "purchaseOrderNumber")
        self._set_exchange_rate(record, vendor, body.get("exchangeRate"))
        return self._save_bill(record, "bill.created")

    def _set_exchange_rate(self, record: dict[str, Any], vendor: Mapping[str, Any], rate: Any) -> None:
        """A bill of a vendor billing in another currency than USD is in that currency, with the rate to USD."""
        currency = vendor.get("billCurrency") or MAIN_CURRENCY
        if currency == MAIN_CURRENCY:
            if rate is not None and rate != 1:
                raise ControlError(f"vendor {vendor['id']} bills in {MAIN_CURRENCY}: its bills take no exchangeRate")
            record.pop("exchangeRate", None)
            record.pop("fundingAmount", None)
            return
        if rate is None:
            rate = record.get("exchangeRate")
        # "exchangeRate is required while creating bills and vendor credits for international vendors" (BILL v2).
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
            raise ControlError(f"vendor {vendor['id']} bills in {currency}: a bill needs a positive exchangeRate "
                               f"(USD per {currency})")
        record["exchangeRate"] = float(rate)
        # UNCONFIRMED direction: fundingAmount (USD) = amount (the bill's currency) x exchangeRate.
        record["fundingAmount"] = cents(record["amount"] * rate)

    def edit_bill(self, bill_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Applies changes the way a user edits a bill; updatedTime becomes sandbox now."""
        _known(body, (*BILL_FIELDS, "amount", "paymentStatus"), "a bill change")
        record = copy.deepcopy(self._require(self.store.bills, bill_id))
        if "vendorId" in body:
            vendor = self._vendor(body["vendorId"])
            record["vendorId"], record["vendorName"] = vendor["id"], vendor["name"]
        if "invoice" in body:
            changes = _object(body["invoice"], "invoice")
            _known(changes, ("invoiceNumber", "invoiceDate"), "invoice")
            if "invoiceNumber" in changes:
                record["invoice"]["invoiceNumber"] = _text(changes["invoiceNumber"], "invoice.invoiceNumber")
            if "invoiceDate" in changes:
                record["invoice"]["invoiceDate"] = _date(changes["invoiceDate"], "invoice.invoiceDate")
        if "dueDate" in body:
            record["dueDate"] = _date(body["dueDate"], "dueDate")
        for name in ("description", "purchaseOrderNumber"):
            if name in body:
                record[name] = _text(body[name], name)
        if "approvalStatus" in body:
            record["approvalStatus"] = _choice(body["approvalStatus"], APPROVAL_STATUSES, "approvalStatus")
        if "payFromChartOfAccountId" in body:
            record["payFromChartOfAccountId"] = self._pay_from(body["payFromChartOfAccountId"])
        if "classifications" in body:
            record["classifications"] = self._classifications(body["classifications"], "classifications")
        if "billLineItems" in body:
            record["billLineItems"] = self._lines(body["billLineItems"])
        elif "amount" in body:
            _set_total(record, _amount(body["amount"], "amount"))
        record["amount"] = _total(record["billLineItems"])
        if "exchangeRate" in body or "vendorId" in body:
            self._set_exchange_rate(record, self._vendor(record["vendorId"]), body.get("exchangeRate"))
        if "paymentStatus" in body:
            record["paymentStatus"] = _choice(body["paymentStatus"], BILL_PAYMENT_STATUSES, "paymentStatus")
            settle_by_status(record)
        else:
            self._settle(record)
        record["updatedTime"] = self.sandbox.now_iso()
        return self._save_bill(record, "bill.updated")

    def _settle(self, record: dict[str, Any]) -> None:
        """The bill's amounts from its payments and credits; a bill without either keeps the status it was given."""
        payments = self.store.payments_of(record["id"])
        direct = self.credits.direct_credits(record["id"])
        if payments or direct:
            settle(record, payments, direct)
        else:
            settle_by_status(record)

    def set_bill_archived(self, bill_id: str, archived: bool) -> dict[str, Any]:
        record = self._require(self.store.bills, bill_id)
        if record["archived"] == archived:
            return record  # archiving an archived bill changes nothing and sends nothing
        changed = {**record, "archived": archived, "updatedTime": self.sandbox.now_iso()}
        return self._save_bill(changed, "bill.archived" if archived else "bill.restored")

    def _save_bill(self, record: dict[str, Any], event_type: str) -> dict[str, Any]:
        self.store.bills.save(record)
        self._publish(event_type, bill_payload(record))
        return record

    def _lines(self, items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list) or not items:
            raise ControlError("billLineItems must be a non-empty list of lines with an amount")
        lines = []
        for n, item in enumerate(items):
            item = _object(item, f"billLineItems[{n}]")
            _known(item, LINE_FIELDS, f"billLineItems[{n}]")
            amount = _amount(item.get("amount"), f"billLineItems[{n}].amount",
                             zero=self.sandbox.bill.zero_amount_lines)
            line: dict[str, Any] = {"id": f"bli{secrets.token_hex(9)[:17]}", "amount": amount,
                                    "quantity": item.get("quantity", 1), "price": item.get("price", amount)}
            if "description" in item:
                line["description"] = _text(item["description"], f"billLineItems[{n}].description")
            if "classifications" in item:
                line["classifications"] = self._classifications(
                    item["classifications"], f"billLineItems[{n}].classifications"
                )
            lines.append(line)
        return lines

    def _classifications(self, value: Any, where: str) -> dict[str, str]:
        given = _object(value, where)
        out = {}
        for name, ref in given.items():
            if not isinstance(ref, str):
                raise ControlError(f"{where}.{name} must be an id")
            kind = CLASSIFICATION_REFERENCES.get(name)
            if kind is not None and self.store.classification(kind).get(ref) is None:
                raise ControlError(f"{where}.{name} {ref!r} is not a {kind.label.lower()} of this organization")
            out[name] = ref
        return out

    def _pay_from(self, account_id: Any) -> str:
        accounts = self.store.classification(COA)
        if account_id is None:
            bank = next(r for r in accounts.records() if r["account"]["number"] == BANK_CODE)
            return bank["id"]
        if not isinstance(account_id, str) or accounts.get(account_id) is None:
            raise ControlError(f"payFromChartOfAccountId {account_id!r} is not a chart of accounts entry")
        return account_id

    # ----- vendors ----------------------------------------------------------------------------------
    def create_vendor(self, body: Mapping[str, Any]) -> dict[str, Any]:
        _known(body, VENDOR_FIELDS, "a vendor")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ControlError("name is required")
        now = self.sandbox.now_iso()
        record = {"id": self.store.ids.new("009"), "archived": False, "accountType": "BUSINESS",
                  "billCurrency": "USD", "networkStatus": "NOT_CONNECTED", **_vendor_fields(body),
                  "createdTime": now, "updatedTime": now}
        return self._save_vendor(record, "vendor.created")

    def edit_vendor(self, vendor_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        _known(body, VENDOR_FIELDS, "a vendor change")
        record = copy.deepcopy(self._require(self.store.vendors, vendor_id))
        for name, value in _vendor_fields(body).items():
            record[name] = {**record.get(name, {}), **value} if isinstance(value, dict) else value
        record["updatedTime"] = self.sandbox.now_iso()
        return self._save_vendor(record, "vendor.updated")

    def set_vendor_archived(self, vendor_id: str, archived: bool) -> dict[str, Any]:
        record = self._require(self.store.vendors, vendor_id)
        if record["archived"] == archived:
            return record
        changed = {**record, "archived": archived, "updatedTime": self.sandbox.now_iso()}
        return self._save_vendor(changed, "vendor.archived" if archived else "vendor.restored")

    def _save_vendor(self, record: dict[str, Any], event_type: str) -> dict[str, Any]:
        self.store.vendors.save(record)
        self._publish(event_type, record)
        return record

    def _vendor(self, vendor_id: Any) -> dict[str, Any]:
        vendor = self.store.vendors.get(vendor_id) if isinstance(vendor_id, str) else None
        if vendor is None:
            raise ControlError(f"vendorId {vendor_id!r} is not a vendor of this organization")
        return vendor

    # ----- payments ---------------------------------------------------------------------------------------------
    def create_payment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Pays (part of) a bill, maybe applying vendor credits; BILL has no payment.created, so this sends
        payment.updated, and bill.updated when the bill's status or amounts change."""
        _known(body, PAYMENT_FIELDS, "a payment")
        bill = self._require(self.store.bills, body.get("billId"))
        wanted = _credit_list(body.get("vendorCredits", []))
        self.credits.check(bill, wanted)
        credit_total = cents(sum(item["amount"] for item in wanted))
        # What is neither paid nor already scheduled; paying more is refused (UNCONFIRMED, stricter).
        open_amount = cents(bill["dueAmount"] - bill["scheduledAmount"])
        amount = _payment_amount(body.get("amount", cents(open_amount - credit_total)), bool(wanted))
        if open_amount <= 0:
            raise ControlError(f"bill {bill['id']} is already {bill['paymentStatus'].lower()}: nothing is left to pay")
        if cents(amount + credit_total) > open_amount:
            raise ControlError(f"bill {bill['id']} has {open_amount:.2f} left to pay, not {amount + credit_total:.2f}")
        status = _choice(body.get("status", "PAID"), PAYMENT_STATUSES, "status")
        payment = self._payment_record(body, bill, amount, wanted, status)
        self.store.payments.save(payment)
        for item in wanted:
            self.credits.apply(item["id"], bill["id"], payment["id"], item["amount"], payment["createdTime"])
        return self._save_payment(payment, bill)

    def _payment_record(self, body: Mapping[str, Any], bill: Mapping[str, Any], amount: float,
                        wanted: list[dict[str, Any]], status: str) -> dict[str, Any]:
        now = self.sandbox.now_iso()
        part: dict[str, Any] = {"id": self.store.ids.new("blp"), "billId": bill["id"], "amount": amount}
        if wanted:
            # billPayments[].vendorCredits (BILL Postman); the part's amount is the money paid, without the credits.
            part["vendorCredits"] = [{"id": item["id"], "amount": item["amount"]} for item in wanted]
        payment: dict[str, Any] = {
            "id": self.store.ids.new("stp"), "vendorId": bill["vendorId"], "vendorName": bill["vendorName"],
            "billId": bill["id"], "billPayments": [part], "amount": amount,
            "description": _text(body.get("description", f"Payment for {bill['invoice']['invoiceNumber']}"),
                                 "description"),
            "processDate": _date(body.get("processDate", self.sandbox.clock.now_datetime().date().isoformat()),
                                 "processDate"),
            "fundingAccount": dict(FUNDING_ACCOUNT),
            "processingOptions": {"requestPayFaster": False, "createBill": False},
            "disbursementType": _text(body.get("disbursementType", "ACH"), "disbursementType"),
            "status": status, "singleStatus": SINGLE_STATUS[status],
            "transactionNumber": f"TX{secrets.randbelow(10**10):010d}",
            "confirmationNumber": f"P{secrets.randbelow(10**10):010d}", "onlinePayment": True,
            "createdBy": USER_ID, "createdTime": now, "updatedTime": now,
        }
        if "exchangeRate" in bill:
            rate = body.get("exchangeRate", bill["exchangeRate"])
            if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
                raise ControlError("exchangeRate must be a positive number: USD per unit of the bill's currency")
            # A payment of a bill in another currency pays that currency; BILL funds it in USD at its own rate.
            payment["exchangeRate"] = float(rate)
            payment["fundingAmount"] = cents(amount * rate)
        elif "exchangeRate" in body:
            raise ControlError(f"bill {bill['id']} is in {MAIN_CURRENCY}; its payment takes no exchangeRate")
        return payment

    def set_payment_status(self, payment_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        _known(body, ("status", "singleStatus", "processDate"), "a payment change")
        payment = copy.deepcopy(self._require(self.store.payments, payment_id))
        status = _choice(body.get("status", payment["status"]), PAYMENT_STATUSES, "status")
        payment["status"] = status
        payment["singleStatus"] = _text(body.get("singleStatus", SINGLE_STATUS[status]), "singleStatus")
        if "processDate" in body:
            payment["processDate"] = _date(body["processDate"], "processDate")
        payment["updatedTime"] = self.sandbox.now_iso()
        return self._save_payment(payment, self._require(self.store.bills, payment["billId"]))

    def void_payment(self, payment_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Voids a payment (POST /v3/payments/{id}/void in BILL): the bill gets back what it paid, the credits it
        applied are released, and voidInfo records the request."""
        _known(body, ("reason", "type"), "a void")
        payment = copy.deepcopy(self._require(self.store.payments, payment_id))
        if payment["status"] not in CLEARED | PENDING:
            raise ControlError(f"payment {payment_id} is {payment['status'].lower()}; only a paid or scheduled "
                               "payment can be voided")
        now = self.sandbox.now_iso()
        payment["voidInfo"] = [*payment.get("voidInfo", []), {
            "id": self.store.ids.new("vdi"), "requestedBy": USER_ID,
            "type": _choice(body.get("type", "VOID_ONLY"), VOID_TYPES, "type"),
            # UNCONFIRMED which voidInfo status a finished void has; TO_BE_PROCESSED is one BILL's samples show.
            "status": "TO_BE_PROCESSED", "reason": _text(body.get("reason", "Voided"), "reason"),
            "createdTime": now, "updatedTime": now}]
        payment.update(status="VOID", singleStatus=SINGLE_STATUS["VOID"], updatedTime=now)
        return self._save_payment(payment, self._require(self.store.bills, payment["billId"]))

    def _save_payment(self, payment: dict[str, Any], bill: dict[str, Any]) -> dict[str, Any]:
        self.store.payments.save(payment)
        if payment["status"] not in CLEARED | PENDING:
            self.credits.release(payment["id"], payment["updatedTime"])
        self._publish("payment.updated", payment_payload(payment))
        if payment["status"] == "FAILED":
            # UNCONFIRMED in detail: payment.failed carries the payment plus an errors[] array ([3P]).
            self._publish("payment.failed", {**payment_payload(payment), "errors": [
                {"code": "PAYMENT_FAILED", "message": "The payment could not be completed."}]})
        self._resettle(bill)
        return payment

    def _resettle(self, bill: dict[str, Any]) -> None:
        """Paying a bill changes the bill too, so BILL's bill.updated follows when its status or amounts moved
        (sandbox choice)."""
        changed = copy.deepcopy(bill)
        settle(changed, self.store.payments_of(bill["id"]), self.credits.direct_credits(bill["id"]))
        watched = ("paymentStatus", "paidAmount", "dueAmount", "scheduledAmount", "creditAmount")
        if any(changed.get(name) != bill.get(name) for name in watched):
            changed["updatedTime"] = self.sandbox.now_iso()
            self._save_bill(changed, "bill.updated")

    # ----- vendor credits ---------------------------------------------------------------------------------------
    def create_vendor_credit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A vendor credit (POST /v3/vendor-credits in BILL); BILL has no webhook event for vendor credits."""
        _known(body, CREDIT_FIELDS, "a vendor credit")
        vendor = self._vendor(body.get("vendorId"))
        reference = body.get("referenceNumber")
        if not isinstance(reference, str) or not 1 <= len(reference.strip()) <= 100:
            raise ControlError("referenceNumber is required: 1 to 100 characters")
        credit_date = _date(body.get("creditDate"), "creditDate")
        if "applyToChartOfAccountId" in body:
            self._pay_from(body["applyToChartOfAccountId"])
        lines = self._credit_lines(body.get("vendorCreditLineItems"))
        fields = {**body, "referenceNumber": reference, "creditDate": credit_date}
        record = credit_record(self.store.ids.new("vcr"), vendor, fields, lines, self.sandbox.now_iso())
        # An international vendor's credit is in its currency and needs a rate, as its bills do (BILL v2).
        self._set_exchange_rate(record, vendor, body.get("exchangeRate"))
        return self.store.vendor_credits.save(record)

    def _credit_lines(self, items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list) or not items:
            raise ControlError("vendorCreditLineItems must be a non-empty list of lines with an amount")
        lines = []
        for n, item in enumerate(items):
            item = _object(item, f"vendorCreditLineItems[{n}]")
            _known(item, CREDIT_LINE_FIELDS, f"vendorCreditLineItems[{n}]")
            line: dict[str, Any] = {"id": line_id(), "amount": _amount(item.get("amount"),
                                                                       f"vendorCreditLineItems[{n}].amount")}
            if "description" in item:
                line["description"] = _text(item["description"], f"vendorCreditLineItems[{n}].description")
            if "classifications" in item:
                line["classifications"] = self._classifications(item["classifications"],
                                                                f"vendorCreditLineItems[{n}].classifications")
            lines.append(line)
        return lines

    def apply_vendor_credit(self, credit_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Applies a credit to a bill without a payment (bills take vendorCredits since BILL's May 2025 change)."""
        _known(body, ("billId", "amount"), "applying a vendor credit")
        bill = self._require(self.store.bills, body.get("billId"))
        amount = body.get("amount", self.credits.available(self.credits.require(credit_id)))
        self.credits.check(bill, [{"id": credit_id, "amount": amount}])
        open_amount = cents(bill["dueAmount"] - bill["scheduledAmount"])
        if cents(amount) > open_amount:
            raise ControlError(f"bill {bill['id']} has {open_amount:.2f} left to pay, not {amount:.2f}")
        credit = self.credits.apply(credit_id, bill["id"], None, amount, self.sandbox.now_iso())
        self._resettle(bill)
        return credit

    # ----- shared -----------------------------------------------------------------------------------
    def _require(self, table: Table, record_id: Any) -> dict[str, Any]:
        record = table.get(record_id) if isinstance(record_id, str) else None
        if record is None:
            raise ControlError(f"{table.label.lower()} {record_id!r} does not exist")
        return record

    def _publish(self, event_type: str, entity: dict[str, Any]) -> None:
        self.sandbox.hooks.publish(self.sandbox.bill.organization_id, event_type, entity)


def bill_payload(record: dict[str, Any]) -> dict[str, Any]:
    """A bill as its webhooks carry it: every REST field, but invoiceDate as a date-time (bill.md §4)."""
    payload = copy.deepcopy(record)
    invoice_date = payload.get("invoice", {}).get("invoiceDate")
    if invoice_date:
        payload["invoice"]["invoiceDate"] = f"{invoice_date}T00:00:00.000Z"
    return payload


def payment_payload(payment: dict[str, Any]) -> dict[str, Any]:
    """A payment as payment.updated carries it, which differs from the REST shape (bill.md §6.3)."""
    bill_ids = [part["billId"] for part in payment.get("billPayments", [])] or [payment["billId"]]
    funding = payment["fundingAccount"]
    return {
        "id": payment["id"],
        "billIds": bill_ids,
        "transactionNumber": payment["transactionNumber"],
        # Sandbox choice: the REST status; BILL's payload status may also take a few webhook-only values.
        "status": payment["status"],
        "createdBy": payment["createdBy"],
        "createdTime": payment["createdTime"],
        "updatedTime": payment["updatedTime"],
        "processDate": payment["processDate"],
        # For a bank account the funding object has id, type, name and accountNumber (BILL's payload docs).
        "funding": {"id": funding["id"], "type": funding["type"], "name": "Operating Checking",
                    "accountNumber": "xxxxxx0001"},
        "disbursement": {"type": payment["disbursementType"]},
        "vendor": {"id": payment["vendorId"], "name": payment["vendorName"]},
        "billingType": "BDC",
    }


def _set_total(record: dict[str, Any], amount: float) -> None:
    """Changes the bill total by changing its last line, as a user correcting an amount would."""
    lines = record["billLineItems"]
    rest = round(sum(line["amount"] for line in lines[:-1]), 2)
    if amount - rest <= 0:
        raise ControlError(f"amount {amount} is not more than the other lines ({rest}); send billLineItems")
    lines[-1]["amount"] = lines[-1]["price"] = round(amount - rest, 2)
    lines[-1]["quantity"] = 1


def _vendor_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    for name in ("address", "paymentInformation", "additionalInfo"):
        if name in body:
            _object(body[name], name)
    for name in ("name", "shortName", "accountNumber", "accountType", "email", "phone", "billCurrency"):
        if name in body:
            _text(body[name], name)
    return dict(body)


def _known(body: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ControlError(f"unknown field(s) for {what}: {', '.join(unknown)}; known: {', '.join(allowed)}")


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ControlError(f"{name} must be a JSON object")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ControlError(f"{name} must be a string")
    return value


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ControlError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _date(value: Any, name: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError) as exc:
        raise ControlError(f"{name} must be a date like 2026-12-31, not {value!r}") from exc


def _amount(value: Any, name: str, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (value == 0 and not zero):
        raise ControlError(f"{name} must be a positive number" + (" or 0" if zero else ""))
    return round(float(value), 2)


def _total(lines: list[dict[str, Any]]) -> float:
    # UNCONFIRMED whether BILL accepts a bill of 0; refused, like negative lines (a vendor credit is the way).
    total = cents(sum(line["amount"] for line in lines))
    if total <= 0:
        raise ControlError("the bill's lines must add up to more than 0")
    return total


def _payment_amount(value: Any, with_credits: bool) -> float:
    # UNCONFIRMED: a payment of 0 is allowed only when vendor credits pay the bill (sandbox choice).
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (value == 0 and not with_credits):
        raise ControlError("amount must be a positive number")
    return cents(value)


def _credit_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ControlError("vendorCredits must be a list of {id, amount}")
    for item in value:
        _known(item, ("id", "amount"), "a vendor credit")
    return [{"id": item.get("id"), "amount": item.get("amount")} for item in value]
