"""BillApi: the calls the pipeline makes to one BILL organization, with session reuse and cursor paging."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from pydantic import BaseModel

from exact_bill_pipeline.clients.bill.records import (
    Bill,
    ChartAccount,
    Department,
    Payment,
    Subscription,
    Vendor,
    VendorCredit,
)
from exact_bill_pipeline.clients.bill.session import SYSTEM, BillSessions, error_codes
from exact_bill_pipeline.transport.errors import ApiError, AuthenticationFailed, NotFound, ValidationFailed
from exact_bill_pipeline.transport.http import Assessment, HttpTransport, retry_after_seconds

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 100
BULK_LIMIT = 50
# BILL refuses a 4th concurrent request per developer key and organization (BDC_1322).
MAX_CONCURRENT = 3
_semaphores: dict[tuple[str, str], threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def _semaphore(key: tuple[str, str]) -> threading.BoundedSemaphore:
    with _semaphores_lock:
        return _semaphores.setdefault(key, threading.BoundedSemaphore(MAX_CONCURRENT))


class SessionInvalid(AuthenticationFailed):
    """BILL no longer knows the session (BDC_1109): log in again."""


def bill_assessment(response: requests.Response) -> Assessment | None:
    """How BILL's answers are read; BILL's status codes for limits are undocumented, so the code decides."""
    if response.ok:
        return None
    status = response.status_code
    codes = error_codes(response)
    code_set = {code for code, _ in codes}
    told = "; ".join(f"{code}: {message}" for code, message in codes) or response.text[:200] or f"HTTP {status}"
    endpoint = f"{response.request.method} {response.request.path_url.split('?')[0]}"
    what = f"{SYSTEM} {endpoint} answered {status}: {told}"
    if "BDC_1109" in code_set or (status == 401 and not code_set - {"BDC_1109"}):
        return Assessment(SessionInvalid(what, system=SYSTEM, status=status))
    if "BDC_1322" in code_set:
        return Assessment(ApiError(what, system=SYSTEM, status=status), retry=True, not_processed=True)
    if "BDC_1144" in code_set:
        return Assessment(ApiError(
            f"{what}. BILL's hourly request limit is reached; it resets at the top of the hour.",
            system=SYSTEM, status=status))
    if status == 404:
        return Assessment(NotFound(what, system=SYSTEM, status=status))
    if status in {408, 429, 500, 502, 503, 504}:
        return Assessment(ApiError(what, system=SYSTEM, status=status), retry=True, not_processed=status == 429,
                          wait=retry_after_seconds(response))
    if status in {400, 409, 422}:
        return Assessment(ValidationFailed(what, system=SYSTEM, status=status, endpoint=endpoint,
                                           lines=[message for _, message in codes] or [told]))
    return Assessment(ApiError(what, system=SYSTEM, status=status))


class BillApi:
    """One BILL organization."""

    def __init__(self, *, api_url: str, events_url: str, sessions: BillSessions, transport: HttpTransport,
                 max_pages: int = 100_000) -> None:
        self.api_url = api_url.rstrip("/")
        self.events_url = events_url.rstrip("/")
        self.sessions = sessions
        self.transport = transport
        self.max_pages = max_pages
        login = sessions.login_settings
        self._semaphore = _semaphore((login.dev_key, login.organization_id))
        self.calls = 0

    # ----- plumbing -----------------------------------------------------------------------------
    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None, body: Any = None,
                headers: dict[str, str] | None = None, idempotent: bool | None = None) -> requests.Response:
        """One call on the shared session; a session BILL has dropped is replaced once, transparently."""
        session_id = self.sessions.session_id()
        for attempt in (1, 2):
            all_headers = {"devKey": self.sessions.login_settings.dev_key, "sessionId": session_id,
                           "Accept": "application/json", **(headers or {})}
            try:
                with self._semaphore:
                    self.calls += 1
                    response = self.transport.request(method, url, assess=bill_assessment, headers=all_headers,
                                                      params=params, json=body, idempotent=idempotent)
            except SessionInvalid:
                if attempt == 2:
                    raise
                session_id = self.sessions.after_invalid(session_id)
                continue
            self.sessions.touch(session_id)
            return response
        raise AssertionError("unreachable")

    def items(self, path: str, *, filters: list[str] | None = None, sort: str | None = None,
              base: str | None = None) -> Iterator[dict[str, Any]]:
        """Every record of a list, following ``nextPage`` with a page cap and a repeated-token guard."""
        url = f"{base or self.api_url}/v3/{path}"
        params: dict[str, Any] = {"max": PAGE_SIZE}
        if filters:
            params["filters"] = ",".join(filters)
        if sort:
            params["sort"] = sort
        seen: set[str] = set()
        for page_number in range(1, self.max_pages + 1):
            body = self.request("GET", url, params=params).json()
            yield from body.get("results", [])
            token = body.get("nextPage")
            if not token:
                return
            if token in seen:
                raise ApiError(f"{SYSTEM} {path}: page {page_number} links back to a page already read; stopping",
                               system=SYSTEM)
            seen.add(token)
            params["page"] = token
        raise ApiError(f"{SYSTEM} {path}: stopped after {self.max_pages} pages (the page cap)", system=SYSTEM)

    def _models(self, model: type[M], path: str, **kwargs: Any) -> list[M]:
        return [model.model_validate(item) for item in self.items(path, **kwargs)]

    # ----- reads --------------------------------------------------------------------------------
    def bills(self, *, updated_since: datetime | None = None, created_from: datetime | None = None,
              created_before: datetime | None = None) -> list[Bill]:
        return list(self.iter_bills(updated_since=updated_since, created_from=created_from,
                                    created_before=created_before))

    def iter_bills(self, *, updated_since: datetime | None = None, created_from: datetime | None = None,
                   created_before: datetime | None = None) -> Iterator[Bill]:
        """Bills page by page, so that a long range never sits in memory at once."""
        filters = _time_filters(updated_since, created_from, created_before)
        for item in self.items("bills", filters=filters, sort="createdTime:asc"):
            yield Bill.from_snapshot(item)

    def bill(self, bill_id: str) -> Bill:
        item = self.request("GET", f"{self.api_url}/v3/bills/{bill_id}").json()
        return Bill.from_snapshot(item)

    def vendors(self, *, updated_since: datetime | None = None) -> list[Vendor]:
        return self._models(Vendor, "vendors", filters=_time_filters(updated_since, None, None))

    def vendor(self, vendor_id: str) -> Vendor:
        return Vendor.model_validate(self.request("GET", f"{self.api_url}/v3/vendors/{vendor_id}").json())

    def payments(self, *, updated_since: datetime | None = None, created_from: datetime | None = None,
                 created_before: datetime | None = None) -> list[Payment]:
        return list(self.iter_payments(updated_since=updated_since, created_from=created_from,
                                       created_before=created_before))

    def iter_payments(self, *, updated_since: datetime | None = None, created_from: datetime | None = None,
                      created_before: datetime | None = None) -> Iterator[Payment]:
        filters = _time_filters(updated_since, created_from, created_before)
        for item in self.items("payments", filters=filters, sort="createdTime:asc"):
            yield Payment.from_snapshot(item)

    def payment(self, payment_id: str) -> Payment:
        return Payment.from_snapshot(self.request("GET", f"{self.api_url}/v3/payments/{payment_id}").json())

    def iter_vendor_credits(self, *, updated_since: datetime | None = None, created_from: datetime | None = None,
                            created_before: datetime | None = None) -> Iterator[VendorCredit]:
        """Vendor credits page by page (docs/ap-documents.md, BILL: /v3/vendor-credits), by created time."""
        filters = _time_filters(updated_since, created_from, created_before)
        for item in self.items("vendor-credits", filters=filters, sort="createdTime:asc"):
            yield VendorCredit.from_snapshot(item)

    def vendor_credit(self, credit_id: str) -> VendorCredit:
        return VendorCredit.from_snapshot(self.request("GET", f"{self.api_url}/v3/vendor-credits/{credit_id}").json())

    def chart_of_accounts(self) -> list[ChartAccount]:
        return self._models(ChartAccount, "classifications/chart-of-accounts")

    def departments(self) -> list[Department]:
        return self._models(Department, "classifications/departments")

    # ----- writes -------------------------------------------------------------------------------
    def create_chart_accounts(self, accounts: list[dict[str, Any]]) -> list[ChartAccount]:
        """Creates accounts ({name, description?, account: {type, number}}) in bulk requests of up to 50."""
        return [ChartAccount.model_validate(item)
                for item in self._bulk_create("classifications/chart-of-accounts", accounts)]

    def update_chart_account(self, account_id: str, changes: dict[str, Any]) -> ChartAccount:
        url = f"{self.api_url}/v3/classifications/chart-of-accounts/{account_id}"
        return ChartAccount.model_validate(self.request("PATCH", url, body=changes, idempotent=True).json())

    def archive_chart_account(self, account_id: str) -> ChartAccount:
        url = f"{self.api_url}/v3/classifications/chart-of-accounts/{account_id}/archive"
        return ChartAccount.model_validate(self.request("POST", url, idempotent=True).json())

    def create_departments(self, departments: list[dict[str, Any]]) -> list[Department]:
        return [Department.model_validate(item)
                for item in self._bulk_create("classifications/departments", departments)]

    def update_department(self, department_id: str, changes: dict[str, Any]) -> Department:
        url = f"{self.api_url}/v3/classifications/departments/{department_id}"
        return Department.model_validate(self.request("PATCH", url, body=changes, idempotent=True).json())

    def archive_department(self, department_id: str) -> Department:
        url = f"{self.api_url}/v3/classifications/departments/{department_id}/archive"
        return Department.model_validate(self.request("POST", url, idempotent=True).json())

    def _bulk_create(self, path: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        created: list[dict[str, Any]] = []
        for start in range(0, len(items), BULK_LIMIT):
            chunk = items[start:start + BULK_LIMIT]
            body = self.request("POST", f"{self.api_url}/v3/{path}/bulk", body=chunk).json()
            # BILL wraps bulk answers in one member named after the object ({"chartOfAccounts": [...]}).
            if isinstance(body, dict):
                body = next((v for v in body.values() if isinstance(v, list)), [])
            created.extend(body)
        return created

    # ----- webhooks (connect-events) --------------------------------------------------------------
    def subscriptions(self) -> list[Subscription]:
        return self._models(Subscription, "subscriptions", base=self.events_url)

    def create_subscription(self, *, name: str, url: str, events: list[str]) -> Subscription:
        """Creates a subscription; the answer carries the securityKey, which BILL shows only this once."""
        body = {"name": name, "status": {"enabled": True}, "notificationUrl": url,
                "events": [{"type": event, "version": "1"} for event in events]}
        response = self.request("POST", f"{self.events_url}/v3/subscriptions", body=body, idempotent=True,
                                headers={"X-Idempotent-Key": str(uuid.uuid4())})
        return Subscription.model_validate(response.json())

    def rotate_security_key(self, subscription_id: str) -> str:
        response = self.request("POST", f"{self.events_url}/v3/subscriptions/{subscription_id}/security_key",
                                idempotent=True, headers={"X-Idempotent-Key": str(uuid.uuid4())})
        return str(response.json()["securityKey"])

    def delete_subscription(self, subscription_id: str) -> None:
        self.request("DELETE", f"{self.events_url}/v3/subscriptions/{subscription_id}")


def _time_filters(updated_since: datetime | None, created_from: datetime | None,
                  created_before: datetime | None) -> list[str]:
    filters = []
    if updated_since is not None:
        filters.append(f'updatedTime:gte:"{_bill_time(updated_since)}"')
    if created_from is not None:
        filters.append(f'createdTime:gte:"{_bill_time(created_from)}"')
    if created_before is not None:
        filters.append(f'createdTime:lt:"{_bill_time(created_before)}"')
    return filters


def _bill_time(moment: datetime) -> str:
    """BILL's filter format yyyy-MM-dd'T'HH:mm:ss.SSSX, in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
