"""ExactOnlineClient: the Dagster resource (also usable on its own) that builds an ExactApi from settings."""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg
from pydantic import Field, PrivateAttr

from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.clients.exact_online.auth import ExactApp, ExactAuth
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import Vault
from exact_bill_pipeline.transport.budget import BudgetLimits, CallBudget
from exact_bill_pipeline.transport.http import HttpTransport, RetryPolicy

DEFAULT_BASE_URL = "https://start.exactonline.nl"


class ExactOnlineClient(dg.ConfigurableResource):
    """Exact Online for one division: tokens from the encrypted vault, every call inside the division's budget."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="The country's Exact host, e.g. start.exactonline.nl.")
    client_id: str = Field(description="Client ID of the app registration.")
    client_secret: str = Field(repr=False, description="Client secret of the app registration (bind it with EnvVar).")
    redirect_uri: str = Field(description="Redirect URI registered for the app, exactly as registered.")
    division: int = Field(description="The division (administration) to work in; never taken from current/Me.")
    state_url: str | None = Field(default=None, description="State database URL; default EXACT_BILL_STATE_URL.")
    daily_call_limit: int = Field(default=5000, description="API calls a day for this app and division.")
    minutely_call_limit: int = Field(default=60, description="API calls a minute for this app and division.")
    posting_reserve: int = Field(default=250, description="Calls a day kept for postings; reads stop before them.")
    budget_enabled: bool = Field(default=True, description="Count calls against the limits (off only for tests).")
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    max_attempts: int = Field(default=6, description="Tries of a call that may be retried, before giving up.")
    max_pages: int = Field(default=10_000, description="Stop paging after this many pages.")
    token_lease_seconds: float = Field(
        default=60.0, description="How long other processes wait for a token refresh that never finishes (its "
                                  "process died) before one of them takes it over.")

    _api: ExactApi | None = PrivateAttr(default=None)

    def api(self) -> ExactApi:
        """The ExactApi for these settings, built once per resource instance."""
        if self._api is None:
            self._api = self.build_api()
        return self._api

    def build_api(
        self,
        *,
        store: StateStore | None = None,
        vault_key: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ExactApi:
        """A new ExactApi; tests pass the sandbox's clock and a sleep that moves it."""
        store = store or StateStore(self.state_url)
        transport = HttpTransport(
            "Exact Online", timeout=(self.connect_timeout_seconds, self.read_timeout_seconds), sleep=sleep,
            retry=RetryPolicy(max_attempts=self.max_attempts)
        )
        app = ExactApp(self.base_url, self.client_id, self.client_secret, self.redirect_uri)
        auth = ExactAuth(app, Vault(store, vault_key), transport, clock=clock, lease_seconds=self.token_lease_seconds)
        limits = BudgetLimits(self.daily_call_limit, self.minutely_call_limit, self.posting_reserve,
                              enabled=self.budget_enabled)
        budget = CallBudget(store, f"exact:{self.client_id}:{self.division}", limits, clock=clock, sleep=sleep,
                            label=f"Exact Online division {self.division}")
        return ExactApi(base_url=self.base_url, division=self.division, auth=auth, transport=transport,
                        budget=budget, clock=clock, max_pages=self.max_pages)
