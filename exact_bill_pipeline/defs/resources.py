"""Dagster resources besides the two clients: the state database and the accounting settings."""


import os
from datetime import timedelta

import dagster as dg
from pydantic import Field, PrivateAttr

from exact_bill_pipeline.clients.alerts import AlertChannel, EmailChannel, WebhookChannel
from exact_bill_pipeline.domain.payments import PaymentSettings
from exact_bill_pipeline.domain.postings import PostingSettings
from exact_bill_pipeline.domain.reconciliation import Journals
from exact_bill_pipeline.services.alerts import AlertDesk
from exact_bill_pipeline.services.exactly_once import DoubtPolicy
from exact_bill_pipeline.services.reconciliation import ReconcileSettings
from exact_bill_pipeline.state.db import StateStore


class StateDatabase(dg.ConfigurableResource):
    """The connector's own database (credentials, mapping, ledger, failure queue, audit log)."""

    url: str | None = Field(default=None, description="SQLAlchemy URL; default EXACT_BILL_STATE_URL or a SQLite file.")

    _store: StateStore | None = PrivateAttr(default=None)

    def store(self) -> StateStore:
        if self._store is None:
            self._store = StateStore(self.url)
        return self._store


class AccountingSettings(dg.ConfigurableResource):
    """Where BILL's bills and payments land in Exact, and which bills are ready to post."""

    purchase_journal: str = Field(default="60", description="Exact purchase journal code for bills.")
    payment_journal: str = Field(default="20", description="Exact bank (or general) journal code for payments.")
    payment_entry_kind: str = Field(default="bank", description="'bank' for bank entries, 'general' for GJEs.")
    general_journal: str = Field(default="90", description="Exact general journal code where vendor credits are "
                                                            "settled against the bills they were applied to.")
    ap_account_code: str = Field(default="1600", description="Exact GL code of accounts payable.")
    bank_account_code: str = Field(default="1100", description="Exact GL code of the bank (general journal only).")
    vat_code: str | None = Field(
        default=None, description="The default VAT rule's Exact VAT code ('none': no VAT); by default each GL "
                                  "account's own code. `exact-bill mapping vat` sets it per GL account.")
    amounts_include_vat: bool = Field(default=True, description="BILL's line amounts include the VAT.")
    division_currency: str = Field(default="USD", description="The Exact division's own currency.")
    postable_statuses: list[str] = Field(default=["APPROVED"], description="BILL approval statuses that post.")
    create_suppliers: bool = Field(default=True, description="Create a supplier in Exact for an unmatched vendor.")
    freshness_hours: float = Field(default=24.0, description="Reference data older than this fails its check.")
    doubt_settle_seconds: float = Field(
        default=300.0, description="How long after a POST whose answer was lost Exact may still commit it; the "
                                   "document is posted again only if a look-up after that finds nothing.")
    doubt_wait_seconds: float = Field(
        default=300.0, description="How long a run waits for a doubt to settle before leaving it to the next run.")
    refusals_in_a_row: int = Field(default=5, description="Postings refused one after the other that stop a run.")

    def posting(self) -> PostingSettings:
        return PostingSettings(purchase_journal=self.purchase_journal, vat_code=self.vat_code,
                               amounts_include_vat=self.amounts_include_vat,
                               postable_statuses=frozenset(self.postable_statuses),
                               division_currency=self.division_currency.upper())

    def doubt_policy(self) -> DoubtPolicy:
        return DoubtPolicy(timedelta(seconds=self.doubt_settle_seconds), timedelta(seconds=self.doubt_wait_seconds),
                           self.refusals_in_a_row)

    def reconciliation(self) -> ReconcileSettings:
        return ReconcileSettings(self.posting(), Journals(purchase=self.purchase_journal, payment=self.payment_journal))

    def payments(self, ap_account_id: str, bank_account_id: str) -> PaymentSettings:
        kind = "general" if self.payment_entry_kind == "general" else "bank"
        return PaymentSettings(kind, self.payment_journal, ap_account_id, bank_account_id, self.general_journal)


def accounting_settings_from_env() -> AccountingSettings:
    """EXACT_PURCHASE_JOURNAL, EXACT_PAYMENT_JOURNAL, ... override the defaults."""
    env = {
        "purchase_journal": "EXACT_PURCHASE_JOURNAL", "payment_journal": "EXACT_PAYMENT_JOURNAL",
        "payment_entry_kind": "EXACT_PAYMENT_ENTRY_KIND",
        "general_journal": "EXACT_GENERAL_JOURNAL", "ap_account_code": "EXACT_AP_ACCOUNT_CODE",
        "bank_account_code": "EXACT_BANK_ACCOUNT_CODE", "vat_code": "EXACT_VAT_CODE",
        "amounts_include_vat": "EXACT_AMOUNTS_INCLUDE_VAT", "division_currency": "EXACT_DIVISION_CURRENCY",
        "doubt_settle_seconds": "EXACT_DOUBT_SETTLE_SECONDS", "doubt_wait_seconds": "EXACT_DOUBT_WAIT_SECONDS",
        "refusals_in_a_row": "EXACT_REFUSALS_IN_A_ROW",
    }
    values: dict[str, object] = {field: os.environ[name] for field, name in env.items() if os.environ.get(name)}
    if os.environ.get("BILL_POSTABLE_STATUSES"):
        values["postable_statuses"] = [s.strip() for s in os.environ["BILL_POSTABLE_STATUSES"].split(",") if s.strip()]
    return AccountingSettings(**values)


class AlertSettings(dg.ConfigurableResource):
    """Where alerts go (e-mail over SMTP, a Slack-compatible webhook, both or neither) and how often at most."""

    smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mails; none: no e-mail.")
    smtp_port: int = Field(default=587, description="SMTP port (STARTTLS is used when the server offers it).")
    smtp_user: str | None = Field(default=None, description="SMTP login, when the server wants one.")
    smtp_password: str | None = Field(default=None, repr=False, description="SMTP password (bind it with EnvVar).")
    email_from: str = Field(default="exact-bill@localhost", description="The alert e-mails' sender.")
    email_to: list[str] = Field(default=[], description="Who gets the alert e-mails.")
    webhook_url: str | None = Field(default=None, repr=False,
                                    description="A Slack-compatible incoming webhook (bind it with EnvVar).")
    queue_growth: int = Field(default=10, description="New failure-queue items since the last alert that alert.")
    interval_minutes: float = Field(default=30.0, description="At most one message per this many minutes.")

    def channels(self) -> list[AlertChannel]:
        channels: list[AlertChannel] = []
        if self.smtp_host and self.email_to:
            channels.append(EmailChannel(self.smtp_host, self.smtp_port, self.email_from, tuple(self.email_to),
                                         self.smtp_user, self.smtp_password))
        if self.webhook_url:
            channels.append(WebhookChannel(self.webhook_url))
        return channels

    def desk(self, store: StateStore) -> AlertDesk:
        return AlertDesk(store, self.channels(), interval=timedelta(minutes=self.interval_minutes),
                         queue_growth=self.queue_growth)


ALERT_ENV = {"smtp_host": "EXACT_BILL_ALERT_SMTP_HOST", "smtp_port": "EXACT_BILL_ALERT_SMTP_PORT",
             "smtp_user": "EXACT_BILL_ALERT_SMTP_USER", "email_from": "EXACT_BILL_ALERT_EMAIL_FROM",
             "queue_growth": "EXACT_BILL_ALERT_QUEUE_GROWTH", "interval_minutes": "EXACT_BILL_ALERT_INTERVAL_MINUTES"}
ALERT_SECRETS = {"smtp_password": "EXACT_BILL_ALERT_SMTP_PASSWORD", "webhook_url": "EXACT_BILL_ALERT_WEBHOOK_URL"}


def alert_settings_from_env() -> AlertSettings:
    """EXACT_BILL_ALERT_*; the password and the webhook URL as EnvVars, so the UI never shows them."""
    values: dict[str, object] = {field: os.environ[name] for field, name in ALERT_ENV.items() if os.environ.get(name)}
    values |= {field: dg.EnvVar(name) for field, name in ALERT_SECRETS.items() if os.environ.get(name)}
    if os.environ.get("EXACT_BILL_ALERT_EMAIL_TO"):
        values["email_to"] = [a.strip() for a in os.environ["EXACT_BILL_ALERT_EMAIL_TO"].split(",") if a.strip()]
    return AlertSettings(**values)
