"""OData v2 as Exact speaks it: literals for $filter, /Date(ms)/ values, envelopes and guarded paging."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class PagingError(RuntimeError):
    """Paging went wrong in a way that would loop forever or return too much."""


def parse_date(value: Any) -> datetime | None:
    """/Date(1641034800000)/ as an aware UTC datetime; None stays None."""
    if value is None or isinstance(value, datetime):
        return value
    match = _DATE.match(str(value))
    if not match:
        raise ValueError(f"not an OData date: {value!r}")
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)


def guid(value: UUID | str) -> str:
    return f"guid'{UUID(str(value))}'"


def string(value: str) -> str:
    """A quoted OData string literal; quotes inside are doubled."""
    return "'" + value.replace("'", "''") + "'"


def datetime_literal(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None)
        return f"datetime'{value:%Y-%m-%dT%H:%M:%S}'"
    return f"datetime'{value:%Y-%m-%dT00:00:00}'"


def int64(value: int) -> str:
    return f"{int(value)}L"


def unwrap(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The rows and the next-page link of a response; ``d`` may be a list, a collection or one entity."""
    body = payload.get("d")
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        if "results" in body and isinstance(body["results"], list):
            return body["results"], body.get("__next")
        return [body], None
    raise PagingError("the response has no OData 'd' member")


def pages(
    fetch: Callable[[str], dict[str, Any]], first_url: str, *, max_pages: int = 10_000
) -> Iterator[list[dict[str, Any]]]:
    """Follows ``__next`` until it is absent, refusing to loop on a repeated page or run past ``max_pages``."""
    url: str | None = first_url
    seen_links: set[str] = set()
    previous_keys: tuple[Any, ...] | None = None
    count = 0
    while url:
        if count >= max_pages:
            raise PagingError(f"stopped after {max_pages} pages: the collection is larger than the page cap allows")
        rows, next_url = unwrap(fetch(url))
        count += 1
        keys = tuple(_row_key(row) for row in rows)
        if rows and keys == previous_keys:
            raise PagingError(f"page {count} repeats page {count - 1}: the service is looping, stopping here")
        previous_keys = keys
        yield rows
        if next_url is not None:
            if next_url in seen_links:
                raise PagingError(f"page {count} links to a page already read: the service is looping, stopping here")
            seen_links.add(next_url)
        url = next_url


def _row_key(row: dict[str, Any]) -> Any:
    for name in ("ID", "EntryID", "PurchaseOrderID", "Timestamp", "UserID"):
        if name in row:
            return row[name]
    return tuple(sorted((k, str(v)) for k, v in row.items()))
