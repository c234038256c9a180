"""Outgoing alerts: an e-mail over SMTP, and a message to a Slack-compatible incoming webhook."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

import requests

from exact_bill_pipeline.domain.alerts import Alert
from exact_bill_pipeline.redaction import REDACTOR


class AlertChannel(Protocol):
    def send(self, alert: Alert) -> None: ...


class AlertNotSent(RuntimeError):
    """A channel refused or could not take an alert; the message says which, without its credentials."""


@dataclass(frozen=True)
class EmailChannel:
    """Mail through an SMTP server; STARTTLS when the server offers it, login when a user is set."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 20.0

    def send(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = alert.subject, self.sender, ", ".join(self.recipients)
        message.set_content(alert.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise AlertNotSent(f"the alert e-mail to {self.host}:{self.port} was not sent: "
                               f"{REDACTOR.text(str(error))}") from None


@dataclass(frozen=True)
class WebhookChannel:
    """A JSON {"text": ...} POST, which Slack, Mattermost and Teams-style incoming webhooks accept."""

    url: str = field(repr=False)
    timeout: float = 20.0

    def send(self, alert: Alert) -> None:
        try:
            response = requests.post(self.url, json={"text": f"*{alert.subject}*\n{alert.body}"}, timeout=self.timeout)
        except requests.RequestException as error:
            raise AlertNotSent(f"the alert webhook did not answer: {REDACTOR.text(type(error).__name__)}") from None
        if not response.ok:
            raise AlertNotSent(f"the alert webhook answered HTTP {response.status_code}")
