"""Bill, vendor and payment changes as users make them in BILL's web app, each with the webhook BILL sends."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from exact_bill_pipeline.sandbox.bill.fields import ACCOUNTING_CLASSES, COA, DEPARTMENTS, LOCATIONS
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
# What a payment in each status makes of its bill's paymentStatus; any other status leaves it UNPAID.
BILL_STATUS_FOR_PAYMENT = {"PAID": "PAID", "SCHEDULED": "SCHEDULED", "APPROVING": "SCHEDULED", "PENDING": "SCHEDULED"}
BILL_FIELDS = ("vendorId", "invoice", "dueDate", "billLineItems", "description", "approvalStatus",
               "payFromChartOfAccountId", "classifications", "purchaseOrderNumber")
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
        amount = round(sum(line["amount"] for line in lines), 2)
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
        return self._save_bill(record, "bill.created")

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
        record["amount"] = round(sum(line["amount"] for line in record["billLineItems"]), 2)
        if "paymentStatus" in body:
            record["paymentStatus"] = _choice(body["paymentStatus"], BILL_PAYMENT_STATUSES, "paymentStatus")
        _settle(record)
        record["updatedTime"] = self.sandbox.now_iso()
        return self._save_bill(record, "bill.updated")

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
            amount = _amount(item.get("amount"), f"billLineItems[{n}].amount")
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

    # ----- payments ---------------------------------------------------------------------------------
    def create_payment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Pays a bill in full; BILL has no payment.created, so this sends payment.updated (and bill.updated)."""
        _known(body, ("billId", "status", "processDate", "disbursementType", "description"), "a payment")
        bill = self._require(self.store.bills, body.get("billId"))
        if bill["paymentStatus"] in ("PAID", "SCHEDULED"):
            raise ControlError(f"bill {bill['id']} is already {bill['paymentStatus'].lower()}")
        status = _choice(body.get("status", "PAID"), PAYMENT_STATUSES, "status")
        now = self.sandbox.now_iso()
        payment_id = self.store.ids.new("stp")
        payment = {
            "id": payment_id,
            "vendorId": bill["vendorId"],
            "vendorName": bill["vendorName"],
            "billId": bill["id"],
            "billPayments": [{"id": self.store.ids.new("blp"), "billId": bill["id"], "amount": bill["dueAmount"]}],
            "amount": bill["dueAmount"],
            "description": _text(body.get("description", f"Payment for {bill['invoice']['invoiceNumber']}"),
                                 "description"),
            "processDate": _date(body.get("processDate", self.sandbox.clock.now_datetime().date().isoformat()),
                                 "processDate"),
            "fundingAccount": dict(FUNDING_ACCOUNT),
            "processingOptions": {"requestPayFaster": False, "createBill": False},
            "disbursementType": _text(body.get("disbursementType", "ACH"), "disbursementType"),
            "status": status,
            "singleStatus": SINGLE_STATUS[status],
            "transactionNumber": f"TX{secrets.randbelow(10**10):010d}",
            "confirmationNumber": f"P{secrets.randbelow(10**10):010d}",
            "onlinePayment": True,
            "createdBy": USER_ID,
            "createdTime": now,
            "updatedTime": now,
        }
        return self._save_payment(payment, bill)

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

    def _save_payment(self, payment: dict[str, Any], bill: dict[str, Any]) -> dict[str, Any]:
        self.store.payments.save(payment)
        self._publish("payment.updated", payment_payload(payment))
        if payment["status"] == "FAILED":
            # UNCONFIRMED in detail: payment.failed carries the payment plus an errors[] array ([3P]).
            self._publish("payment.failed", {**payment_payload(payment), "errors": [
                {"code": "PAYMENT_FAILED", "message": "The payment could not be completed."}]})
        bill_status = BILL_STATUS_FOR_PAYMENT.get(payment["status"], "UNPAID")
        if bill["paymentStatus"] != bill_status:
            # Sandbox choice: paying a bill changes the bill too, so BILL's bill.updated follows.
            changed = {**copy.deepcopy(bill), "paymentStatus": bill_status, "updatedTime": self.sandbox.now_iso()}
            _settle(changed)
            self._save_bill(changed, "bill.updated")
        return payment

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


def _settle(record: dict[str, Any]) -> None:
    """Keeps paid, due and scheduled amounts in step with the bill's paymentStatus and amount."""
    amount, status = record["amount"], record["paymentStatus"]
    record["paidAmount"] = amount if status == "PAID" else 0.0
    record["scheduledAmount"] = amount if status == "SCHEDULED" else 0.0
    record["dueAmount"] = 0.0 if status == "PAID" else amount


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


def _amount(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ControlError(f"{name} must be a positive number")
    return round(float(value), 2)
