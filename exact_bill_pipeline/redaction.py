"""Redaction of secrets from URLs, headers, bodies and log records, before anything is logged or raised."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
# Names whose values are secret wherever they appear: query strings, form bodies, JSON, headers.
SENSITIVE_NAMES = frozenset({
    "access_token", "refresh_token", "client_secret", "code", "password", "devkey", "sessionid", "session_id",
    "securitykey", "security_key", "authorization", "proxy-authorization", "cookie", "set-cookie", "token",
    "apitoken", "consoleapitoken", "appkey", "x-bill-sha-signature", "hashcode", "webhook_secret", "secret",
    "remembermeid", "mfa",
})
_NAMES = "|".join(sorted((re.escape(n) for n in SENSITIVE_NAMES), key=len, reverse=True))
# "name": "value" in JSON, and name=value in query strings and form bodies.
_JSON_PAIR = re.compile(rf'("(?:{_NAMES})"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_FORM_PAIR = re.compile(rf"(?<![\w-])((?:{_NAMES})=)[^&\s\"']+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=!-]+", re.IGNORECASE)
MIN_SECRET_LENGTH = 6


class Redactor:
    """Masks secrets: every value registered with it, plus any value under a sensitive name."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, *values: str | None) -> None:
        """Remembers secret values (tokens, passwords, keys) so they are masked wherever they turn up.

        Their URL-encoded forms too: a token with '+', '/' or '=' (Exact's have them) is logged that way in a
        query string, by urllib3 for one.
        """
        secrets = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
        with self._lock:
            self._values.update(secrets, (quote(v, safe="") for v in secrets), (quote_plus(v) for v in secrets))

    def text(self, value: str) -> str:
        """The text with every known secret and every sensitive name=value masked."""
        with self._lock:
            known = sorted(self._values, key=len, reverse=True)
        for secret in known:
            if secret in value:
                value = value.replace(secret, MASK)
        value = _JSON_PAIR.sub(rf'\1"{MASK}"', value)
        value = _FORM_PAIR.sub(rf"\1{MASK}", value)
        return _BEARER.sub(rf"\1{MASK}", value)

    def url(self, url: str) -> str:
        """The URL with secret query parameters (and user info) masked."""
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() in SENSITIVE_NAMES else v) for k, v in pairs], safe="*$,'()")
        netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        return {k: (MASK if k.lower() in SENSITIVE_NAMES else self.text(str(v))) for k, v in (headers or {}).items()}

    def body(self, body: bytes | str | Mapping[str, Any] | None, limit: int = 2000) -> str:
        """A bounded, masked rendering of a request or response body."""
        if body is None:
            return ""
        if isinstance(body, Mapping):
            text = json.dumps(_mask_mapping(body), default=str)
        elif isinstance(body, bytes):
            text = body.decode("utf-8", errors="replace")
        else:
            text = body
        text = self.text(text)
        return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def _mask_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if str(key).lower() in SENSITIVE_NAMES:
            out[key] = MASK
        elif isinstance(value, Mapping):
            out[key] = _mask_mapping(value)
        else:
            out[key] = value
    return out


# One process-wide redactor: every secret the process loads is registered with it, log filters use it.
REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and exception text.

    Python runs a logger's filters only for the records that logger itself emits, so this sits on handlers,
    where the records of every logger arrive (a child logger's, urllib3.connectionpool's).
    """

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # arguments that do not fit the format: the handler reports that itself
        redacted = self.redactor.text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        return True


_FILTER = RedactingFilter()
_factory_lock = threading.Lock()
_factory_installed = False


def install_log_redaction() -> None:
    """The safety net: every handler of the process masks secrets, and so does every record made from now on.

    Entry points call it once their logging is set up (the CLI, the receiver after uvicorn's, the Dagster code
    location); calling it again covers handlers added since. Records are also masked when they are made,
    because some handlers appear later and never pass through here: Dagster makes one per step, and copies
    the message into its event before any handler filter runs.
    """
    for handler in _all_handlers():
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(_FILTER)
    _mask_records_when_made()


def _all_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger(), *(logger for logger in list(logging.Logger.manager.loggerDict.values())
                                      if isinstance(logger, logging.Logger))]
    handlers = [handler for logger in loggers for handler in logger.handlers]
    return handlers + ([logging.lastResort] if logging.lastResort is not None else [])


def _mask_records_when_made() -> None:
    global _factory_installed
    with _factory_lock:
        if _factory_installed:
            return
        make = logging.getLogRecordFactory()

        def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            _FILTER.filter(record)
            return record

        logging.setLogRecordFactory(masked_record)
        _factory_installed = True
