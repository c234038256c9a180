"""Matching a BILL vendor to an Exact supplier: by tax ID, then normalized name, then e-mail; never guessed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from exact_bill_pipeline.domain.names import normalize_email, normalize_name, normalize_tax_id

Method = Literal["tax_id", "name", "email", "override"]
# "created" is never returned by matching: it records that the pipeline created the supplier itself.
Outcome = Literal["matched", "ambiguous", "blocked", "none", "created"]


@dataclass(frozen=True)
class SupplierFacts:
    id: str
    name: str
    tax_id: str | None = None
    email: str | None = None
    blocked: bool = False


@dataclass(frozen=True)
class VendorFacts:
    id: str
    name: str
    tax_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class VendorMatch:
    """How one vendor was (or was not) matched, with what was tried, for the audit trail."""

    vendor_id: str
    outcome: Outcome
    method: Method | None = None
    supplier_id: str | None = None
    candidates: tuple[str, ...] = ()
    tried: dict[str, str] = field(default_factory=dict)

    def explain(self) -> str:
        tried = ", ".join(f"{k} {v!r}" for k, v in self.tried.items()) or "nothing to match on"
        if self.outcome == "matched":
            return f"matched by {self.method} ({tried})"
        if self.outcome == "ambiguous":
            return (f"{len(self.candidates)} Exact suppliers match by {self.method} ({tried}); choose one with "
                    f"`exact-bill mapping vendor {self.vendor_id} SUPPLIER_ID`")
        if self.outcome == "blocked":
            return f"the only Exact supplier matching by {self.method} is blocked ({tried})"
        return f"no Exact supplier matches ({tried})"


_RULES: tuple[tuple[Method, Callable[[str | None], str]], ...] = (
    ("tax_id", normalize_tax_id),
    ("name", normalize_name),
    ("email", normalize_email),
)


class SupplierIndex:
    """Exact suppliers indexed by each matching rule's normalized key."""

    def __init__(self, suppliers: Iterable[SupplierFacts]) -> None:
        self._by: dict[Method, dict[str, list[SupplierFacts]]] = {method: defaultdict(list) for method, _ in _RULES}
        for supplier in suppliers:
            self.add(supplier)

    def add(self, supplier: SupplierFacts) -> None:
        for method, normalize in _RULES:
            key = normalize(_attribute(supplier, method))
            if key:
                self._by[method][key].append(supplier)

    def match(self, vendor: VendorFacts) -> VendorMatch:
        """The first rule that finds anything decides: one active supplier matches, several are ambiguous."""
        tried: dict[str, str] = {}
        for method, normalize in _RULES:
            key = normalize(_attribute(vendor, method))
            if not key:
                continue
            tried[method] = key
            hits = self._by[method].get(key, [])
            if not hits:
                continue
            ids = tuple(sorted({s.id for s in hits}))
            active = [s for s in hits if not s.blocked]
            if len({s.id for s in active}) == 1:
                return VendorMatch(vendor.id, "matched", method, active[0].id, ids, tried)
            if not active:
                return VendorMatch(vendor.id, "blocked", method, None, ids, tried)
            return VendorMatch(vendor.id, "ambiguous", method, None, ids, tried)
        return VendorMatch(vendor.id, "none", None, None, (), tried)


def _attribute(facts: SupplierFacts | VendorFacts, method: Method) -> str | None:
    return {"tax_id": facts.tax_id, "name": facts.name, "email": facts.email}[method]
