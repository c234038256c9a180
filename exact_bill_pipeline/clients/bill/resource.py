"""BillClient: the Dagster resource (also usable on its own) that builds a BillApi from settings."""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg
from pydantic import Field, PrivateAttr

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.bill.session import BillLogin, BillSessions
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import Vault
from exact_bill_pipeline.transport.http import HttpTransport

DEFAULT_API_URL = "https://gateway.stage.bill.com/connect"
DEFAULT_EVENTS_URL = "https://gateway.stage.bill.com/connect-events"


class BillClient(dg.ConfigurableResource):
    """BILL for one organization: one session reused across calls and processes, kept encrypted."""

    api_url: str = Field(default=DEFAULT_API_URL, description="BILL API base, e.g. https://gateway.prod.bill.com/connect.")
    events_url: str = Field(default=DEFAULT_EVENTS_URL, description="BILL webhook-management base (connect-events).")
    username: str = Field(description="BILL user's e-mail address.")
    password: str = Field(repr=False, description="BILL user's password (bind it with EnvVar).")
    organization_id: str = Field(description="BILL organization ID (starts with 008).")
    dev_key: str = Field(repr=False, description="BILL developer key (bind it with EnvVar).")
    state_url: str | None = Field(default=None, description="State database URL; default EXACT_BILL_STATE_URL.")
    logins_per_hour: int = Field(default=200, description="BILL's cap on logins per developer key per hour.")
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    max_pages: int = Field(default=100_000, description="Stop paging after this many pages.")

    _api: BillApi | None = PrivateAttr(default=None)

    def api(self) -> BillApi:
        """The BillApi for these settings, built once per resource instance."""
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
    ) -> BillApi:
        """A new BillApi; tests pass the sandbox's clock and a sleep that moves it."""
        store = store or StateStore(self.state_url)
        transport = HttpTransport("BILL", timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
                                  sleep=sleep)
        login = BillLogin(self.api_url.rstrip("/"), self.username, self.password, self.organization_id,
                          self.dev_key)
        sessions = BillSessions(login, Vault(store, vault_key), transport, logins_per_hour=self.logins_per_hour,
                                clock=clock)
        return BillApi(api_url=self.api_url, events_url=self.events_url, sessions=sessions, transport=transport,
                       max_pages=self.max_pages)
