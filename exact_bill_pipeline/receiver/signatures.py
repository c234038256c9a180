"""Webhook signatures of both systems, verified in constant time over the raw bytes as received."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

# Exact signs the raw text of "Content" as it appears in the body (api-reference §6.4); the body must be
# exactly {"Content":...,"HashCode":"..."} for that text to be found unambiguously.
_EXACT_BODY = re.compile(rb'\A\{"Content":(.*),"HashCode":"([^"]*)"\}\Z', re.DOTALL)
_UPPER_HEX = re.compile(r"\A[0-9A-F]{64}\Z")


class SignatureInvalid(Exception):
    """The delivery is not signed the way the sender signs: it is refused (401) and not stored."""


class PayloadInvalid(Exception):
    """The delivery is signed correctly but is not a payload we understand (400)."""


@dataclass(frozen=True)
class ExactEvent:
    topic: str
    action: str
    key: str
    division: int | None
    client_id: str
    created_on: str
    content: dict[str, Any]

    @property
    def event_id(self) -> str:
        """Exact's events carry no ID: one is derived from what makes the event itself."""
        identity = f"{self.topic}|{self.key}|{self.action}|{self.created_on}|{self.division}"
        return hashlib.sha256(identity.encode()).hexdigest()


def verify_exact(raw: bytes, secret: str) -> ExactEvent:
    """The event in an Exact delivery whose HashCode is the uppercase hex HMAC-SHA256 of the raw Content."""
    match = _EXACT_BODY.match(raw)
    if not match:
        raise SignatureInvalid("not an Exact delivery: the body must be {\"Content\":...,\"HashCode\":\"...\"}")
    content_bytes, given = match.group(1), match.group(2).decode("ascii", errors="replace")
    if not _UPPER_HEX.match(given):
        raise SignatureInvalid("HashCode is not 64 uppercase hexadecimal characters")
    expected = hmac.new(secret.encode(), content_bytes, hashlib.sha256).hexdigest().upper()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureInvalid("HashCode does not match the content")
    try:
        content = json.loads(content_bytes)
        return ExactEvent(str(content["Topic"]), str(content.get("Action", "")), str(content["Key"]),
                          content.get("Division"), str(content.get("ClientId", "")),
                          str(content.get("EventCreatedOn", "")), content)
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadInvalid(f"the signed Content is not an Exact event: {type(exc).__name__}") from None


def bill_signature(raw: bytes, key: str) -> str:
    """BILL's x-bill-sha-signature: base64 of HMAC-SHA256 over the raw body, keyed with the securityKey."""
    return base64.b64encode(hmac.new(key.encode("utf-8"), raw, hashlib.sha256).digest()).decode("ascii")


def verify_bill(raw: bytes, header: str | None, keys: list[str]) -> None:
    """Raises SignatureInvalid unless the header matches one of the valid keys (two during a rotation)."""
    if not header:
        raise SignatureInvalid("the x-bill-sha-signature header is missing")
    if not keys:
        raise SignatureInvalid("no BILL subscription is registered here, so no signature can be valid")
    given = header.strip().encode("ascii", errors="replace")
    valid = [hmac.compare_digest(bill_signature(raw, key).encode(), given) for key in keys]
    if not any(valid):
        raise SignatureInvalid("x-bill-sha-signature does not match the body")


@dataclass(frozen=True)
class BillEvent:
    event_id: str
    event_type: str
    entity: str
    record: dict[str, Any]
    payload: dict[str, Any]

    @property
    def key(self) -> str | None:
        value = self.record.get("id")
        return str(value) if value is not None else None


def parse_bill(raw: bytes) -> BillEvent:
    """The event in a (verified) BILL delivery; a JSON string holding the JSON is accepted too."""
    try:
        payload = json.loads(raw)
        if isinstance(payload, str):  # UNCONFIRMED whether BILL ever double-encodes; accepted either way
            payload = json.loads(payload)
    except (ValueError, RecursionError):  # the inner JSON of a double-encoded body can nest too deep
        raise PayloadInvalid("the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("metadata"), dict):
        raise PayloadInvalid("the body has no metadata object")
    metadata = payload["metadata"]
    event_id, event_type = metadata.get("eventId"), metadata.get("eventType")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or "." not in event_type:
        raise PayloadInvalid("metadata.eventId and metadata.eventType are required")
    entity = event_type.split(".", 1)[0]
    record = payload.get(_entity_member(entity))
    return BillEvent(event_id, event_type, entity, record if isinstance(record, dict) else {}, payload)


def _entity_member(entity: str) -> str:
    """bank-account -> bankAccount: the member the record sits under."""
    head, *rest = entity.split("-")
    return head + "".join(part.title() for part in rest)
