"""Fault switches: rules that make the next matching API requests fail the way real services fail."""

from __future__ import annotations

import itertools
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["error", "delay", "slow_response", "slow_commit", "drop_response", "rate_limit"]
FAULT_KINDS: tuple[str, ...] = ("error", "delay", "slow_response", "slow_commit", "drop_response", "rate_limit")


class FaultSpecError(ValueError):
    """A fault rule sent to the control surface is malformed."""


@dataclass
class FaultRule:
    """One switch.

    - ``error``: answer ``status`` (default 503) without processing the request, with a ``Reason`` header
      when ``reason`` is given (Exact's 403s name why: ``DivisionBlocked``, ``LicenseExpired`` ...).
    - ``delay``: wait ``seconds`` before processing (a timeout that committed nothing).
    - ``slow_response``: process the request, then wait ``seconds`` before answering (committed,
      but the client may time out).
    - ``slow_commit``: take the request in full, then process it ``seconds`` later whether or not the client
      is still waiting (a server still working on a write its client gave up on: a look-up made before
      then finds nothing, one made after finds the record).
    - ``drop_response``: process the request, then cut the connection mid-response (committed,
      response lost).
    - ``rate_limit``: answer with the service's own 429 (a 429 storm when ``count`` is large).
    """

    kind: FaultKind
    path: str = ""
    method: str | None = None
    count: int | None = 1
    status: int = 503
    seconds: float = 0.0
    skip: int = 0  # matching requests let through before the rule starts to fire
    reason: str | None = None
    # The share of matching requests the rule fires on (a 5 % error rate is 0.05); drawn from a seeded
    # generator, so a campaign of faults repeats exactly.
    probability: float = 1.0
    id: int = 0
    hits: int = 0
    _pattern: re.Pattern[str] = field(default=re.compile(""), repr=False, compare=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return bool(self._pattern.search(path))

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern")
        return data


def parse_fault(spec: dict[str, Any]) -> FaultRule:
    """Builds a rule from the JSON the control surface receives, refusing anything unclear."""
    if not isinstance(spec, dict):
        raise FaultSpecError("a fault must be a JSON object")
    unknown = set(spec) - {"kind", "path", "method", "count", "status", "seconds", "skip", "reason", "probability"}
    if unknown:
        raise FaultSpecError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
    path = spec.get("path", "")
    try:
        pattern = re.compile(path)
    except (re.error, TypeError) as exc:
        raise FaultSpecError(f"fault path must be a regular expression: {exc}") from exc
    count = spec.get("count", 1)
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FaultSpecError("fault count must be a positive integer, or null for 'until cleared'")
    status = spec.get("status", 503)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise FaultSpecError("fault status must be an HTTP error status (400-599)")
    seconds = spec.get("seconds", 0.0)
    if not isinstance(seconds, int | float) or seconds < 0:
        raise FaultSpecError("fault seconds must be a non-negative number")
    skip = spec.get("skip", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise FaultSpecError("fault skip must be a non-negative integer")
    method = spec.get("method")
    if method is not None and not isinstance(method, str):
        raise FaultSpecError("fault method must be a string such as 'POST'")
    probability = spec.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 < probability <= 1:
        raise FaultSpecError("fault probability must be a number above 0 and at most 1")
    reason = spec.get("reason")
    if reason is not None and (not isinstance(reason, str) or not reason.isalnum()):
        raise FaultSpecError("fault reason must be a word such as 'DivisionBlocked'")
    return FaultRule(
        kind=kind, path=path, method=method, count=count, status=status, seconds=float(seconds), skip=skip,
        reason=reason, probability=float(probability), _pattern=pattern
    )


class FaultBook:
    """The active fault rules of one sandbox; the first matching rule fires and uses up one count."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    if rule.skip:
                        rule.skip -= 1
                        continue
                    if rule.probability < 1 and self._random.random() >= rule.probability:
                        continue
                    rule.hits += 1
                    if rule.count is not None:
                        rule.count -= 1
                        if rule.count == 0:
                            self._rules.remove(rule)
                    return rule
        return None
