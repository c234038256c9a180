"""BILL list calls: `max`, opaque `page` tokens, `filters=field:op:value,...` and `sort=field:dir` (bill.md §3)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from starlette.datastructures import QueryParams

from exact_bill_pipeline.sandbox.bill.errors import invalid
from exact_bill_pipeline.sandbox.bill.ordering import HIGH_ID, LOW_ID, Key, Order

DEFAULT_MAX = 20
LARGEST_MAX = 100
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "sw")
RANGE_OPS = frozenset({"gt", "gte", "lt", "lte"})
LIST_PARAMS = frozenset({"max", "page", "filters", "sort"})

# The five date-time forms BILL accepts in createdTime/updatedTime filters (bill.md §3.2); nothing else.
_DATETIME_FORMS = (
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}(:?\d{2})?)"),  # yyyy-MM-dd'T'HH:mm:ss.SSSX
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}"),
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    re.compile(r"\d{4}-\d{2}-\d{2}"),
)
_DATE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Field:
    """A field a list call can filter or sort on; ``kind`` says how its values compare."""

    path: str
    kind: str = "string"  # string, bool, number, date (yyyy-MM-dd) or datetime (epoch ms once parsed)
    ops: frozenset[str] = frozenset()
    sortable: bool = False


@dataclass(frozen=True)
class ListSpec:
    """What one list endpoint accepts."""

    name: str
    fields: Mapping[str, Field]
    # Sandbox choice: without `sort`, rows come oldest first (createdTime, then id). Archived rows are
    # listed like any other unless filtered out (UNCONFIRMED upstream; stricter: clients must filter).
    default_sort: str = "createdTime"
    extra_params: frozenset[str] = frozenset()


class Listable(Protocol):
    spec: ListSpec

    def order(self, field_name: str) -> Order: ...

    def value(self, record_id: str, field_name: str) -> Any: ...

    def get(self, record_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any

    def matches(self, actual: Any) -> bool:
        op, wanted = self.op, self.value
        if op == "eq":
            return actual == wanted
        if op == "ne":
            return actual != wanted
        if op == "in":
            return actual in wanted
        if op == "nin":
            return actual not in wanted
        if actual is None:
            return False
        if op == "sw":
            return isinstance(actual, str) and actual.startswith(wanted)
        return {"gt": actual > wanted, "gte": actual >= wanted, "lt": actual < wanted, "lte": actual <= wanted}[op]


@dataclass(frozen=True)
class Cursor:
    """Where a page token points: rows after (``next``) or before (``prev``) ``key``."""

    direction: str
    key: Key
    inclusive: bool


@dataclass
class ListQuery:
    max: int
    sort_field: str
    descending: bool
    filters: list[Filter] = field(default_factory=list)
    cursor: Cursor | None = None
    fingerprint: str = ""


def normalize(kind: str, raw: Any) -> Any:
    """A record's value in the form filters and sort keys compare: date-times become epoch ms."""
    if kind == "datetime" and isinstance(raw, str):
        return epoch_ms(datetime.fromisoformat(raw))
    return raw


def epoch_ms(moment: datetime) -> int:
    """Exact epoch milliseconds (float timestamps can land a millisecond short)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def dig(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when any part is missing."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class PageTokens:
    """Issues and reads opaque page tokens; a token is signed, so a forged or damaged one is refused."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(16)

    def issue(self, fingerprint: str, cursor: Cursor) -> str:
        payload = json.dumps(
            [fingerprint, cursor.direction, list(cursor.key), cursor.inclusive], separators=(",", ":")
        ).encode()
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + payload).rstrip(b"=").decode("ascii")

    def read(self, token: str, fingerprint: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise invalid("page is not a valid page token.") from exc
        mac, payload = raw[:12], raw[12:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]):
            raise invalid("page is not a valid page token.")
        token_fingerprint, direction, key, inclusive = json.loads(payload)
        # UNCONFIRMED whether BILL rejects a token reused with other filters or sort; the stricter sandbox
        # does, so a client that changes its query mid-way (or drops filters on page 2) notices.
        if token_fingerprint != fingerprint:
            raise invalid("page token was issued for a different query; send the same filters and sort.")
        return Cursor(direction, (key[0], key[1]), inclusive)


def parse_list_query(
    params: QueryParams, spec: ListSpec, tokens: PageTokens, *, reject_unknown: bool, allow_filters: bool = True
) -> ListQuery:
    """The list query in ``params``; a 400 naming the parameter for anything BILL would not accept."""
    allowed = (LIST_PARAMS if allow_filters else frozenset({"max", "page"})) | spec.extra_params
    for name in params:
        if len(params.getlist(name)) > 1:
            raise invalid(f"Query parameter {name} is given more than once.")
        # UNCONFIRMED whether BILL ignores unknown parameters; refusing them catches a misspelt `filter=`.
        if reject_unknown and name not in allowed:
            raise invalid(f"Unknown query parameter: {name}.")
    query = ListQuery(max=_parse_max(params.get("max")), sort_field=spec.default_sort, descending=False)
    if allow_filters and "sort" in params:
        query.sort_field, query.descending = _parse_sort(params["sort"], spec)
    if allow_filters and "filters" in params:
        query.filters = parse_filters(params["filters"], spec)
    canonical = [spec.name, query.sort_field, query.descending,
                 sorted([f.field, f.op, _canonical(f.value)] for f in query.filters),
                 {name: params[name] for name in sorted(spec.extra_params) if name in params}]
    query.fingerprint = hashlib.sha256(json.dumps(canonical, default=str).encode()).hexdigest()[:16]
    if "page" in params:
        query.cursor = tokens.read(params["page"], query.fingerprint)
    return query


def _canonical(value: Any) -> str:
    return repr(sorted(value, key=repr)) if isinstance(value, frozenset) else repr(value)


def _parse_max(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_MAX
    if not re.fullmatch(r"\d{1,4}", raw) or not 1 <= int(raw) <= LARGEST_MAX:
        raise invalid(f"max must be an integer from 1 to {LARGEST_MAX}, not {raw!r}.")
    return int(raw)


def _parse_sort(raw: str, spec: ListSpec) -> tuple[str, bool]:
    name, _, direction = raw.partition(":")
    if direction not in ("asc", "desc"):
        raise invalid(f"sort must look like field:asc or field:desc, not {raw!r}.")
    spec_field = spec.fields.get(name)
    if spec_field is None or not spec_field.sortable:
        sortable = ", ".join(sorted(n for n, f in spec.fields.items() if f.sortable))
        raise invalid(f"{spec.name} cannot be sorted by {name!r}; sortable fields: {sortable}.")
    return name, direction == "desc"


def split_outside_quotes(text: str) -> list[str]:
    """Splits on commas that are not inside double quotes, so `in` lists stay whole."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise invalid(f"filters has an unclosed quote: {text!r}.")
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def parse_filters(raw: str, spec: ListSpec) -> list[Filter]:
    return [_parse_filter(part, spec) for part in split_outside_quotes(raw)]


def _parse_filter(part: str, spec: ListSpec) -> Filter:
    pieces = part.split(":", 2)
    if len(pieces) != 3 or not pieces[2]:
        raise invalid(f"Each filter must look like field:operator:value, not {part!r} "
                      "(quote a list of values: vendorId:in:\"a,b\").")
    name, op, text = pieces
    spec_field = spec.fields.get(name)
    if spec_field is None or not spec_field.ops:
        filterable = ", ".join(sorted(n for n, f in spec.fields.items() if f.ops))
        raise invalid(f"{spec.name} cannot be filtered by {name!r}; filterable fields: {filterable}.")
    if op not in OPERATORS:
        raise invalid(f"Unknown filter operator {op!r} in {part!r}; operators: {', '.join(OPERATORS)}.")
    if op not in spec_field.ops:
        raise invalid(f"Operator {op!r} is not allowed for {name}; allowed: {', '.join(sorted(spec_field.ops))}.")
    text = _unquote(text)
    if op in ("in", "nin"):
        items = [_unquote(item.strip()) for item in text.split(",")]
        return Filter(name, op, frozenset(_parse_value(name, spec_field.kind, item) for item in items))
    return Filter(name, op, _parse_value(name, spec_field.kind, text))


def _parse_value(name: str, kind: str, text: str) -> Any:
    if text == "":
        raise invalid(f"Filter on {name} has an empty value.")
    if kind == "datetime":
        return parse_filter_datetime(name, text)
    if kind == "date":
        if not _DATE_FORM.fullmatch(text):
            raise invalid(f"Filter on {name} needs a date like 2026-12-31, not {text!r}.")
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise invalid(f"Filter on {name} has an impossible date {text!r}.") from exc
    if kind == "bool":
        if text not in ("true", "false"):
            raise invalid(f"Filter on {name} needs true or false, not {text!r}.")
        return text == "true"
    if kind == "number":
        try:
            number = float(text)
        except ValueError as exc:
            raise invalid(f"Filter on {name} needs a number, not {text!r}.") from exc
        if not math.isfinite(number):
            raise invalid(f"Filter on {name} needs a finite number, not {text!r}.")
        return number
    return text


def parse_filter_datetime(name: str, text: str) -> int:
    """Epoch ms of a filter date-time in one of BILL's five accepted forms."""
    if not any(form.fullmatch(text) for form in _DATETIME_FORMS):
        raise invalid(
            f"Filter on {name} has an unsupported date-time {text!r}; use yyyy-MM-dd'T'HH:mm:ss.SSSX, "
            "yyyy-MM-dd'T'HH:mm:ss.SSS, yyyy-MM-dd'T'HH:mm:ss, yyyy-MM-dd'T'HH:mm or yyyy-MM-dd."
        )
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid(f"Filter on {name} has an impossible date-time {text!r}.") from exc
    if moment.tzinfo is None:
        # UNCONFIRMED which zone BILL assumes for a date-time without an offset; the sandbox takes UTC.
        moment = moment.replace(tzinfo=UTC)
    return epoch_ms(moment)


def list_page(table: Listable, query: ListQuery, tokens: PageTokens, *, backward: bool = True) -> dict[str, Any]:
    """One page of ``table`` for ``query``: {"nextPage"?, "prevPage"?, "results"}; BILL leaves out absent keys.

    Page tokens hold the sort key of the row they continue from, so pages never skip or repeat a row
    that keeps its sort value; ties are broken by id."""
    walker = _Walker(table, query)
    cursor = query.cursor
    backwards = cursor is not None and cursor.direction == "prev"
    keys = walker.collect(*((cursor.key, cursor.inclusive) if cursor else (None, False)),
                          backwards=backwards, limit=query.max + 1)
    more = len(keys) > query.max
    keys = keys[: query.max]
    if backwards:
        keys.reverse()
    if keys:
        first, last = (keys[0], False), (keys[-1], False)
    elif cursor is not None:
        first = last = (cursor.key, not cursor.inclusive)
    else:
        return {"results": []}
    has_before = more if backwards else cursor is not None and walker.any(*first, backwards=True)
    has_after = walker.any(*last, backwards=False) if backwards else more
    page: dict[str, Any] = {}
    if has_after:
        page["nextPage"] = tokens.issue(query.fingerprint, Cursor("next", *last))
    if has_before and backward:
        page["prevPage"] = tokens.issue(query.fingerprint, Cursor("prev", *first))
    page["results"] = [table.get(key[1]) for key in keys]
    return page


class _Walker:
    """Walks the table's order for the sort field, skipping rows the filters reject."""

    def __init__(self, table: Listable, query: ListQuery) -> None:
        self.table = table
        self.query = query
        self.order = table.order(query.sort_field)
        self.lower, self.upper = _bounds(query)

    def collect(self, start: Key | None, inclusive: bool, *, backwards: bool, limit: int) -> list[Key]:
        out: list[Key] = []
        for key in self._keys(start, inclusive, backwards):
            out.append(key)
            if len(out) >= limit:
                break
        return out

    def any(self, start: Key, inclusive: bool, *, backwards: bool) -> bool:
        return next(self._keys(start, inclusive, backwards), None) is not None

    def _keys(self, start: Key | None, inclusive: bool, backwards: bool) -> Iterator[Key]:
        reverse = self.query.descending != backwards
        near, far = (self.upper, self.lower) if reverse else (self.lower, self.upper)
        if near is not None and (start is None or (near > start if not reverse else near < start)):
            start, inclusive = near, False
        filters = self.query.filters
        for key in self.order.walk(start, inclusive, reverse):
            if far is not None and (key <= far if reverse else key >= far):
                return
            record_id = key[1]
            if all(f.matches(self.table.value(record_id, f.field)) for f in filters):
                yield key


def _bounds(query: ListQuery) -> tuple[Key | None, Key | None]:
    """Exclusive keys around the rows a range filter on the sort field allows, to start and stop walks early."""
    lower: Key | None = None
    upper: Key | None = None
    for f in query.filters:
        if f.field != query.sort_field or f.op not in RANGE_OPS:
            continue
        if f.op in ("gt", "gte"):
            key = (f.value, HIGH_ID if f.op == "gt" else LOW_ID)
            lower = key if lower is None else max(lower, key)
        else:
            key = (f.value, LOW_ID if f.op == "lt" else HIGH_ID)
            upper = key if upper is None else min(upper, key)
    return lower, upper
