"""Redaction of secrets from URLs, headers, bodies and log records, before anything is logged or raised."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
        """Remembers secret values (tokens, passwords, keys) so they are masked wherever they turn up."""
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)

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


# One process-wide redactor: clients register the secrets they handle, log filters use it.
REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in a record's message before any handler sees it."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redactor.text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_installed: set[str] = set()


def install_log_redaction(logger_names: Iterable[str] = ("urllib3", "requests", "exact_bill_pipeline")) -> None:
    """Masks secrets in records of the loggers that see URLs and bodies (urllib3 logs request lines)."""
    for name in logger_names:
        if name not in _installed:
            logging.getLogger(name).addFilter(RedactingFilter())
            _installed.add(name)
