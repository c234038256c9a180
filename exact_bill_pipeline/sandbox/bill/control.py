"""The BILL sandbox's own control routes under /_sandbox: what users do in BILL's web app, and state for tests.

- POST  /_sandbox/bills                    create a bill (REST-shaped body: vendorId, invoice, dueDate,
                                           billLineItems[{amount, classifications}], approvalStatus=APPROVED)
- PATCH /_sandbox/bills/{id}               edit it (amount, billLineItems, vendorId, approvalStatus,
                                           paymentStatus, dueDate, ...); sends bill.updated
- POST  /_sandbox/bills/{id}/archive       and /restore: bill.archived / bill.restored
- POST  /_sandbox/vendors, PATCH /_sandbox/vendors/{id}, POST .../archive and .../restore: vendor.* events
- POST  /_sandbox/payments                 pay (part of) a bill {billId, amount? (default: what is left),
                                           vendorCredits? [{id, amount}], exchangeRate?, status=PAID,
                                           processDate?}: payment.updated, and bill.updated as the bill changes
- PATCH /_sandbox/payments/{id}            change its status {status}: payment.updated (+ payment.failed)
- POST  /_sandbox/payments/{id}/void       void it {reason?, type?}: the bill and the credits it applied get back
                                           what it paid; payment.updated and bill.updated
- POST  /_sandbox/vendor-credits           create a vendor credit {vendorId, referenceNumber, creditDate,
                                           vendorCreditLineItems[{amount, description?, classifications?}],
                                           exchangeRate (required for a vendor billing in another currency)}
- POST  /_sandbox/vendor-credits/{id}/apply  apply it to a bill without a payment {billId, amount?}
- GET   /_sandbox/webhooks                 subscriptions (with status.enabled), every delivery attempt,
                                           and how many deliveries are still queued
- GET   /_sandbox/sessions                 how many sessions are open
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from exact_bill_pipeline.sandbox.bill.errors import BillError
from exact_bill_pipeline.sandbox.bill.ledger import Ledger
from exact_bill_pipeline.sandbox.bill.state import BillSandbox
from exact_bill_pipeline.sandbox.control import ControlError, control_error, read_json_object
from exact_bill_pipeline.sandbox.middleware import CONTROL_PREFIX


def control_routes(sandbox: BillSandbox) -> list[Route]:
    ledger = Ledger(sandbox)

    def route(path: str, method: str, status: int, action: Callable[[Request, dict[str, Any]], Any]) -> Route:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                body = await read_json_object(request) if method != "GET" else {}
                return JSONResponse(action(request, body), status_code=status)
            except ControlError as exc:
                return control_error(str(exc))
            except BillError as exc:
                return control_error(str(exc), exc.status)

        return Route(f"{CONTROL_PREFIX}{path}", endpoint, methods=[method])

    def record_id(request: Request) -> str:
        return request.path_params["id"]

    return [
        route("/bills", "POST", 201, lambda r, body: ledger.create_bill(body)),
        route("/bills/{id}", "PATCH", 200, lambda r, body: ledger.edit_bill(record_id(r), body)),
        route("/bills/{id}/archive", "POST", 200, lambda r, body: ledger.set_bill_archived(record_id(r), True)),
        route("/bills/{id}/restore", "POST", 200, lambda r, body: ledger.set_bill_archived(record_id(r), False)),
        route("/vendors", "POST", 201, lambda r, body: ledger.create_vendor(body)),
        route("/vendors/{id}", "PATCH", 200, lambda r, body: ledger.edit_vendor(record_id(r), body)),
        route("/vendors/{id}/archive", "POST", 200, lambda r, body: ledger.set_vendor_archived(record_id(r), True)),
        route("/vendors/{id}/restore", "POST", 200, lambda r, body: ledger.set_vendor_archived(record_id(r), False)),
        route("/payments", "POST", 201, lambda r, body: ledger.create_payment(body)),
        route("/payments/{id}", "PATCH", 200, lambda r, body: ledger.set_payment_status(record_id(r), body)),
        route("/payments/{id}/void", "POST", 200, lambda r, body: ledger.void_payment(record_id(r), body)),
        route("/vendor-credits", "POST", 201, lambda r, body: ledger.create_vendor_credit(body)),
        route("/vendor-credits/{id}/apply", "POST", 200,
              lambda r, body: ledger.apply_vendor_credit(record_id(r), body)),
        route("/webhooks", "GET", 200, lambda r, body: sandbox.hooks.control_state()),
        route("/sessions", "GET", 200, lambda r, body: {"open": sandbox.sessions.count()}),
    ]
