"""Settings of the two sandboxes: credentials they accept, limits they enforce and the firm they seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime


def _today() -> date:
    return datetime.now(tz=UTC).date()


@dataclass(frozen=True)
class ExactSandboxSettings:
    """What the Exact Online sandbox accepts and enforces; defaults follow api-reference/exact-online.md."""

    # Real client IDs are GUIDs (WebhookSubscriptions.ClientID is typed Guid), so the sandbox's is one too.
    client_id: str = "5a0f3e2c-8d4b-4c6e-9a1f-2b7d6c3e8f10"
    client_secret: str = "sandbox-exact-client-secret"  # noqa: S105 - a published sandbox credential
    redirect_uri: str = "http://127.0.0.1:8765/callback"
    webhook_secret: str = "sandbox-exact-webhook-secret"  # noqa: S105 - a published sandbox credential
    division: int = 123456
    # Rate limits per app per division (api-reference §3); settable because real apps differ.
    minutely_limit: int = 60
    daily_limit: int = 5000
    # More than this many error responses on one endpoint in an hour blocks the app (0 turns it off).
    error_block_threshold: int = 10
    error_block_seconds: int = 3600
    token_calls_per_day: int = 200
    access_token_seconds: int = 600
    too_early_seconds: int = 570
    refresh_token_idle_days: int = 30
    # The code lifetime is "about 3 minutes" by a third party (UNCONFIRMED); shorter is stricter.
    authorization_code_seconds: int = 180
    # Exact delivers "within a few minutes"; the sandbox delivers after this many seconds.
    webhook_delay_seconds: float = 0.0
    webhook_probe_timeout_seconds: float = 10.0
    webhook_delivery_timeout_seconds: float = 10.0
    # UNCONFIRMED retry policy: by default one attempt and no retries (stricter); give delays to retry failures.
    webhook_retry_delays: tuple[float, ...] = ()
    # Only "Update" has been observed; "Create" and "Delete" are UNCONFIRMED. Leave one out to stop sending it.
    webhook_actions: tuple[str, ...] = ("Create", "Update", "Delete")
    # Customers (not suppliers) added to crm/Accounts, so that bulk reads can span several 1000-row pages.
    extra_relations: int = 0
    # UNCONFIRMED: Exact runs on a case-insensitive SQL Server collation (substringof is documented
    # case-insensitive); string comparisons, startswith/endswith and $orderby ignore case unless turned off.
    filter_ignores_case: bool = True
    # UNCONFIRMED: whether Exact keeps a client-supplied EntryID on POST; refused by default (stricter).
    accept_client_entry_id: bool = False
    # UNCONFIRMED: whether Exact refuses a second purchase entry with the same Supplier and YourRef;
    # off by default, so clients must look up Supplier + YourRef themselves before posting again.
    unique_your_ref: bool = False
    # sync/Deleted keeps its log for 2 months (api-reference §4.5).
    deleted_log_days: int = 61
    # The division's base currency (system/Divisions.Currency); the demo keeps BILL's main currency, USD.
    currency: str = "USD"
    # The G/L account (code) Exact's financial settings name for realized exchange rate differences; without it a
    # difference stays open on the invoice (docs/ap-documents.md, Currency).
    exchange_difference_account: str = "4790"


@dataclass(frozen=True)
class BillSandboxSettings:
    """What the BILL sandbox accepts and enforces; defaults follow api-reference/bill.md."""

    username: str = "ap-clerk@harborpine.example"
    password: str = "sandbox-bill-password"  # noqa: S105 - a published sandbox credential
    organization_id: str = "00801SBXHARBORPINE01"
    dev_key: str = "sandbox-bill-dev-key"
    session_idle_seconds: int = 35 * 60
    logins_per_hour: int = 200
    requests_per_hour: int = 20000
    concurrent_requests: int = 3
    # BDC_1144 and BDC_1322 have no documented HTTP status (UNCONFIRMED); 429 by default, settable.
    limit_status: int = 429
    max_subscriptions: int = 10
    webhook_timeout_seconds: float = 10.0
    # BILL retries a failed delivery after 2, 4, 8 and 16 s; tests shrink the waits with this factor.
    webhook_retry_delays: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0)
    webhook_retry_scale: float = 1.0
    # This machine reaches only loopback: a receiver elsewhere is recorded as unreachable, never called.
    webhook_loopback_only: bool = True
    # UNCONFIRMED upstream; stricter by default: unknown query parameters and body fields are refused (400).
    reject_unknown_inputs: bool = True
    # UNCONFIRMED upstream; stricter by default: no two non-archived chart-of-accounts entries share an
    # account.number, and no two non-archived classifications of one kind share a name (case-insensitive).
    refuse_duplicate_account_numbers: bool = True
    refuse_duplicate_names: bool = True
    # UNCONFIRMED whether BILL accepts a bill line of 0 (a free item, a waived fee); accepted by default, as the
    # harder document for a client. Negative lines and bills that total 0 or less are refused either way.
    zero_amount_lines: bool = True


@dataclass(frozen=True)
class SandboxSettings:
    """Both sandboxes, plus the seeded firm they share."""

    exact: ExactSandboxSettings = field(default_factory=ExactSandboxSettings)
    bill: BillSandboxSettings = field(default_factory=BillSandboxSettings)
    seed: int = 7
    bills: int = 600
    # The seeded history ends here; bills spread over the 180 days before it.
    anchor: date = field(default_factory=_today)
    history_days: int = 180
    # Added to every API request while it is in flight, so that concurrency limits can bite.
    latency_ms: int = 0
    # Callbacks must use HTTPS like the real services, except on loopback where the demo runs.
    allow_http_loopback_callbacks: bool = True
    # The awkward AP documents of issue 14 (sandbox/ap_seed.py): vendor credits, part and split payments, a vendor
    # billing in EUR, VAT-bearing accounts, a duplicated invoice number, a bill in a closed period. Off for the
    # small firms of tests that need only ordinary bills.
    ap_documents: bool = True
