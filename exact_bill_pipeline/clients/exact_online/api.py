"""ExactApi: the calls the pipeline makes to one Exact Online division, with budget, paging and typed records."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

import requests

from exact_bill_pipeline.clients.exact_online import odata
from exact_bill_pipeline.clients.exact_online.auth import SYSTEM, ExactAuth
from exact_bill_pipeline.clients.exact_online.records import (
    Account,
    CostCenter,
    CostUnit,
    Deleted,
    ExactRecord,
    FinancialPeriod,
    GLAccount,
    Journal,
    JournalEntry,
    Me,
    PurchaseEntry,
    PurchaseOrder,
    TransactionLine,
    VATCode,
    WebhookSubscription,
)
from exact_bill_pipeline.transport.budget import CallBudget, Purpose
from exact_bill_pipeline.transport.errors import (
    AccessForbidden,
    ApiError,
    AuthenticationFailed,
    NotFound,
    Refused,
    ValidationFailed,
)
from exact_bill_pipeline.transport.http import Assessment, HttpTransport, retry_after_seconds

R = TypeVar("R", bound=ExactRecord)
GENERIC_PROBLEM = "A problem has occurred"
MAX_RATE_LIMIT_WAIT = 61.0
QUERY_SAFE = "$,'()=*"
# The Reason header values of a 403 that refuse the user or app in the whole division, not one record
# (api-reference exact-online.md, error table): no posting can succeed until a person fixes them.
DIVISION_WIDE_REFUSALS = frozenset({"BlockedUser", "InactiveUser", "BlockedCustomer", "LicenseExpired",
                                    "DivisionBlocked", "NoDivisionAccess"})


def exact_assessment(clock: Callable[[], float]) -> Callable[[requests.Response], Assessment | None]:
    """How Exact's answers are read: which are retried, which are validation errors, which are fatal."""

    def assess(response: requests.Response) -> Assessment | None:
        if response.ok:
            return None
        status = response.status_code
        endpoint = f"{response.request.method} {response.request.path_url.split('?')[0]}"
        message = _odata_message(response)
        if status == 429:
            reset = response.headers.get("X-RateLimit-Minutely-Reset")
            wait = retry_after_seconds(response)
            if wait is None and reset and reset.isdigit():
                wait = min(max(int(reset) / 1000 - clock(), 0.0), MAX_RATE_LIMIT_WAIT)
            return Assessment(ApiError(f"{SYSTEM} rate limit reached on {endpoint}", system=SYSTEM, status=status),
                              retry=True, not_processed=True, wait=wait)
        if status in {408, 502, 503, 504}:
            return Assessment(ApiError(f"{SYSTEM} answered {status} on {endpoint}", system=SYSTEM, status=status),
                              retry=True, wait=retry_after_seconds(response))
        if status == 401:
            return Assessment(AuthenticationFailed(f"{SYSTEM} refused the access token on {endpoint}",
                                                   system=SYSTEM, status=status))
        reason = response.headers.get("Reason")
        detail = "; ".join(part for part in (message, f"Reason: {reason}" if reason else "") if part)
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        if status == 500 and message and not message.startswith(GENERIC_PROBLEM):
            return Assessment(ValidationFailed(f"{SYSTEM} rejected {endpoint}: {'; '.join(lines)}", system=SYSTEM,
                                               lines=lines, status=status, endpoint=endpoint))
        write = response.request.method == "POST"
        if status == 403 and (not write or reason in DIVISION_WIDE_REFUSALS or "Scope Violated" in message):
            return Assessment(AccessForbidden(
                f"{SYSTEM} refused access on {endpoint} ({detail or 'Forbidden'}): the Exact user or app may not "
                f"work in this division (blocked, licence expired, no rights or a missing scope). Fix that in "
                f"Exact or in the app registration, then run again.", system=SYSTEM, status=status,
                endpoint=endpoint))
        if write and status in {400, 403, 404, 500}:
            # A refusal of this one record: a malformed or forbidden field, a reference Exact does not know, or
            # Exact's generic 500. Whether a generic 500 wrote nothing is not certain, so the ledger looks the
            # record up before it is ever sent again.
            return Assessment(Refused(f"{SYSTEM} refused {endpoint}: HTTP {status}: {detail or 'no details'}",
                                      system=SYSTEM, lines=lines or [f"HTTP {status}"], status=status,
                                      endpoint=endpoint))
        if status == 404:
            return Assessment(NotFound(f"{SYSTEM} has no {endpoint}: {message}", system=SYSTEM, status=status))
        return Assessment(ApiError(f"{SYSTEM} answered {status} on {endpoint}: {detail or 'no details'}",
                                   system=SYSTEM, status=status, endpoint=endpoint))

    return assess


def _odata_message(response: requests.Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["message"]["value"])
    except (ValueError, KeyError, TypeError):
        return response.text[:300].strip()


class ExactApi:
    """One Exact Online division, pinned in configuration."""

    def __init__(
        self,
        *,
        base_url: str,
        division: int,
        auth: ExactAuth,
        transport: HttpTransport,
        budget: CallBudget | None,
        clock: Callable[[], float] = time.time,
        max_pages: int = 10_000,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.division = division
        self.auth = auth
        self.transport = transport
        self.budget = budget
        self.max_pages = max_pages
        self._assess = exact_assessment(clock)
        self.calls = 0  # calls this object made, for reporting

    # ----- plumbing -----------------------------------------------------------------------------
    def url(self, path: str, query: dict[str, str] | None = None) -> str:
        prefix = f"{self.base_url}/api/v1" if path.startswith("current/") else f"{self.base_url}/api/v1/{self.division}"
        return f"{prefix}/{path}?{urlencode(query, safe=QUERY_SAFE)}" if query else f"{prefix}/{path}"

    def request(self, method: str, url: str, *, body: dict[str, Any] | None = None, purpose: Purpose = "read",
                guard: Callable[[], None] | None = None) -> requests.Response:
        """One call with a valid token; a refused token is refreshed (or reported) and the call sent once more.

        ``guard`` runs before every attempt that leaves (a posting's claim is checked there).
        """
        token = self.auth.access_token()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if body is not None:
                headers["Prefer"] = "return=representation"
            try:
                return self.transport.request(
                    method, url, assess=self._assess, headers=headers,
                    json=body,
                    before_attempt=lambda: self._before_attempt(purpose, guard), after_response=self._observe,
                )
            except AuthenticationFailed:
                if attempt == 2:
                    raise
                token = self.auth.after_unauthorized(token)
        raise AssertionError("unreachable")

    def _before_attempt(self, purpose: Purpose, guard: Callable[[], None] | None) -> None:
        self.calls += 1
        if self.budget is not None:
            self.budget.spend(purpose)
        if guard is not None:
            # After the budget: spending may wait for the next minute, and the claim must hold when it leaves.
            guard()

    def _observe(self, response: requests.Response) -> None:
        self.auth.server_clock.observe(response)
        if self.budget is not None:
            self.budget.observe(response.headers)

    def get_json(self, url: str) -> dict[str, Any]:
        return self.request("GET", url).json()

    def rows(self, path: str, *, select: str, filter: str | None = None, orderby: str | None = None,
             top: int | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a collection, following ``__next`` with the page cap and repeat guard."""
        query = {"$select": select}
        if filter:
            query["$filter"] = filter
        if orderby:
            query["$orderby"] = orderby
        if top:
            query["$top"] = str(top)
        for page in odata.pages(self.get_json, self.url(path, query), max_pages=self.max_pages):
            yield from page

    def records(self, model: type[R], path: str, *, select: str, filter: str | None = None) -> list[R]:
        return [model.model_validate(row) for row in self.rows(path, select=select, filter=filter)]

    def post(self, path: str, body: dict[str, Any], *, purpose: Purpose = "posting",
             guard: Callable[[], None] | None = None) -> dict[str, Any]:
        """Creates a record; never resent blindly (UncertainOutcome tells the caller to look it up)."""
        rows, _ = odata.unwrap(self.request("POST", self.url(path), body=body, purpose=purpose, guard=guard).json())
        return rows[0]

    # ----- what the pipeline needs --------------------------------------------------------------
    def me(self) -> Me:
        rows, _ = odata.unwrap(self.get_json(self.url("current/Me")))
        return Me.model_validate(rows[0])

    def sync_gl_accounts(self, since: int = 1) -> list[GLAccount]:
        """GL accounts changed after row version ``since`` (1 = all), through the 1000-row sync endpoint."""
        return self.records(GLAccount, "sync/Financial/GLAccounts", select=_fields(GLAccount),
                            filter=f"Timestamp gt {odata.int64(max(since, 1))}")

    def vat_codes(self) -> list[VATCode]:
        return self.records(VATCode, "vat/VATCodes", select=_fields(VATCode))

    def cost_centers(self) -> list[CostCenter]:
        return self.records(CostCenter, "hrm/Costcenters", select=_fields(CostCenter))

    def cost_units(self) -> list[CostUnit]:
        return self.records(CostUnit, "hrm/Costunits", select=_fields(CostUnit))

    def journals(self) -> list[Journal]:
        return self.records(Journal, "financial/Journals", select=_fields(Journal))

    def financial_periods(self) -> list[FinancialPeriod]:
        return self.records(FinancialPeriod, "financial/FinancialPeriods", select=_fields(FinancialPeriod))

    def suppliers(self) -> list[Account]:
        return self.records(Account, "crm/Accounts", select=_fields(Account, skip={"Timestamp"}),
                            filter="IsSupplier eq true")

    def sync_accounts(self, since: int = 1) -> list[Account]:
        return self.records(Account, "sync/CRM/Accounts", select=_fields(Account),
                            filter=f"Timestamp gt {odata.int64(max(since, 1))}")

    def create_supplier(self, fields: dict[str, Any], *, guard: Callable[[], None] | None = None) -> Account:
        return Account.model_validate(self.post("crm/Accounts", {"IsSupplier": True, **fields}, guard=guard))

    def create_purchase_entry(self, entry: dict[str, Any], *,
                              guard: Callable[[], None] | None = None) -> PurchaseEntry:
        return PurchaseEntry.model_validate(self.post("purchaseentry/PurchaseEntries", entry, guard=guard))

    def find_purchase_entries(self, *, supplier: UUID | str, your_ref: str) -> list[PurchaseEntry]:
        return self.records(PurchaseEntry, "purchaseentry/PurchaseEntries", select=_fields(PurchaseEntry),
                            filter=f"Supplier eq {odata.guid(supplier)} and YourRef eq {odata.string(your_ref)}")

    def find_purchase_entries_by_description(self, text: str) -> list[PurchaseEntry]:
        return self.records(PurchaseEntry, "purchaseentry/PurchaseEntries", select=_fields(PurchaseEntry),
                            filter=f"substringof({odata.string(text)}, Description) eq true")

    def create_general_journal_entry(self, entry: dict[str, Any], *,
                                     guard: Callable[[], None] | None = None) -> JournalEntry:
        return JournalEntry.model_validate(self.post("generaljournalentry/GeneralJournalEntries", entry, guard=guard))

    def create_bank_entry(self, entry: dict[str, Any], *, guard: Callable[[], None] | None = None) -> JournalEntry:
        return JournalEntry.model_validate(self.post("financialtransaction/BankEntries", entry, guard=guard))

    def find_transaction_lines(self, *, journal: str, description: str) -> list[TransactionLine]:
        """Lines of any entry in ``journal`` whose description contains ``description`` (a BILL ID)."""
        lines_filter = (f"JournalCode eq {odata.string(journal)} and "
                        f"substringof({odata.string(description)}, Description) eq true")
        return self.records(TransactionLine, "financialtransaction/TransactionLines",
                            select=_fields(TransactionLine, skip={"Timestamp"}), filter=lines_filter)

    def sync_transaction_lines(self, since: int) -> list[TransactionLine]:
        return [line for page in self.sync_transaction_line_pages(since) for line in page]

    def sync_transaction_line_pages(self, since: int) -> Iterator[list[TransactionLine]]:
        """Lines changed after row version ``since``, one 1000-row page (one call) at a time, rising Timestamp.

        A caller that stores each page before asking for the next keeps what it read when a later call fails.
        """
        query = {"$select": _fields(TransactionLine), "$filter": f"Timestamp gt {odata.int64(max(since, 1))}"}
        for page in odata.pages(self.get_json, self.url("sync/Financial/TransactionLines", query),
                                max_pages=self.max_pages):
            yield [TransactionLine.model_validate(row) for row in page]

    def deleted(self, since: int) -> list[Deleted]:
        return self.records(Deleted, "sync/Deleted", select=_fields(Deleted),
                            filter=f"Timestamp gt {odata.int64(max(since, 1))}")

    def purchase_orders(self) -> list[PurchaseOrder]:
        return self.records(PurchaseOrder, "purchaseorder/PurchaseOrders", select=_fields(PurchaseOrder),
                            filter="OrderNumber gt 0")

    def webhook_subscriptions(self) -> list[WebhookSubscription]:
        return self.records(WebhookSubscription, "webhooks/WebhookSubscriptions",
                            select=_fields(WebhookSubscription))

    def create_webhook_subscription(self, *, topic: str, callback_url: str) -> WebhookSubscription:
        row = self.post("webhooks/WebhookSubscriptions", {"Topic": topic, "CallbackURL": callback_url}, purpose="read")
        return WebhookSubscription.model_validate(row)

    def delete_webhook_subscription(self, subscription_id: UUID | str) -> None:
        self.request("DELETE", self.url(f"webhooks/WebhookSubscriptions({odata.guid(subscription_id)})"))


def _fields(model: type[ExactRecord], skip: set[str] | None = None) -> str:
    """The $select list of a record type: exactly the fields it reads."""
    aliases = [field.alias or name for name, field in model.model_fields.items()]
    return ",".join(a for a in aliases if a not in (skip or set()))
