"""The division's currencies: its base currency, the exchange rates it keeps, and the rate an entry is booked at.

Rules and sources: docs/ap-documents.md, "Currency". AmountDC = AmountFC * rate, the direction of
cashflow/Payments.RateFC ("AmountFC * RateFC = AmountDC").
"""

from __future__ import annotations

from dataclasses import dataclass

from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore, Row

# Descriptions of the currencies the sandbox knows by name; any other code is shown as itself.
CURRENCY_NAMES = {"USD": "US Dollar", "EUR": "Euro", "GBP": "Pound Sterling", "CAD": "Canadian Dollar",
                  "JPY": "Japanese Yen", "CHF": "Swiss Franc"}
# An integrator's guide gives Exact's Dutch words, "Wisselkoers - Moet groter zijn dan: 0"; the English form is
# UNCONFIRMED.
RATE_MISSING = "Exchange rate - Must be greater than: 0"


def money(value: float) -> float:
    return round(value + 0.0, 2)


def to_dc(amount_fc: float, rate: float) -> float:
    return money(amount_fc * rate)


@dataclass(frozen=True)
class Booking:
    """The currency an entry is booked in and its rate to the division's currency (1.0 for the base currency)."""

    currency: str
    rate: float

    def dc(self, amount_fc: float) -> float:
        return to_dc(amount_fc, self.rate)


class Currencies:
    """The base currency and financial/ExchangeRates: a currency is known when the division has a rate for it."""

    def __init__(self, store: DivisionStore, base: str) -> None:
        self.store = store
        self.base = base

    def known(self, code: str) -> bool:
        return code == self.base or bool(self.store.find("ExchangeRates", "SourceCurrency", code))

    def rate_on(self, code: str, on_ms: int) -> float | None:
        """The rate valid on that day: the latest one that started on or before it ("valid until a next rate")."""
        if code == self.base:
            return 1.0
        rates = [r for r in self.store.find("ExchangeRates", "SourceCurrency", code) if r["StartDate"] <= on_ms]
        latest = max(rates, key=lambda r: r["StartDate"], default=None)
        return None if latest is None else latest["Rate"]

    def add_rate(self, code: str, rate: float, start_ms: int, row_id: str, at_ms: int | None = None) -> Row:
        return self.store.insert("ExchangeRates", {
            "ID": row_id, "SourceCurrency": code, "SourceCurrencyDescription": CURRENCY_NAMES.get(code, code),
            "TargetCurrency": self.base, "TargetCurrencyDescription": CURRENCY_NAMES.get(self.base, self.base),
            "Rate": rate, "StartDate": start_ms,
        }, at_ms)


def journal_currency(journal: Row | None, base: str) -> str:
    return (journal or {}).get("Currency") or base
