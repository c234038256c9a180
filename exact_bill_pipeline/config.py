"""Settings from the environment, with the sandbox's values as defaults so that nothing must be configured."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, ExactSandboxSettings

# The first day of the daily partitions (read when the code location loads; see defs/partitions.py).
PARTITIONS_START_ENV = "EXACT_BILL_PARTITIONS_START"
SANDBOX_EXACT_URL = "http://127.0.0.1:8701"
SANDBOX_BILL_URL = "http://127.0.0.1:8702"
_exact, _bill = ExactSandboxSettings(), BillSandboxSettings()


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    secret: bool = False
    help: str = ""


EXACT_SETTINGS: dict[str, Setting] = {
    "base_url": Setting("EXACT_BASE_URL", SANDBOX_EXACT_URL, help="Exact host of your country"),
    "client_id": Setting("EXACT_CLIENT_ID", _exact.client_id, help="app registration's client ID"),
    "client_secret": Setting("EXACT_CLIENT_SECRET", _exact.client_secret, secret=True,
                             help="app registration's client secret"),
    "redirect_uri": Setting("EXACT_REDIRECT_URI", _exact.redirect_uri, help="registered redirect URI"),
    "division": Setting("EXACT_DIVISION", str(_exact.division), help="division (administration) number"),
    "daily_call_limit": Setting("EXACT_DAILY_CALL_LIMIT", str(_exact.daily_limit), help="API calls a day"),
    "minutely_call_limit": Setting("EXACT_MINUTELY_CALL_LIMIT", str(_exact.minutely_limit), help="API calls a minute"),
    "posting_reserve": Setting("EXACT_POSTING_RESERVE", "250", help="daily calls kept for postings"),
    "read_timeout_seconds": Setting("EXACT_READ_TIMEOUT_SECONDS", "60",
                                    help="seconds to wait for Exact's answer before a call is in doubt"),
}
EXACT_WEBHOOK_SECRET = Setting("EXACT_WEBHOOK_SECRET", _exact.webhook_secret, secret=True,
                               help="the app registration's webhook secret (signs Exact's deliveries)")
NUMERIC = frozenset({"division", "daily_call_limit", "minutely_call_limit", "posting_reserve"})
BILL_SETTINGS: dict[str, Setting] = {
    "api_url": Setting("BILL_API_URL", f"{SANDBOX_BILL_URL}/connect", help="BILL API base URL"),
    "events_url": Setting("BILL_EVENTS_URL", f"{SANDBOX_BILL_URL}/connect-events", help="BILL connect-events URL"),
    "username": Setting("BILL_USERNAME", _bill.username, help="BILL user e-mail"),
    "password": Setting("BILL_PASSWORD", _bill.password, secret=True, help="BILL password"),
    "organization_id": Setting("BILL_ORGANIZATION_ID", _bill.organization_id, help="BILL organization ID"),
    "dev_key": Setting("BILL_DEV_KEY", _bill.dev_key, secret=True, help="BILL developer key"),
}


def value(setting: Setting) -> str:
    return os.environ.get(setting.env) or setting.default


# The secrets in this process's environment are masked in its logs whether or not it reads them.
REDACTOR.register(*(value(s) for s in (*EXACT_SETTINGS.values(), EXACT_WEBHOOK_SECRET, *BILL_SETTINGS.values())
                    if s.secret))


def _resource_value(setting: Setting) -> str | dg.EnvVar:
    """EnvVar for what the environment sets (Dagster then never shows the value), else the sandbox default."""
    return dg.EnvVar(setting.env) if os.environ.get(setting.env) else setting.default


def _int(setting: Setting) -> int:
    text = value(setting)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{setting.env} must be a whole number, not {text!r}") from None


def _number(setting: Setting) -> float:
    text = value(setting)
    try:
        number = float(text)
    except ValueError:
        number = 0.0
    if number <= 0:
        raise ValueError(f"{setting.env} must be a number of seconds above 0, not {text!r}")
    return number


def exact_client(*, for_dagster: bool = False, **overrides: object) -> ExactOnlineClient:
    fields: dict[str, object] = {
        name: (_resource_value(s) if for_dagster else value(s)) for name, s in EXACT_SETTINGS.items()
    }
    for name in NUMERIC:
        fields[name] = _int(EXACT_SETTINGS[name])
    fields["read_timeout_seconds"] = _number(EXACT_SETTINGS["read_timeout_seconds"])
    return ExactOnlineClient(**{**fields, **overrides})


def bill_client(*, for_dagster: bool = False, **overrides: object) -> BillClient:
    fields = {name: (_resource_value(s) if for_dagster else value(s)) for name, s in BILL_SETTINGS.items()}
    return BillClient(**{**fields, **overrides})
