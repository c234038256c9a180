"""Validating one POST: every problem is collected and the whole POST fails with one 500, one problem per line.

Exact's words are the UI's ("Relationship" = account/supplier, "Diary" = journal). Known real wordings: "Mandatory:
Relationship", "Invalid reference: Cost unit", "Mandatory: Diary", "Invalid journal. The journal must be a cash
journal."; the AP-document ones are sourced in docs/ap-documents.md. The others follow the same patterns
(UNCONFIRMED).
"""

from __future__ import annotations

from dataclasses import dataclass

from exact_bill_pipeline.sandbox.exact_online.closing import PeriodLocks, closed_message
from exact_bill_pipeline.sandbox.exact_online.currency import RATE_MISSING, Currencies, journal_currency
from exact_bill_pipeline.sandbox.exact_online.edm import iso_date, start_of_day_ms
from exact_bill_pipeline.sandbox.exact_online.entities import EntitySet
from exact_bill_pipeline.sandbox.exact_online.errors import ValidationFailed
from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore, Row
from exact_bill_pipeline.sandbox.exact_online.vat import NO_VAT_AMOUNT, VatCodes

# The sandbox division's own small table (UNCONFIRMED contents; Exact validates the reference).
PAYMENT_CONDITIONS = {"00": (0, "Direct"), "15": (15, "15 days"), "30": (30, "30 days"),
                      "45": (45, "45 days"), "60": (60, "60 days")}
# References the sandbox can check; any other Guid reference on a POST points at records it does not keep.
KEPT_REFERENCES = frozenset({"Supplier", "GLAccount", "Account", "GLAP", "GLAccountPurchase", "GLAccountSales",
                             "EntryID"})


@dataclass
class LineRefs:
    """The records one entry line points at, once they passed validation."""

    gl: Row | None
    cost_center: Row | None
    cost_unit: Row | None
    account: Row | None = None
    vat_code: Row | None = None


@dataclass(frozen=True)
class Rules:
    """What a Checker checks against besides the tables: currencies, closed periods, VAT codes."""

    currencies: Currencies
    locks: PeriodLocks
    vat: VatCodes


class Checker:
    """Collects the validation problems of one POST."""

    def __init__(self, store: DivisionStore, rules: Rules) -> None:
        self.store = store
        self.rules = rules
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def fail_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)

    # ----- header references ---------------------------------------------------------------------------------
    def journal(self, code: str | None, journal_type: int, kind: str) -> Row | None:
        if not code:
            self.add("Mandatory: Diary")
            return None
        journal = self.store.journal(code)
        if journal is None:
            self.add("Invalid reference: Diary")
        elif journal["Type"] != journal_type:
            self.add(f"Invalid journal. The journal must be a {kind} journal.")
        elif journal.get("IsBlocked"):
            self.add(f"Diary is blocked: {code}")
        else:
            return journal
        return None

    def relationship(self, key: str | None, mandatory: bool, supplier: bool = False) -> Row | None:
        if key is None:
            if mandatory:
                self.add("Mandatory: Relationship")
            return None
        account = self.store.get("Accounts", key)
        if account is None:
            self.add("Invalid reference: Relationship")
            return None
        code = account["Code"].strip()
        if account.get("Blocked"):
            self.add(f"Relationship is blocked: {code}")
        elif supplier and not account.get("IsSupplier"):
            self.add(f"Relationship is not a supplier: {code}")
        else:
            return account
        return None

    def payment_condition(self, code: str | None) -> None:
        if code is not None and code not in PAYMENT_CONDITIONS:
            self.add("Invalid reference: Payment condition")

    # ----- periods -------------------------------------------------------------------------------------------
    def period_of_date(self, on_ms: int) -> Row | None:
        period = self.store.period_of(on_ms)
        if period is None:
            self.add(f"Financial period not found for date: {iso_date(on_ms)}")
        return period

    def period(self, year: int | None, number: int | None, year_word: str, period_word: str) -> Row | None:
        if year is None or number is None:
            self.add(f"Mandatory: {year_word if year is None else period_word}")
            return None
        period = self.store.period(year, number)
        if period is None:
            self.add(f"Financial period not found: {year}/{number:02d}")
        return period

    def open_period(self, journal: Row | None, period: Row | None) -> None:
        if journal is not None and period is not None and self.rules.locks.is_closed(journal["Code"], period):
            self.add(closed_message(period))

    # ----- currency ------------------------------------------------------------------------------------------
    def currency(self, code: str | None) -> None:
        if code is not None and not self.rules.currencies.known(code):
            self.add("Invalid reference: Currency")

    def entry_currency(self, code: str | None, journal: Row | None) -> str:
        """The entry's currency: the one sent, else the journal's (UNCONFIRMED; stricter than the supplier's)."""
        base = self.rules.currencies.base
        currency = code or journal_currency(journal, base)
        if not self.rules.currencies.known(currency):
            self.add("Invalid reference: Currency")
            return base
        if journal is not None and currency != journal_currency(journal, base) \
                and not journal.get("AllowVariableCurrency"):
            # "If AllowVariableCurrency is false this is the only currency that can be used" (Journals reference);
            # the wording is UNCONFIRMED, in the pattern of Exact's "Not allowed: VAT code".
            self.add("Not allowed: Currency")
        return currency

    def rate(self, currency: str, journal: Row | None, given: float | None, name: str, on_ms: int) -> float:
        """The rate to the division's currency: the one sent, else the rate table's of that day."""
        if currency == self.rules.currencies.base:
            if given is not None and given != 1.0:
                # UNCONFIRMED what Exact does with a rate on an entry in its own currency; refused (stricter).
                self.add(f"Invalid value: {name}")
            return 1.0
        variable = bool(journal and journal.get("AllowVariableExchangeRate"))
        if given is not None:
            if given <= 0:
                self.add(RATE_MISSING)
                return 1.0
            if not variable:
                # UNCONFIRMED: a rate sent to a journal whose exchange rate may not be changed; refused (stricter).
                self.add("Not allowed: Exchange rate")
            return given
        # With a variable exchange rate Exact wants the rate sent (an integrator's guide shows the refusal).
        table_rate = None if variable else self.rules.currencies.rate_on(currency, on_ms)
        if table_rate is None:
            self.add(RATE_MISSING)
            return 1.0
        return table_rate

    # ----- lines ---------------------------------------------------------------------------------------------
    def gl_account(self, key: str | None) -> Row | None:
        if key is None:
            self.add("Mandatory: G/L account")
            return None
        gl = self.store.get("GLAccounts", key)
        if gl is None:
            self.add("Invalid reference: G/L account")
            return None
        if gl.get("IsBlocked"):
            self.add(f"G/L account is blocked: {gl['Code']}")
            return None
        return gl

    def cost_center(self, code: str | None, gl: Row | None, on_ms: int) -> Row | None:
        return self._dimension("Costcenters", "Cost center", code, gl and gl.get("UseCostcenter"), gl, on_ms)

    def cost_unit(self, code: str | None, gl: Row | None, on_ms: int) -> Row | None:
        return self._dimension("Costunits", "Cost unit", code, gl and gl.get("UseCostunit"), gl, on_ms)

    def _dimension(
        self, table: str, word: str, code: str | None, use: int | None, gl: Row | None, on_ms: int
    ) -> Row | None:
        # UseCostcenter / UseCostunit: 0 optional, 1 mandatory, 2 not allowed (api-reference §5.1).
        if not code:
            if use == 1:
                self.add(f"Mandatory: {word}")
            return None
        row = next(iter(self.store.find(table, "Code", code)), None)
        # UNCONFIRMED whether Exact checks the end date against the entry's date or today; the sandbox refuses a cost
        # center or unit that has ended by either (stricter).
        ended_by = max(on_ms, start_of_day_ms(self.store.clock.now_ms()))
        if row is None:
            self.add(f"Invalid reference: {word}")
        elif row.get("EndDate") is not None and row["EndDate"] <= ended_by:
            self.add(f"{word} is no longer active: {code}")
        elif use == 2 and gl is not None:
            self.add(f"{word} is not allowed on G/L account: {gl['Code']}")
        else:
            return row
        return None

    def purchase_vat(self, line: Row, gl: Row | None) -> Row | None:
        """The VAT code of a purchase line: its own, else its G/L account's (PurchaseEntryLines reference)."""
        text = self.rules.vat.line_code(line, gl)
        code = None if text is None else self.rules.vat.get(text)
        if text is not None and code is None:
            self.add("Invalid reference: VAT code")
            return None
        if code is not None and code.get("IsBlocked"):
            self.add(f"VAT code is blocked: {text.strip()}")  # wording UNCONFIRMED
        if line.get("VATAmountFC") and (code is None or code["Type"] == "N"):
            self.add(NO_VAT_AMOUNT)
        return code

    def journal_vat(self, line: Row, journal: Row | None) -> None:
        """VAT on a bank or general journal line needs a journal with VAT (GeneralJournalEntryLines reference)."""
        code = line.get("VATCode")
        if code is None and not line.get("AmountVATFC"):
            return
        if code is not None and self.rules.vat.get(code) is None:
            self.add("Invalid reference: VAT code")
        elif not (journal or {}).get("AllowVAT"):
            # "VATCode can only be used if the general journal has VAT enabled"; Exact's Dutch words are "Niet
            # toegestaan: Btw-code" (bookingexperts help). The sandbox's journals have no VAT.
            self.add("Not allowed: VAT code")

    # ----- keys and references the sandbox does not keep -----------------------------------------------------
    def client_keys(self, values: Row, keys: dict[str, str | None], allowed: bool) -> None:
        """Keys the client sent, by name and the table where they must not exist yet (None: not checked)."""
        # UNCONFIRMED whether Exact keeps a key the client sends; refused by default (setting
        # accept_client_entry_id), so a client cannot rely on choosing its own EntryID.
        for name, table in keys.items():
            value = values.get(name)
            if value is None:
                continue
            if not allowed:
                self.add(f"Invalid value: {name} is assigned by Exact Online and cannot be supplied")
            elif table is not None and self.store.get(table, value) is not None:
                self.add(f"Invalid value: {name} already exists: {value}")

    def unkept_references(self, values: Row, entity_set: EntitySet) -> None:
        # UNCONFIRMED wording: the sandbox keeps no projects, assets, documents…, so any such reference is invalid.
        for name, value in values.items():
            prop = entity_set.by_name.get(name)
            if value is not None and prop is not None and prop.edm == "Guid" and not prop.key \
                    and name not in KEPT_REFERENCES:
                self.add(f"Invalid reference: {name}")
