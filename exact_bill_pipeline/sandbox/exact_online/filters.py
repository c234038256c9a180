"""Exact's OData v2 $filter: a recursive-descent parser that type-checks and compiles it to a row predicate.

Error texts follow WCF Data Services, which Exact's REST API is built on (e.g. "Operator 'eq' incompatible with
operand types 'System.Guid' and 'System.String' at position 3.").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from exact_bill_pipeline.sandbox.exact_online.edm import INTEGER_RANGES, NUMBER_TYPES, is_guid, system_type_name
from exact_bill_pipeline.sandbox.exact_online.entities import EntitySet
from exact_bill_pipeline.sandbox.exact_online.errors import bad_request
from exact_bill_pipeline.sandbox.exact_online.store import Row

Evaluator = Callable[[Row], Any]

COMPARISONS = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge,
               "lt": operator.lt, "le": operator.le}
ARITHMETIC = frozenset({"add", "sub", "mul", "div", "mod"})
TYPED_LITERALS = frozenset({"guid", "datetime", "datetimeoffset", "time", "binary", "x"})
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?([LlMmDdFf])?")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*")
DATETIME_LITERAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?")
EQUALITY_ONLY = frozenset({"Guid", "Boolean"})


@dataclass(frozen=True)
class Token:
    kind: str  # ( ) , string guid datetime number ident end
    text: str
    pos: int
    value: Any = None


@dataclass(frozen=True)
class Node:
    """A typed, compiled part of a $filter."""

    typ: str
    fn: Evaluator
    props: frozenset[str] = frozenset()
    literal: bool = False
    # A lower bound on Timestamp implied by the expression (``Timestamp gt 123L``), to start sync scans there.
    floor: int | None = None


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            out.append(Token(char, char, i))
            i += 1
        elif char == "'":
            value, end = _quoted(text, i)
            out.append(Token("string", text[i:end], i, value))
            i = end
        elif char.isdigit() or (char == "-" and i + 1 < len(text) and text[i + 1].isdigit()):
            match = NUMBER.match(text, i)
            assert match is not None
            out.append(Token("number", match.group(0), i))
            i = match.end()
        elif char.isalpha() or char == "_":
            match = IDENTIFIER.match(text, i)
            assert match is not None
            word, end = match.group(0), match.end()
            if word.lower() in TYPED_LITERALS and end < len(text) and text[end] == "'":
                value, end = _quoted(text, end)
                out.append(Token(word.lower(), text[i:end], i, value))
            else:
                out.append(Token("ident", word, i))
            i = end
        else:
            raise bad_request(f"Syntax error '{char}' at position {i}.")
    out.append(Token("end", "", len(text)))
    return out


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The value of the '…' literal at ``start`` ('' is an escaped quote) and the position after it."""
    i = start + 1
    chars = []
    while i < len(text):
        if text[i] == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                chars.append("'")
                i += 2
                continue
            return "".join(chars), i + 1
        chars.append(text[i])
        i += 1
    raise bad_request(f"Unterminated string literal at position {start} in '{text}'.")


class FilterParser:
    """A recursive-descent parser of OData v2 $filter text that compiles to a typed evaluator."""

    def __init__(self, text: str, entity_set: EntitySet, ignore_case: bool) -> None:
        self.text = text
        self.entity_set = entity_set
        self.ignore_case = ignore_case
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _at_word(self, *words: str) -> bool:
        return self.token.kind == "ident" and self.token.text in words

    def parse(self) -> Node:
        node = self._or()
        if self.token.kind != "end":
            raise bad_request(f"Syntax error at position {self.token.pos}.")
        if node.typ != "Boolean":
            raise bad_request("Expression of type 'System.Boolean' expected at position 0.")
        return node

    def _or(self) -> Node:
        left = self._and()
        while self._at_word("or"):
            pos = self._advance().pos
            left = _logical("or", left, self._and(), pos)
        return left

    def _and(self) -> Node:
        left = self._comparison()
        while self._at_word("and"):
            pos = self._advance().pos
            left = _logical("and", left, self._comparison(), pos)
        return left

    def _comparison(self) -> Node:
        left = self._unary()
        if self._at_word(*ARITHMETIC):
            # UNCONFIRMED whether Exact evaluates arithmetic in $filter; the sandbox does not.
            raise bad_request(f"Operator '{self.token.text}' is not supported at position {self.token.pos}.")
        if not self._at_word(*COMPARISONS):
            return left
        op_token = self._advance()
        right = self._unary()
        return _comparison(op_token.text, left, right, op_token.pos, self.ignore_case)

    def _unary(self) -> Node:
        if self._at_word("not"):
            pos = self._advance().pos
            operand = self._unary()
            if operand.typ != "Boolean":
                raise bad_request(
                    f"Operator 'not' incompatible with operand type '{_type_name(operand.typ)}' at position {pos}."
                )
            fn = operand.fn
            return Node("Boolean", lambda row: not fn(row), operand.props)
        return self._primary()

    def _primary(self) -> Node:
        token = self.token
        if token.kind == "(":
            self._advance()
            node = self._or()
            if self.token.kind != ")":
                raise bad_request(f"')' or operator expected at position {self.token.pos}.")
            self._advance()
            return node
        if token.kind == "ident":
            return self._identifier()
        if token.kind in {"string", "number", "guid", "datetime"} or token.kind in TYPED_LITERALS:
            self._advance()
            typ, value = literal(token)
            return Node(typ, lambda _row: value, literal=True)
        raise bad_request(f"Expression expected at position {token.pos}.")

    def _identifier(self) -> Node:
        token = self._advance()
        word = token.text
        if word in {"true", "false"}:
            value = word == "true"
            return Node("Boolean", lambda _row: value, literal=True)
        if word == "null":
            return Node("Null", lambda _row: None, literal=True)
        if self.token.kind == "(":
            return self._function(token)
        return self._property(token)

    def _property(self, token: Token) -> Node:
        if "/" in token.text:
            raise bad_request(f"Filtering on navigation properties is not supported: '{token.text}'.")
        prop = self.entity_set.by_name.get(token.text)
        if prop is None:
            raise unknown_property(token.text, self.entity_set)
        if prop.edm in {"Collection", "Binary"}:
            raise bad_request(f"The property '{prop.name}' cannot be used in $filter (position {token.pos}).")
        name = prop.name
        return Node(prop.edm, lambda row: row.get(name), frozenset({name}))

    def _function(self, token: Token) -> Node:
        name = token.text
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise bad_request(f"Unknown function '{name}' at position {token.pos}.")
        self._advance()  # (
        args: list[Node] = []
        if self.token.kind != ")":
            args.append(self._or())
            while self.token.kind == ",":
                self._advance()
                args.append(self._or())
        if self.token.kind != ")":
            raise bad_request(f"')' or ',' expected at position {self.token.pos}.")
        self._advance()
        return spec.apply(name, args, self.ignore_case)

    def literals(self) -> list[tuple[str, Any]]:
        """A comma-separated list of literals, as in a $skiptoken."""
        values = []
        while True:
            token = self._advance()
            if token.kind == "ident" and token.text in {"true", "false", "null"}:
                values.append(("Null", None) if token.text == "null" else ("Boolean", token.text == "true"))
            elif token.kind in {"string", "number", "guid", "datetime"}:
                values.append(literal(token))
            else:
                raise bad_request(f"Syntax error at position {token.pos}.")
            if self.token.kind == "end":
                return values
            if self._advance().kind != ",":
                raise bad_request(f"Syntax error at position {self.tokens[self.index - 1].pos}.")


def literal(token: Token) -> tuple[str, Any]:
    """(type, stored value) of a literal token."""
    if token.kind == "string":
        return "String", token.value
    if token.kind == "guid":
        if not is_guid(token.value):
            raise bad_request(f"Unrecognized 'Edm.Guid' literal '{token.text}' at position {token.pos}.")
        return "Guid", token.value.lower()
    if token.kind == "datetime":
        if not DATETIME_LITERAL.fullmatch(token.value):
            raise bad_request(f"Unrecognized 'Edm.DateTime' literal '{token.text}' at position {token.pos}.")
        moment = datetime.fromisoformat(token.value).replace(tzinfo=UTC)
        return "DateTime", int(moment.timestamp() * 1000)
    if token.kind == "number":
        return _number(token)
    raise bad_request(f"Literals of type '{token.kind}' are not supported at position {token.pos}.")


def _number(token: Token) -> tuple[str, Any]:
    text = token.text
    suffix = text[-1].upper() if text[-1].isalpha() else ""
    digits = text[:-1] if suffix else text
    if suffix == "L":
        if not re.fullmatch(r"-?\d+", digits):
            raise bad_request(f"Unrecognized 'Edm.Int64' literal '{text}' at position {token.pos}.")
        return "Int64", int(digits)
    if suffix in {"M", "D", "F"} or "." in digits or "e" in digits.lower():
        return ("Decimal" if suffix == "M" else "Double"), float(digits)
    value = int(digits)
    low, high = INTEGER_RANGES["Int32"]
    return ("Int32" if low <= value <= high else "Int64"), value


def unknown_property(name: str, entity_set: EntitySet) -> Exception:
    return bad_request(f"Could not find a property named '{name}' on type '{entity_set.type_name}'.")


def _type_name(typ: str) -> str:
    return "null" if typ == "Null" else system_type_name(typ)


def numeric(typ: str) -> bool:
    return typ in NUMBER_TYPES or typ == "Decimal"


def _comparable(op: str, left: str, right: str) -> bool:
    if "Null" in (left, right):
        return op in {"eq", "ne"} and left not in {"Collection", "Binary"} and right not in {"Collection", "Binary"}
    if numeric(left) and numeric(right):
        return True
    if left != right:
        return False
    return op in {"eq", "ne"} if left in EQUALITY_ONLY else True


def _comparison(op: str, left: Node, right: Node, pos: int, ignore_case: bool) -> Node:
    if not _comparable(op, left.typ, right.typ):
        raise bad_request(
            f"Operator '{op}' incompatible with operand types '{_type_name(left.typ)}' and "
            f"'{_type_name(right.typ)}' at position {pos}."
        )
    compare = COMPARISONS[op]
    fold = ignore_case and left.typ == "String" and right.typ == "String"
    lf, rf = left.fn, right.fn

    def evaluate(row: Row) -> bool:
        a, b = lf(row), rf(row)
        if a is None or b is None:
            if op == "eq":
                return a is None and b is None
            return op == "ne" and not (a is None and b is None)
        if fold:
            a, b = a.casefold(), b.casefold()
        return compare(a, b)

    return Node("Boolean", evaluate, left.props | right.props, floor=_timestamp_floor(op, left, right))


def _timestamp_floor(op: str, left: Node, right: Node) -> int | None:
    if left.props == {"Timestamp"} and not left.literal and right.literal and op in {"gt", "ge"}:
        value = right.fn({})
        if isinstance(value, int):
            return value if op == "gt" else value - 1
    return None


def _logical(op: str, left: Node, right: Node, pos: int) -> Node:
    if left.typ != "Boolean" or right.typ != "Boolean":
        raise bad_request(
            f"Operator '{op}' incompatible with operand types '{_type_name(left.typ)}' and "
            f"'{_type_name(right.typ)}' at position {pos}."
        )
    lf, rf = left.fn, right.fn
    props = left.props | right.props
    if op == "and":
        floors = [x for x in (left.floor, right.floor) if x is not None]
        return Node("Boolean", lambda row: bool(lf(row)) and bool(rf(row)), props,
                    floor=max(floors) if floors else None)
    return Node("Boolean", lambda row: bool(lf(row)) or bool(rf(row)), props)


@dataclass(frozen=True)
class Function:
    """A $filter function: argument types, result type, and what it computes on non-null arguments."""

    args: tuple[str, ...]
    result: str
    compute: Callable[..., Any]
    folds: bool = False  # compares text, so it follows the case rule

    def apply(self, name: str, args: list[Node], ignore_case: bool) -> Node:
        if len(args) != len(self.args) or any(a.typ not in {t, "Null"} for a, t in zip(args, self.args, strict=False)):
            signature = f"{name}({', '.join(self.args)})"
            raise bad_request(
                f"No function signature for the function with name '{name}' matches the specified arguments. "
                f"The function signatures considered are: {signature}."
            )
        fns = [a.fn for a in args]
        compute = self.compute
        fold = self.folds and ignore_case

        def evaluate(row: Row) -> Any:
            values = [fn(row) for fn in fns]
            if any(v is None for v in values):
                return None
            if fold:
                values = [v.casefold() for v in values]
            return compute(*values)

        props = frozenset().union(*(a.props for a in args))
        return Node(self.result, evaluate, props)


FUNCTIONS: dict[str, Function] = {
    "substringof": Function(("String", "String"), "Boolean", lambda needle, hay: needle in hay, folds=True),
    "startswith": Function(("String", "String"), "Boolean", lambda text, start: text.startswith(start), folds=True),
    "endswith": Function(("String", "String"), "Boolean", lambda text, end: text.endswith(end), folds=True),
    "indexof": Function(("String", "String"), "Int32", lambda text, part: text.find(part), folds=True),
    "trim": Function(("String",), "String", str.strip),
    "tolower": Function(("String",), "String", str.lower),
    "toupper": Function(("String",), "String", str.upper),
    "length": Function(("String",), "Int32", len),
    "concat": Function(("String", "String"), "String", operator.add),
    "year": Function(("DateTime",), "Int32", lambda ms: datetime.fromtimestamp(ms / 1000, tz=UTC).year),
    "month": Function(("DateTime",), "Int32", lambda ms: datetime.fromtimestamp(ms / 1000, tz=UTC).month),
    "day": Function(("DateTime",), "Int32", lambda ms: datetime.fromtimestamp(ms / 1000, tz=UTC).day),
}


def parse_filter(text: str, entity_set: EntitySet, ignore_case: bool) -> Node:
    if not text.strip():
        raise bad_request("Expression expected at position 0.")
    return FilterParser(text, entity_set, ignore_case).parse()
