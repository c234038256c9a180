"""What every operating command needs: the state store, the clients and the accounting settings, from the env."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from functools import cached_property

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.config import bill_client, exact_client
from exact_bill_pipeline.defs.resources import AccountingSettings, accounting_settings_from_env
from exact_bill_pipeline.domain.payments import PaymentSettings
from exact_bill_pipeline.services.reference import stored_gl_accounts
from exact_bill_pipeline.state.db import StateStore


@dataclass
class Operator:
    """The person at the command line, and the connector's parts they act on."""

    @cached_property
    def actor(self) -> str:
        return f"cli:{getpass.getuser()}"

    @cached_property
    def store(self) -> StateStore:
        return StateStore()

    @cached_property
    def exact(self) -> ExactApi:
        return exact_client().api()

    @cached_property
    def bill(self) -> BillApi:
        return bill_client().api()

    @cached_property
    def accounting(self) -> AccountingSettings:
        return accounting_settings_from_env()

    def payment_settings(self) -> PaymentSettings:
        gl_by_code = {row["code"]: row["id"] for row in stored_gl_accounts(self.store).rows}
        return self.accounting.payments(gl_by_code.get(self.accounting.ap_account_code, ""),
                                        gl_by_code.get(self.accounting.bank_account_code, ""))
