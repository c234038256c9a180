"""The division's VAT codes (vat/VATCodes), and the VAT Exact computes on a purchase line.

Rules and sources: docs/ap-documents.md, "VAT". A line without VATCode takes its G/L account's code; type E adds
the percentage on top of AmountFC, type I takes it out of AmountFC, B and N add none; VATAmountFC overrides what
was computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from exact_bill_pipeline.sandbox.exact_online.currency import money
from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore, Row

VAT_TYPES = {"B": "VAT 0% (Only base amount)", "E": "Excluding", "I": "Including", "N": "No VAT"}
# Exact's VAT codes are 3-character strings padded on the right, e.g. '2  ' (ossobv/exactonline issue 18).
CODE_WIDTH = 3
# Exact's Dutch words: "Een btw bedrag is niet toegestaan als u gebruikmaakt van een btw-code van het type
# "geen btw"" (bookingexperts help); the English form is UNCONFIRMED.
NO_VAT_AMOUNT = "A VAT amount is not allowed when using a VAT code of the type 'No VAT'"


def padded(code: str) -> str:
    return code.strip().ljust(CODE_WIDTH)


@dataclass(frozen=True)
class LineVat:
    """The VAT of one purchase line, in the entry's currency: the base, the VAT, and the code they came from."""

    code: Row | None
    base_fc: float
    vat_fc: float

    @property
    def percentage(self) -> float:
        return self.code["Percentage"] if self.code else 0.0

    @property
    def code_text(self) -> str | None:
        return self.code["Code"] if self.code else None

    @property
    def description(self) -> str | None:
        return self.code["Description"] if self.code else None


class VatCodes:
    """Looks up VAT codes by their (padded) code and computes a line's VAT."""

    def __init__(self, store: DivisionStore) -> None:
        self.store = store

    def get(self, code: str) -> Row | None:
        return next(iter(self.store.find("VATCodes", "Code", padded(code))), None)

    def line_code(self, line: Row, gl: Row | None) -> str | None:
        """The line's own VATCode, else the default VAT code of its G/L account (PurchaseEntryLines reference)."""
        code = line.get("VATCode")
        if code is None and gl is not None:
            code = gl.get("VATCode")
        return code if code and code.strip() else None

    def compute(self, code: Row | None, amount_fc: float, given_vat: float | None) -> LineVat:
        kind = code["Type"] if code else "N"
        if kind in ("N", "B") and given_vat is None:
            return LineVat(code, money(amount_fc), 0.0)
        if kind == "I":
            vat = given_vat if given_vat is not None else _included(amount_fc, code["Percentage"])
            return LineVat(code, money(amount_fc - vat), money(vat))
        vat = given_vat if given_vat is not None else amount_fc * (code["Percentage"] if code else 0.0)
        return LineVat(code, money(amount_fc), money(vat))


def _included(gross: float, percentage: float) -> float:
    return money(gross * percentage / (1 + percentage))


def add_vat_code(store: DivisionStore, values: Row, at_ms: int | None = None) -> Row:
    """Stores a VAT code; its accounts are given by ID and their codes and descriptions filled in."""
    row = {**values, "Code": padded(values["Code"]), "IsBlocked": bool(values.get("IsBlocked")),
           "VATTransactionType": values.get("VATTransactionType", "B"), "Charged": False, "IntraStat": False}
    for name in ("GLToClaim", "GLToPay"):
        gl = store.get("GLAccounts", values.get(name))
        row[f"{name}Code"] = gl and gl["Code"]
        row[f"{name}Description"] = gl and gl["Description"]
    return store.insert("VATCodes", row, at_ms)
