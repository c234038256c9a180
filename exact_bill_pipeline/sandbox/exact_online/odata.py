"""OData v2 query options as Exact applies them, with the rules it adds on top, and paging a table.

$select, $expand, $orderby, $top, $skiptoken and $inlinecount; Exact's own rules are "$select or $top=1",
mandatory filters on endpoints with a sync twin, and Timestamp-only filters on sync endpoints.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from exact_bill_pipeline.sandbox.exact_online.entities import ALL, HOME_SET, EntitySet, Selection, key_literal
from exact_bill_pipeline.sandbox.exact_online.errors import bad_request
from exact_bill_pipeline.sandbox.exact_online.filters import (
    Evaluator,
    FilterParser,
    Node,
    numeric,
    parse_filter,
    unknown_property,
)
from exact_bill_pipeline.sandbox.exact_online.store import Row, Table

SELECT_OR_TOP = "Please add a $select or a $top=1 statement to the query string."
KNOWN_OPTIONS = frozenset({"$filter", "$select", "$expand", "$orderby", "$top", "$skiptoken", "$inlinecount"})


# ----- the query options of one request --------------------------------------------------------------------


@dataclass
class Query:
    """The parsed query options of a GET on a collection or an entity."""

    params: list[tuple[str, str]]
    node: Node | None = None
    selection: Selection = ALL
    orderby: list[tuple[str, str, bool]] = field(default_factory=list)  # (name, edm, descending)
    top: int | None = None
    skiptoken: list[tuple[str, Any]] | None = None
    inlinecount: bool = False


def options(params: list[tuple[str, str]]) -> dict[str, str]:
    """The system query options, refusing repeats and unknown $-options the way WCF Data Services does."""
    found: dict[str, str] = {}
    for name, value in params:
        if not name.startswith("$"):
            continue  # custom query options are allowed and ignored
        if name == "$skip":
            # UNCONFIRMED: Exact documents $skip as unsupported on endpoints released after March 2017; the
            # sandbox refuses it everywhere (stricter). Follow __next instead.
            raise bad_request("$skip is not supported")
        if name not in KNOWN_OPTIONS:
            raise bad_request(
                f"The query parameter '{name}' begins with a system-reserved '$' character but is not recognized."
            )
        if name in found:
            raise bad_request(
                f"Query option '{name}' was specified more than once, but it must be specified at most once."
            )
        found[name] = value
    return found


def parse_entity_query(params: list[tuple[str, str]], entity_set: EntitySet) -> Query:
    """Options of a GET on one entity: only $select and $expand apply."""
    found = options(params)
    extra = sorted(set(found) - {"$select", "$expand"})
    if extra:
        raise bad_request(
            "Query options $filter, $orderby, $inlinecount, $skip, $skiptoken and $top cannot be applied to the "
            f"requested resource ({', '.join(extra)})."
        )
    return Query(params, selection=_selection(found, entity_set))


def parse_collection_query(
    params: list[tuple[str, str]], entity_set: EntitySet, ignore_case: bool, require_select: bool = True
) -> Query:
    found = options(params)
    query = Query(params)
    query.top = _top(found.get("$top"))
    if require_select:
        _require_select(found, entity_set)
    query.selection = _selection(found, entity_set)
    if "$filter" in found:
        query.node = parse_filter(found["$filter"], entity_set, ignore_case)
    _check_filter_rules(query.node, entity_set)
    if "$orderby" in found:
        if entity_set.kind != "normal":
            # UNCONFIRMED: bulk and sync endpoints page in key / Timestamp order; the sandbox refuses $orderby.
            raise bad_request("$orderby is not supported on bulk and sync endpoints.")
        query.orderby = _orderby(found["$orderby"], entity_set)
    inline = found.get("$inlinecount", "none")
    if inline not in {"allpages", "none"}:
        raise bad_request(f"Invalid value '{inline}' for $inlinecount query option found. "
                          "Valid values are 'allpages' and 'none'.")
    query.inlinecount = inline == "allpages"
    if "$skiptoken" in found:
        query.skiptoken = _skiptoken(found["$skiptoken"], query, entity_set, ignore_case)
    return query


def _require_select(found: dict[str, str], entity_set: EntitySet) -> None:
    select = found.get("$select", "").strip()
    if entity_set.kind == "bulk" and not select:
        raise bad_request(SELECT_OR_TOP)
    # UNCONFIRMED which endpoints demand this; the sandbox applies it to every collection (stricter).
    if not select and found.get("$top") != "1":
        raise bad_request(SELECT_OR_TOP)
    if select == "*" and (entity_set.kind == "bulk" or not entity_set.select_star):
        # Bulk endpoints want "one or more of the resource properties" (so * is refused, UNCONFIRMED); some
        # sync reference pages forbid $select=* outright.
        raise bad_request("This endpoint does not support $select=*; select the properties you need.")


def _top(text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"\d+", text) or int(text) < 1:  # $top=0 is refused too (stricter, UNCONFIRMED)
        raise bad_request(f"Incorrect format for $top argument '{text}'.")
    return int(text)


def _selection(found: dict[str, str], entity_set: EntitySet) -> Selection:
    expand = _expand(found.get("$expand"), entity_set)
    text = found.get("$select")
    if text is None or text.strip() == "*":
        return Selection(None, expand)
    names: set[str] = set()
    nested: dict[str, set[str] | None] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise bad_request(f"Syntax error in $select at position {text.find(raw)}.")
        head, _, tail = item.partition("/")
        prop = entity_set.by_name.get(head)
        if prop is None:
            raise unknown_property(head, entity_set)
        names.add(head)
        if tail:
            if head not in expand:
                raise bad_request(f"Only properties specified in $expand can be traversed in $select query "
                                  f"options. Selected item: '{item}'.")
            _add_nested(nested, head, tail, entity_set)
    for nav, sub in nested.items():
        expand[nav] = Selection(None if sub is None else frozenset(sub))
    return Selection(frozenset(names), {k: v for k, v in expand.items() if k in names})


def _add_nested(nested: dict[str, set[str] | None], head: str, tail: str, entity_set: EntitySet) -> None:
    child = _child_set(head, entity_set)
    if tail == "*":
        nested[head] = None
        return
    if child is None or tail not in child.by_name:
        raise unknown_property(tail, child or entity_set)
    current = nested.setdefault(head, set())
    if current is not None:
        current.add(tail)


def _child_set(nav: str, entity_set: EntitySet) -> EntitySet | None:
    navigation = entity_set.navigation.get(nav)
    return HOME_SET.get(navigation.table) if navigation and navigation.table else None


def _expand(text: str | None, entity_set: EntitySet) -> dict[str, Selection]:
    if text is None or not text.strip():
        return {}
    if entity_set.kind != "normal":
        # UNCONFIRMED: the sandbox expands lines on the normal endpoints only.
        raise bad_request("$expand is not supported on bulk and sync endpoints.")
    out: dict[str, Selection] = {}
    for raw in text.split(","):
        name = raw.strip()
        prop = entity_set.by_name.get(name)
        if prop is None:
            raise unknown_property(name, entity_set)
        if not prop.is_collection:
            raise bad_request(f"Property '{name}' on type '{entity_set.type_name}' is not a navigation property.")
        out[name] = ALL
    return out


def _check_filter_rules(node: Node | None, entity_set: EntitySet) -> None:
    if entity_set.kind == "sync":
        # Sync endpoints filter on the row version only, and need it (api-reference §4.5).
        if node is None:
            raise bad_request(_mandatory_message(("Timestamp",)))
        others = sorted(node.props - {"Timestamp"})
        if others:
            raise bad_request(f"Only the Timestamp property can be used in $filter on this endpoint, "
                              f"not {', '.join(others)}.")
        if "Timestamp" not in node.props:
            raise bad_request(_mandatory_message(("Timestamp",)))
        return
    required = entity_set.mandatory_filter
    if required and (node is None or not node.props & set(required)):
        raise bad_request(_mandatory_message(required))


def _mandatory_message(fields: Iterable[str]) -> str:
    return ("A GET request for this endpoint must have a $filter parameter with one of the following fields in "
            f"the url: {', '.join(fields)}.")


def _orderby(text: str, entity_set: EntitySet) -> list[tuple[str, str, bool]]:
    out = []
    for raw in text.split(","):
        parts = raw.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] not in {"asc", "desc"}):
            raise bad_request(f"Syntax error in $orderby at position {text.find(raw)}.")
        prop = entity_set.by_name.get(parts[0])
        if prop is None:
            raise unknown_property(parts[0], entity_set)
        if prop.edm in {"Collection", "Binary"}:
            raise bad_request(f"The property '{prop.name}' cannot be used in $orderby.")
        out.append((prop.name, prop.edm, len(parts) == 2 and parts[1] == "desc"))
    return out


def _skiptoken(text: str, query: Query, entity_set: EntitySet, ignore_case: bool) -> list[tuple[str, Any]]:
    values = FilterParser(text, entity_set, ignore_case).literals()
    expected = [edm for _name, edm, _desc in query.orderby] + [p.edm for p in entity_set.keys]
    if len(values) != len(expected) or any(
        typ != "Null" and not (typ == edm or (numeric(typ) and numeric(edm)))
        for (typ, _v), edm in zip(values, expected, strict=True)
    ):
        raise bad_request(f"The skip token '{text}' is not valid for this request.")
    return values


# ----- paging ------------------------------------------------------------------------------------------------


@dataclass
class Page:
    rows: list[Row]
    next_skiptoken: str | None
    next_top: int | None
    count: int | None


@functools.total_ordering
class _Descending:
    """Inverts the order of a sort key, for ``$orderby … desc``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value


def _sort_part(value: Any, descending: bool, fold: bool) -> Any:
    # Nulls sort first ascending, as in SQL Server.
    part = (0, 0) if value is None else (1, value.casefold() if fold and isinstance(value, str) else value)
    return _Descending(part) if descending else part


def fetch_page(
    entity_set: EntitySet,
    table: Table,
    query: Query,
    ignore_case: bool,
    scope: Evaluator | None = None,
) -> Page:
    """One page of a collection: the rows, and what $skiptoken/$top the __next link carries."""
    predicate = _and_predicates(query.node.fn if query.node else None, scope)
    limit = entity_set.page_size if query.top is None else min(entity_set.page_size, query.top)
    count = sum(1 for row in table.rows.values() if predicate is None or predicate(row)) if query.inlinecount else None
    if entity_set.kind == "sync":
        after = query.skiptoken[0][1] if query.skiptoken else None
        floor = query.node.floor if query.node else None
        start = max(x for x in (after, floor, -1) if x is not None)
        source: Iterator[Row] = table.rows_after_timestamp(start)
    elif query.orderby:
        source = iter(_ordered(table.rows.values(), predicate, query, entity_set, ignore_case))
        predicate = None
    else:
        after_key = _token_key(query.skiptoken, entity_set) if query.skiptoken else None
        source = table.rows_after_key(after_key)
    rows = _take(source, predicate, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_top = None if query.top is None else query.top - len(rows)
    token = None
    if more and rows and (next_top is None or next_top > 0):
        token = _token_of(rows[-1], query, entity_set)
    return Page(rows, token, next_top, count)


def _and_predicates(first: Evaluator | None, second: Evaluator | None) -> Evaluator | None:
    if first is None or second is None:
        return first or second
    return lambda row: bool(first(row)) and bool(second(row))


def _take(source: Iterator[Row], predicate: Evaluator | None, count: int) -> list[Row]:
    out: list[Row] = []
    for row in source:
        if predicate is None or predicate(row):
            out.append(row)
            if len(out) >= count:
                break
    return out


def _ordered(
    rows: Iterable[Row], predicate: Evaluator | None, query: Query, entity_set: EntitySet, ignore_case: bool
) -> list[Row]:
    def sort_key(row: Row) -> tuple[Any, ...]:
        parts = [_sort_part(row.get(name), desc, ignore_case) for name, _edm, desc in query.orderby]
        return (*parts, entity_set.key_of(row))

    matching = sorted((r for r in rows if predicate is None or predicate(r)), key=sort_key)
    if not query.skiptoken:
        return matching
    token = [_sort_part(value, desc, ignore_case)
             for (_typ, value), (_name, _edm, desc) in zip(query.skiptoken, query.orderby, strict=False)]
    token_key = (*token, _token_key(query.skiptoken, entity_set))
    keys = [sort_key(r) for r in matching]
    return matching[bisect_right(keys, token_key):]


def _token_of(row: Row, query: Query, entity_set: EntitySet) -> str:
    parts = [_literal_text(edm, row.get(name)) for name, edm, _desc in query.orderby]
    parts += [key_literal(p.edm, row.get(p.name)) for p in entity_set.keys]
    return ",".join(parts)


def _token_key(skiptoken: list[tuple[str, Any]], entity_set: EntitySet) -> Any:
    """The key a $skiptoken ends with: its last value, or its last few for a composite key."""
    values = [value for _typ, value in skiptoken[-len(entity_set.keys):]]
    return values[0] if len(values) == 1 else tuple(values)


def _literal_text(edm: str, value: Any) -> str:
    if value is None:
        return "null"
    if edm == "Boolean":
        return "true" if value else "false"
    if edm == "DateTime":
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
        return f"datetime'{moment:%Y-%m-%dT%H:%M:%S}.{value % 1000:03d}'"
    if edm == "Double":
        return repr(float(value))
    return key_literal(edm, value)
