"""Which VAT code a purchase line carries and what it sends, so Exact's entry totals what BILL says (pure).

Exact gives a purchase line without ``VATCode`` its G/L account's own code, and works the VAT out itself: type E
adds it on top of ``AmountFC``, type I takes it out, B and N add none; ``VATAmountFC`` overrides what it would
compute (docs/ap-documents.md, "VAT"). So the connector never leaves the code out when the account has one: it
sends the code the rule names and the VAT amount it worked out, and the entry's total is known to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
NO_VAT = "none"  # a rule's code meaning that no VAT applies to the account
ADDS_VAT = frozenset({"E", "I"})


@dataclass(frozen=True)
class VatCode:
    """An Exact VAT code as read from vat/VATCodes (codes are compared without their padding)."""

    code: str
    type: str  # B = 0 % (base only), E = excluding, I = including, N = no VAT
    percentage: Decimal  # a fraction: 0.21 is 21 %
    claim_gl_code: str | None = None  # where Exact books the VAT to claim
    blocked: bool = False
    description: str | None = None


@dataclass(frozen=True)
class VatRule:
    """What applies to one G/L account: a VAT code (or ``none``), and whether BILL's amounts include the VAT."""

    code: str | None  # None: the G/L account's own code in Exact; NO_VAT: no VAT
    amounts_include_vat: bool = True


@dataclass(frozen=True)
class LineVat:
    """What one purchase line sends (``amount`` as AmountFC, the code and VAT amount) and what Exact books."""

    amount: Decimal
    code: str | None
    vat: Decimal
    base: Decimal
    claim_gl_code: str | None = None

    @property
    def total(self) -> Decimal:
        return self.base + self.vat


class VatProblem(ValueError):
    """The rule names a VAT code Exact does not have (or has blocked), or no code expresses it."""


@dataclass(frozen=True)
class VatBook:
    """The VAT rules per Exact G/L account code, the default rule, and the division's VAT codes."""

    rules: Mapping[str, VatRule] = field(default_factory=dict)
    default: VatRule = VatRule(None)
    codes: Mapping[str, VatCode] = field(default_factory=dict)

    def rule_for(self, gl_code: str) -> VatRule:
        return self.rules.get(gl_code.strip(), self.default)

    def line(self, amount: Decimal, *, gl_code: str, gl_vat_code: str | None) -> LineVat:
        """The VAT of a line of ``amount`` (as BILL states it) on a G/L account whose own code is ``gl_vat_code``."""
        rule = self.rule_for(gl_code)
        wanted = (rule.code or gl_vat_code or "").strip()
        if wanted == NO_VAT or not wanted:
            return self._without_vat(amount, gl_vat_code)
        code = self.codes.get(wanted)
        if code is None:
            raise VatProblem(f"VAT code {wanted!r} (for G/L account {gl_code}) is not among Exact's VAT codes")
        if code.blocked:
            raise VatProblem(f"VAT code {wanted!r} (for G/L account {gl_code}) is blocked in Exact")
        if code.type not in ADDS_VAT:
            return LineVat(amount, code.code, Decimal(0), amount)
        rate = code.percentage
        if rule.amounts_include_vat:
            vat = _cents(amount * rate / (1 + rate))
            sent = amount if code.type == "I" else amount - vat
            return LineVat(sent, code.code, vat, amount - vat, code.claim_gl_code)
        vat = _cents(amount * rate)
        sent = amount + vat if code.type == "I" else amount
        return LineVat(sent, code.code, vat, amount, code.claim_gl_code)

    def _without_vat(self, amount: Decimal, gl_vat_code: str | None) -> LineVat:
        """No VAT: nothing to send when the account has no code of its own, else a code of type N or B."""
        own = self.codes.get((gl_vat_code or "").strip())
        if not (gl_vat_code or "").strip() or (own is not None and own.type not in ADDS_VAT):
            return LineVat(amount, None, Decimal(0), amount)
        none = next((c for c in self.codes.values() if c.type == "N" and not c.blocked), None)
        if none is None:
            raise VatProblem(f"the G/L account's own VAT code {gl_vat_code.strip()!r} would add VAT, and Exact has "
                             f"no VAT code of type N (no VAT) to send instead")
        return LineVat(amount, none.code, Decimal(0), amount)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
