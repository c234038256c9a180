"""Exact's OData v2 primitive types: their names, /Date(ms)/ dates, GUIDs and reading values from POST bodies.

Inside the sandbox a DateTime is an int of epoch milliseconds (UTC), a Guid a lower-case string.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from exact_bill_pipeline.sandbox.exact_online.errors import bad_request

INTEGER_TYPES = frozenset({"Byte", "Int16", "Int32", "Int64"})
NUMBER_TYPES = INTEGER_TYPES | {"Double"}
INTEGER_RANGES = {"Byte": (0, 255), "Int16": (-(2**15), 2**15 - 1), "Int32": (-(2**31), 2**31 - 1),
                  "Int64": (-(2**63), 2**63 - 1)}
GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
WCF_DATE = re.compile(r"^/Date\(-?\d+([+-]\d{4})?\)/$")
DAY_MS = 86_400_000


def system_type_name(edm_type: str) -> str:
    """The .NET name WCF Data Services puts in its error messages, e.g. 'System.Guid'."""
    return f"System.{edm_type}"


def is_guid(value: str) -> bool:
    return bool(GUID_PATTERN.match(value))


def wcf_date(epoch_ms: int | None) -> str | None:
    return None if epoch_ms is None else f"/Date({epoch_ms})/"


def date_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def ms_date(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).date()


def start_of_day_ms(epoch_ms: int) -> int:
    return epoch_ms - epoch_ms % DAY_MS


def iso_date(epoch_ms: int | None) -> str | None:
    return None if epoch_ms is None else ms_date(epoch_ms).isoformat()


def payload_value(name: str, edm_type: str, value: Any) -> Any:
    """A POST body value as the sandbox stores it; a 400 in WCF's words when it does not fit the type."""
    if value is None:
        return None
    converted = _convert(edm_type, value)
    if converted is _INVALID:
        raise conversion_error(name, edm_type)
    return converted


def conversion_error(name: str, edm_type: str) -> Exception:
    return bad_request(
        "Error processing request stream. Error encountered in converting the value from request payload for "
        f"property '{name}' to type '{edm_type}', which is the property's expected type. "
        "See inner exception for more detail."
    )


_INVALID = object()


def _convert(edm_type: str, value: Any) -> Any:
    if edm_type == "Guid":
        return value.lower() if isinstance(value, str) and is_guid(value) else _INVALID
    if edm_type == "String":
        return value if isinstance(value, str) else _INVALID
    if edm_type == "Boolean":
        return value if isinstance(value, bool) else _INVALID
    if edm_type in INTEGER_TYPES:
        low, high = INTEGER_RANGES[edm_type]
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else _INVALID
    if edm_type == "Double":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _INVALID
    if edm_type == "DateTime":
        return _iso_to_ms(value)
    return _INVALID


def _iso_to_ms(value: Any) -> Any:
    # UNCONFIRMED whether Exact also reads "/Date(ms)/" in request bodies; clients send ISO-8601 text,
    # so the sandbox refuses the WCF form (stricter).
    if not isinstance(value, str) or WCF_DATE.match(value):
        return _INVALID
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        return _INVALID
    if moment.tzinfo is None:
        # UNCONFIRMED: the time zone of dates without an offset (likely the division's); the sandbox uses UTC.
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
