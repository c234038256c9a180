"""Business writes: validating and booking entries with their TransactionLines, crm Accounts, deletions.

Validation collects every problem and fails with one 500 whose message has one problem per line, in Exact's
UI words ("Relationship" = account/supplier, "Diary" = journal); nothing is stored when any problem exists.
Known real wordings: "Mandatory: Relationship", "Invalid reference: Cost unit", "Mandatory: Diary",
"Invalid journal. The journal must be a cash journal." The others follow the same patterns (UNCONFIRMED).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from exact_bill_pipeline.sandbox.exact_online.edm import DAY_MS, iso_date, start_of_day_ms
from exact_bill_pipeline.sandbox.exact_online.entities import ACCOUNT_CODE_WIDTH, ENTITY_SETS, EntitySet
from exact_bill_pipeline.sandbox.exact_online.errors import ValidationFailed, not_found
from exact_bill_pipeline.sandbox.exact_online.store import ChangeEvent, DivisionStore, Row
from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings

AP_TYPE = 22
AR_TYPE = 20
PURCHASE_JOURNAL = 22
BANK_JOURNAL = 12
GENERAL_JOURNAL = 90
GL_TYPES = {
    10: "Cash", 12: "Bank", 14: "Credit card", 16: "Payment services", 20: "Accounts receivable",
    21: "Prepayment accounts receivable", 22: "Accounts payable", 24: "VAT", 25: "Employees payable",
    26: "Prepaid expenses", 27: "Accrued expenses", 29: "Income taxes payable", 30: "Fixed assets",
    32: "Other assets", 35: "Accumulated depreciation", 40: "Inventory", 50: "Capital stock",
    52: "Retained earnings", 55: "Long term debt", 60: "Current portion of debt", 90: "General",
    100: "Tax payable", 110: "Revenue", 111: "Cost of goods", 120: "Other costs",
    121: "Sales, general administrative expenses", 122: "Depreciation costs", 123: "Research and development",
    125: "Employee costs", 126: "Employment costs", 130: "Exceptional costs", 140: "Exceptional income",
    150: "Income taxes", 160: "Interest income",
}
ENTRY_STATUS = {5: "Rejected", 20: "Open", 50: "Processed"}
ENTRY_TYPES = {30: "Purchase entry", 31: "Purchase credit note", 40: "Cash flow", 90: "Other"}
# The sandbox division's own small tables (UNCONFIRMED contents; Exact validates both references).
PAYMENT_CONDITIONS = {"00": (0, "Direct"), "15": (15, "15 days"), "30": (30, "30 days"),
                      "45": (45, "45 days"), "60": (60, "60 days")}
VAT_CODES = {"0": "No VAT"}
DEFAULT_PAYMENT_DAYS = 30
# References the sandbox can check; any other Guid reference on a POST points at records it does not keep.
KEPT_REFERENCES = frozenset({"Supplier", "GLAccount", "Account", "GLAP", "GLAccountPurchase", "GLAccountSales",
                             "EntryID"})


def money(value: float) -> float:
    return round(value + 0.0, 2)


class Checker:
    """Collects the validation problems of one POST."""

    def __init__(self, store: DivisionStore, currency: str) -> None:
        self.store = store
        self.currency_code = currency
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def fail_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)

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
        # UNCONFIRMED whether Exact checks the end date against the entry's date or today; the sandbox refuses
        # a cost center or unit that has ended by either (stricter).
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

    def vat(self, line: Row) -> None:
        code = line.get("VATCode")
        if code is not None and code.strip() not in VAT_CODES:
            self.add("Invalid reference: VAT code")
        for name in ("VATAmountFC", "AmountVATFC"):
            if line.get(name):
                self.add(f"Invalid value: {name}; the VAT codes of this division have no VAT")

    def currency(self, code: str | None) -> None:
        if code is not None and code != self.currency_code:
            self.add("Invalid reference: Currency")

    def payment_condition(self, code: str | None) -> None:
        if code is not None and code not in PAYMENT_CONDITIONS:
            self.add("Invalid reference: Payment condition")

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


@dataclass
class LineRefs:
    """The records one entry line points at, once they passed validation."""

    gl: Row | None
    cost_center: Row | None
    cost_unit: Row | None
    account: Row | None = None


class Postings:
    """Creates entries, their lines and TransactionLines, and crm Accounts, in one division."""

    def __init__(self, store: DivisionStore, settings: ExactSandboxSettings, currency: str) -> None:
        self.store = store
        self.settings = settings
        self.currency = currency
        self._entry_numbers: dict[str, int] = {}
        # The last bank entry's closing balance per journal, so a posting does not scan every earlier entry.
        self._closing: dict[str, float] = {}

    def today_ms(self) -> int:
        return start_of_day_ms(self.store.clock.now_ms())

    # ----- purchase entries -------------------------------------------------------------------------------------
    def create_purchase_entry(self, values: Row, lines: list[Row]) -> Row:
        check = Checker(self.store, self.currency)
        entry_set = ENTITY_SETS["purchaseentry/PurchaseEntries"]
        check.client_keys(values, {"EntryID": "PurchaseEntries"}, self.settings.accept_client_entry_id)
        journal = check.journal(values.get("Journal"), PURCHASE_JOURNAL, "purchase")
        supplier = check.relationship(values.get("Supplier"), mandatory=True, supplier=True)
        entry_ms = start_of_day_ms(values.get("EntryDate") or self.today_ms())
        period = self._reporting_period(check, values, entry_ms)
        check.currency(values.get("Currency"))
        check.payment_condition(values.get("PaymentCondition"))
        check.unkept_references(values, entry_set)
        self._check_entry_number(check, journal, values.get("EntryNumber"))
        self._check_your_ref(check, values)
        refs = self._check_lines(check, lines, entry_ms, ENTITY_SETS["purchaseentry/PurchaseEntryLines"])
        check.fail_if_any()
        assert journal is not None
        assert supplier is not None
        assert period is not None
        entry = self.book_purchase_entry(values, lines, refs, journal, supplier, period, entry_ms)
        self.store.emit(ChangeEvent("PurchaseEntries", "Create", entry["EntryID"], entry_set.path))
        return entry

    def _reporting_period(self, check: Checker, values: Row, entry_ms: int) -> Row | None:
        if values.get("ReportingYear") is None and values.get("ReportingPeriod") is None:
            return check.period_of_date(entry_ms)
        return check.period(values.get("ReportingYear"), values.get("ReportingPeriod"),
                            "Reporting year", "Reporting period")

    def _check_entry_number(self, check: Checker, journal: Row | None, number: int | None) -> None:
        if number is None or journal is None:
            return
        for table in ("PurchaseEntries", "GeneralJournalEntries", "BankEntries"):
            for entry in self.store.find(table, "EntryNumber", number):
                if entry.get("Journal", entry.get("JournalCode")) == journal["Code"]:
                    check.add(f"Entry number already exists: {number}")
                    return

    def _check_your_ref(self, check: Checker, values: Row) -> None:
        your_ref = values.get("YourRef")
        if not self.settings.unique_your_ref or not your_ref:
            return
        for entry in self.store.find("PurchaseEntries", "YourRef", your_ref):
            if entry["Supplier"] == values.get("Supplier"):
                check.add(f"Your reference already exists for this relationship: {your_ref}")
                return

    def _check_lines(self, check: Checker, lines: list[Row], on_ms: int, line_set: EntitySet) -> list[LineRefs]:
        if not lines:
            check.add("Mandatory: Lines")
        refs = []
        for line in lines:
            check.client_keys(line, {"ID": line_set.table, "EntryID": None}, self.settings.accept_client_entry_id)
            gl = check.gl_account(line.get("GLAccount"))
            if line.get("AmountFC") is None:
                check.add("Mandatory: Amount")
            line_ms = start_of_day_ms(line.get("Date") or on_ms)
            center = check.cost_center(line.get("CostCenter"), gl, line_ms)
            unit = check.cost_unit(line.get("CostUnit"), gl, line_ms)
            check.vat(line)
            check.unkept_references(line, line_set)
            refs.append(LineRefs(gl, center, unit))
        return refs

    def book_purchase_entry(
        self, values: Row, lines: list[Row], refs: list[LineRefs], journal: Row, supplier: Row, period: Row,
        entry_ms: int, status: int = 20, at_ms: int | None = None,
    ) -> Row:
        """Stores a validated purchase entry, its lines and its TransactionLines (also used for seeding)."""
        number = self._entry_number(journal["Code"], values.get("EntryNumber"))
        total = money(sum(line["AmountFC"] for line in lines))
        condition = values.get("PaymentCondition") or supplier.get("PaymentConditionPurchase")
        days = PAYMENT_CONDITIONS.get(condition or "", (DEFAULT_PAYMENT_DAYS, ""))[0]
        entry_type = 31 if total < 0 else 30  # a negative total is a purchase credit note
        entry = {
            **{k: v for k, v in values.items() if k != "PurchaseEntryLines"},
            "EntryID": values.get("EntryID") or str(uuid.uuid4()),
            "EntryNumber": number, "InvoiceNumber": values.get("InvoiceNumber") or number,
            "Journal": journal["Code"], "JournalDescription": journal["Description"],
            "Supplier": supplier["ID"], "SupplierName": supplier["Name"], "EntryDate": entry_ms,
            "DueDate": values.get("DueDate") or entry_ms + days * DAY_MS, "Currency": self.currency,
            "Rate": values.get("Rate") or 1.0, "PaymentCondition": condition,
            "PaymentConditionDescription": PAYMENT_CONDITIONS.get(condition or "", (0, None))[1],
            "ReportingYear": period["FinYear"], "ReportingPeriod": period["FinPeriod"],
            "AmountDC": total, "AmountFC": total, "VATAmountDC": 0.0, "VATAmountFC": 0.0,
            "Reversal": bool(values.get("Reversal")), "Type": entry_type, "TypeDescription": ENTRY_TYPES[entry_type],
            "Status": status, "StatusDescription": ENTRY_STATUS[status],
        }
        self.store.insert("PurchaseEntries", entry, at_ms)
        ap_gl = self.store.get("GLAccounts", supplier.get("GLAP")) or self.ap_account()
        self._transaction_line(entry, 0, ap_gl, -total, at_ms, account=supplier, kind="purchase")
        for number_in_entry, (line, ref) in enumerate(zip(lines, refs, strict=True), start=1):
            stored = self._entry_line("PurchaseEntryLines", entry, line, ref, number_in_entry, at_ms)
            self._transaction_line(entry, number_in_entry, ref.gl, stored["AmountFC"], at_ms, line=stored,
                                   account=supplier, kind="purchase")
        return entry

    def ap_account(self) -> Row:
        return next(r for r in self.store.table("GLAccounts").rows.values()
                    if r["Type"] == AP_TYPE and not r.get("IsBlocked"))

    # ----- general journal entries --------------------------------------------------------------------------
    def create_general_journal_entry(self, values: Row, lines: list[Row]) -> Row:
        check = Checker(self.store, self.currency)
        check.client_keys(values, {"EntryID": "GeneralJournalEntries"}, self.settings.accept_client_entry_id)
        journal = check.journal(values.get("JournalCode"), GENERAL_JOURNAL, "general")
        period = self._entry_period(check, values, lines)
        check.currency(values.get("Currency"))
        self._check_entry_number(check, journal, values.get("EntryNumber"))
        line_set = ENTITY_SETS["generaljournalentry/GeneralJournalEntryLines"]
        refs = self._check_lines(check, lines, period["StartDate"] if period else self.today_ms(), line_set)
        self._check_line_relations_and_dates(check, lines, refs, period)
        amounts = [line["AmountFC"] for line in lines if line.get("AmountFC") is not None]
        if len(amounts) == len(lines) and lines and money(sum(amounts)) != 0:
            # UNCONFIRMED: positive AmountFC is a debit; the lines of a general journal entry must add up to 0.
            check.add(f"Entry is not in balance. Difference: {money(sum(amounts)):.2f}")
        check.fail_if_any()
        assert journal is not None
        assert period is not None
        entry = self._book_entry("GeneralJournalEntries", "GeneralJournalEntryLines", values, lines, refs,
                                 journal, period, entry_type=90)
        self.store.emit(ChangeEvent("GeneralJournalEntries", "Create", entry["EntryID"],
                                    "generaljournalentry/GeneralJournalEntries"))
        return entry

    def _entry_period(self, check: Checker, values: Row, lines: list[Row]) -> Row | None:
        if values.get("FinancialYear") is None and values.get("FinancialPeriod") is None:
            dated = next((line["Date"] for line in lines if line.get("Date") is not None), None)
            return check.period_of_date(dated if dated is not None else self.today_ms())
        return check.period(values.get("FinancialYear"), values.get("FinancialPeriod"),
                            "Financial year", "Financial period")

    def _check_line_relations_and_dates(
        self, check: Checker, lines: list[Row], refs: list[LineRefs], period: Row | None
    ) -> None:
        for line, ref in zip(lines, refs, strict=True):
            # UNCONFIRMED: lines on an accounts payable or receivable account need a relation (stricter).
            needs_relation = ref.gl is not None and ref.gl["Type"] in {AP_TYPE, AR_TYPE}
            ref.account = check.relationship(line.get("Account"), mandatory=needs_relation)
            date_ms = line.get("Date")
            if period is not None and date_ms is not None and not (
                period["StartDate"] <= date_ms < period["EndDate"] + DAY_MS
            ):
                # UNCONFIRMED: a line dated outside the entry's period is refused (stricter).
                check.add(f"Date is not in financial period {period['FinYear']}/{period['FinPeriod']:02d}: "
                          f"{iso_date(date_ms)}")

    # ----- bank entries ------------------------------------------------------------------------------------------
    def create_bank_entry(self, values: Row, lines: list[Row]) -> Row:
        check = Checker(self.store, self.currency)
        check.client_keys(values, {"EntryID": "BankEntries"}, self.settings.accept_client_entry_id)
        journal = check.journal(values.get("JournalCode"), BANK_JOURNAL, "bank")
        period = self._entry_period(check, values, lines)
        check.currency(values.get("Currency"))
        check.unkept_references(values, ENTITY_SETS["financialtransaction/BankEntries"])
        self._check_entry_number(check, journal, values.get("EntryNumber"))
        line_set = ENTITY_SETS["financialtransaction/BankEntryLines"]
        refs = self._check_lines(check, lines, period["StartDate"] if period else self.today_ms(), line_set)
        self._check_line_relations_and_dates(check, lines, refs, period)
        self._check_invoice_references(check, lines)
        opening, closing = self._check_balances(check, values, journal, lines)
        check.fail_if_any()
        assert journal is not None
        assert period is not None
        balances = {"OpeningBalanceFC": opening, "ClosingBalanceFC": closing}
        entry = self._book_entry("BankEntries", "BankEntryLines", {**values, **balances}, lines, refs, journal,
                                 period, entry_type=40)
        if entry["EntryNumber"] >= self._entry_numbers.get(journal["Code"], 0):
            self._closing[journal["Code"]] = closing
        else:
            self._closing.pop(journal["Code"], None)
        self.store.emit(ChangeEvent("BankEntries", "Create", entry["EntryID"], "financialtransaction/BankEntries"))
        return entry

    def _check_invoice_references(self, check: Checker, lines: list[Row]) -> None:
        # UNCONFIRMED how Exact matches a bank line to an invoice; the sandbox requires OurRef (the "invoice
        # number") to be the InvoiceNumber of a purchase entry of the line's Account, when both are given.
        for line in lines:
            our_ref = line.get("OurRef")
            if our_ref is None:
                continue
            entries = self.store.find("PurchaseEntries", "InvoiceNumber", our_ref)
            if not any(line.get("Account") in (None, e["Supplier"]) for e in entries):
                check.add(f"Invalid reference: Invoice number {our_ref}")

    def _check_balances(
        self, check: Checker, values: Row, journal: Row | None, lines: list[Row]
    ) -> tuple[float, float]:
        previous = self._last_closing_balance(journal["Code"]) if journal else 0.0
        opening = values.get("OpeningBalanceFC")
        if opening is not None and money(opening) != money(previous):
            # Exact: "an opening balance which should be the end balance of the previous entry" (UNCONFIRMED
            # that it refuses others; the sandbox does).
            check.add(f"Opening balance must equal the closing balance of the previous entry: {previous:.2f}")
        start = previous if opening is None else opening
        closing = money(start + sum(line.get("AmountFC") or 0.0 for line in lines))
        given = values.get("ClosingBalanceFC")
        if given is not None and money(given) != closing:
            check.add(f"Closing balance must equal the opening balance plus the lines: {closing:.2f}")
        return money(start), closing

    def _last_closing_balance(self, journal_code: str) -> float:
        if journal_code not in self._closing:
            entries = self.store.find("BankEntries", "JournalCode", journal_code)
            latest = max(entries, key=lambda e: e["EntryNumber"], default=None)
            self._closing[journal_code] = latest["ClosingBalanceFC"] if latest else 0.0
        return self._closing[journal_code]

    # ----- shared booking of GJE and bank entries --------------------------------------------------------------
    def _book_entry(
        self, table: str, line_table: str, values: Row, lines: list[Row], refs: list[LineRefs], journal: Row,
        period: Row, entry_type: int,
    ) -> Row:
        lines_field = "GeneralJournalEntryLines" if table == "GeneralJournalEntries" else "BankEntryLines"
        entry = {
            **{k: v for k, v in values.items() if k != lines_field},
            "EntryID": values.get("EntryID") or str(uuid.uuid4()),
            "EntryNumber": self._entry_number(journal["Code"], values.get("EntryNumber")),
            "JournalCode": journal["Code"], "JournalDescription": journal["Description"],
            "FinancialYear": period["FinYear"], "FinancialPeriod": period["FinPeriod"], "Currency": self.currency,
            # UNCONFIRMED: API-made general journal and bank entries start Open (20), like purchase entries.
            "Status": 20, "StatusDescription": ENTRY_STATUS[20],
        }
        if table == "GeneralJournalEntries":
            entry.update(ExchangeRate=values.get("ExchangeRate") or 1.0, Reversal=bool(values.get("Reversal")),
                         Type=entry_type, TypeDescription=ENTRY_TYPES[entry_type])
        self.store.insert(table, entry)
        bank_total = 0.0
        bank_date = period["StartDate"]
        for number, (line, ref) in enumerate(zip(lines, refs, strict=True), start=1):
            stored = self._entry_line(line_table, entry, line, ref, number, None, period=period)
            amount = stored["AmountFC"]
            bank_date = max(bank_date, stored["Date"])
            if entry_type == 40:
                # UNCONFIRMED: a bank line's AmountFC is seen from the bank (positive = money received), so the
                # line's own G/L account takes the opposite sign and the bank account the total (line 0).
                bank_total += amount
                amount = -amount
            self._transaction_line(entry, number, ref.gl, amount, None, line=stored, account=ref.account,
                                   kind="entry", entry_type=entry_type)
        # A general journal entry balances itself, so it has no line 0 (UNCONFIRMED); a bank entry's line 0 is the
        # bank account, like the payables line 0 of a purchase entry.
        if entry_type == 40:
            bank_gl = self.store.get("GLAccounts", journal.get("GLAccount"))
            self._transaction_line(entry, 0, bank_gl, money(bank_total), None, kind="entry", entry_type=40,
                                   date_ms=bank_date)
        return entry

    def _entry_line(
        self, table: str, entry: Row, line: Row, ref: LineRefs, number: int, at_ms: int | None,
        period: Row | None = None,
    ) -> Row:
        amount = money(line["AmountFC"])
        gl = ref.gl or {}
        row = {
            **line, "ID": line.get("ID") or str(uuid.uuid4()), "EntryID": entry["EntryID"], "LineNumber": number,
            "GLAccount": gl.get("ID"), "GLAccountCode": gl.get("Code"), "GLAccountDescription": gl.get("Description"),
            "AmountFC": amount, "AmountDC": amount, "Description": line.get("Description") or entry.get("Description"),
            "CostCenterDescription": ref.cost_center and ref.cost_center["Description"],
            "CostUnitDescription": ref.cost_unit and ref.cost_unit["Description"],
            "VATCodeDescription": VAT_CODES.get((line.get("VATCode") or "").strip()),
        }
        if table == "PurchaseEntryLines":
            row.update(Type=entry["Type"], VATAmountFC=0.0, VATAmountDC=0.0, VATBaseAmountFC=amount,
                       VATBaseAmountDC=amount, VATPercentage=0.0)
        else:
            row.update(EntryNumber=entry["EntryNumber"], Date=start_of_day_ms(line.get("Date") or period["StartDate"]),
                       Account=ref.account and ref.account["ID"],
                       AccountCode=ref.account and ref.account["Code"],
                       AccountName=ref.account and ref.account["Name"])
        return self.store.insert(table, row, at_ms)

    def _transaction_line(
        self, entry: Row, number: int, gl: Row | None, amount: float, at_ms: int | None, *, kind: str,
        line: Row | None = None, account: Row | None = None, entry_type: int | None = None,
        date_ms: int | None = None,
    ) -> Row:
        line = line or {}
        purchase = kind == "purchase"
        entry_date = entry["EntryDate"] if purchase else line.get("Date", date_ms)
        row = {
            "ID": str(uuid.uuid4()), "EntryID": entry["EntryID"], "EntryNumber": entry["EntryNumber"],
            "LineNumber": number, "Date": entry_date,
            "FinancialYear": entry["ReportingYear"] if purchase else entry["FinancialYear"],
            "FinancialPeriod": entry["ReportingPeriod"] if purchase else entry["FinancialPeriod"],
            "JournalCode": entry["Journal"] if purchase else entry["JournalCode"],
            "JournalDescription": entry["JournalDescription"],
            "GLAccount": gl and gl["ID"], "GLAccountCode": gl and gl["Code"],
            "GLAccountDescription": gl and gl["Description"],
            "AmountDC": money(amount), "AmountFC": money(amount), "AmountVATFC": 0.0, "AmountVATBaseFC": money(amount),
            "Currency": self.currency, "ExchangeRate": 1.0, "VATCode": line.get("VATCode"),
            "VATCodeDescription": line.get("VATCodeDescription"), "VATPercentage": 0.0 if line else None,
            "CostCenter": line.get("CostCenter"), "CostCenterDescription": line.get("CostCenterDescription"),
            "CostUnit": line.get("CostUnit"), "CostUnitDescription": line.get("CostUnitDescription"),
            "Account": account and account["ID"], "AccountCode": account and account["Code"],
            "AccountName": account and account["Name"],
            "Description": line.get("Description") or entry.get("Description"),
            "Quantity": line.get("Quantity"), "Notes": line.get("Notes"),
            "Status": entry["Status"], "Type": entry["Type"] if purchase else entry_type,
        }
        if purchase:
            row.update(InvoiceNumber=entry["InvoiceNumber"], YourRef=entry.get("YourRef"),
                       PaymentReference=entry.get("PaymentReference"),
                       DueDate=entry["DueDate"] if number == 0 else None)
        else:
            row.update(InvoiceNumber=line.get("OurRef"))
        return self.store.insert("TransactionLines", row, at_ms)

    def _entry_number(self, journal_code: str, requested: int | None) -> int:
        """Entry numbers rise per journal; the journal code leads, as in 60000001."""
        base = int(journal_code) * 1_000_000 if journal_code.isdigit() else 0
        current = self._entry_numbers.get(journal_code, base)
        number = requested if requested is not None else current + 1
        self._entry_numbers[journal_code] = max(current, number)
        return number

    # ----- a bookkeeper's correction of a booked purchase entry ----------------------------------------------------
    def change_purchase_line(self, entry_id: str, line_number: int, changes: Row) -> Row:
        """Changes one line of a purchase entry as a person does in Exact's screens (the API has no such PUT).

        ``changes`` holds AmountFC, CostCenter (a code, or None) and GLAccount (an ID). The entry stays in
        balance: its payables line 0 and its totals follow. Every record touched gets a new Timestamp, so sync
        clients see the change, as in Exact.
        """
        entry = self.store.get("PurchaseEntries", entry_id)
        if entry is None:
            raise not_found("PurchaseEntries")
        if entry.get("Status") == 50:
            # UNCONFIRMED wording; Exact does not let a processed entry be changed.
            raise ValidationFailed([f"Entry is processed and cannot be changed: {entry['EntryNumber']}"])
        line = next((r for r in self.store.children("PurchaseEntryLines", entry_id)
                     if r["LineNumber"] == line_number), None)
        if line is None:
            raise ValidationFailed([f"Entry {entry['EntryNumber']} has no line {line_number}"])
        check = Checker(self.store, self.currency)
        gl = check.gl_account(changes.get("GLAccount", line["GLAccount"]))
        center = check.cost_center(changes.get("CostCenter", line.get("CostCenter")), gl, entry["EntryDate"])
        check.fail_if_any()
        amount = money(changes.get("AmountFC", line["AmountFC"]))
        assert gl is not None
        booked = {"GLAccount": gl["ID"], "GLAccountCode": gl["Code"], "GLAccountDescription": gl["Description"],
                  "CostCenter": center and center["Code"], "CostCenterDescription": center and center["Description"],
                  "AmountFC": amount, "AmountDC": amount}
        self.store.update("PurchaseEntryLines", line["ID"], {**booked, "VATBaseAmountFC": amount,
                                                             "VATBaseAmountDC": amount})
        total = money(sum(r["AmountFC"] for r in self.store.children("PurchaseEntryLines", entry_id)))
        for row in self.store.children("TransactionLines", entry_id):
            if row["LineNumber"] == line_number:
                self.store.update("TransactionLines", row["ID"], {**booked, "AmountVATBaseFC": amount})
            elif row["LineNumber"] == 0:
                self.store.update("TransactionLines", row["ID"], {"AmountFC": -total, "AmountDC": -total,
                                                                  "AmountVATBaseFC": -total})
        changed = self.store.update("PurchaseEntries", entry_id, {"AmountFC": total, "AmountDC": total})
        self.store.emit(ChangeEvent("PurchaseEntries", "Update", entry_id, "purchaseentry/PurchaseEntries"))
        return changed

    # ----- deleting entries ------------------------------------------------------------------------------------
    def delete_entry(self, table: str, key: str, force: bool = False) -> Row:
        """Deletes an entry with its lines and TransactionLines; processed entries cannot be deleted."""
        entry = self.store.get(table, key)
        if entry is None:
            raise not_found(table)
        if entry.get("Status") == 50 and not force:
            # UNCONFIRMED wording; Exact lets processed entries be reversed, not deleted.
            raise ValidationFailed([f"Entry is processed and cannot be deleted: {entry['EntryNumber']}"])
        line_table = {"PurchaseEntries": "PurchaseEntryLines", "GeneralJournalEntries": "GeneralJournalEntryLines",
                      "BankEntries": "BankEntryLines"}[table]
        for line in self.store.children(line_table, key):
            self.store.delete(line_table, line["ID"])
        for line in self.store.children("TransactionLines", key):
            self.store.delete("TransactionLines", line["ID"])
        self.store.delete(table, key)
        self._closing.clear()
        path = next(es.path for es in ENTITY_SETS.values() if es.table == table and es.kind == "normal")
        self.store.emit(ChangeEvent(table, "Delete", key, path))
        return entry

    # ----- crm Accounts ------------------------------------------------------------------------------------------
    def create_account(self, values: Row, announce: bool = True) -> Row:
        check = Checker(self.store, self.currency)
        check.client_keys(values, {"ID": "Accounts"}, self.settings.accept_client_entry_id)
        self._check_account(check, values, None)
        check.fail_if_any()
        is_supplier = bool(values.get("IsSupplier"))
        row = {
            **values, "ID": values.get("ID") or str(uuid.uuid4()), "Code": self._account_code(values.get("Code")),
            "IsSupplier": is_supplier, "IsSales": values.get("Status") is not None,
            "Blocked": bool(values.get("Blocked")), "Type": "A",
        }
        if is_supplier:
            row["GLAP"] = values.get("GLAP") or self.ap_account()["ID"]
            row["PurchaseCurrency"] = values.get("PurchaseCurrency") or self.currency
        self.store.insert("Accounts", row)
        if announce:
            self.store.emit(ChangeEvent("Accounts", "Create", row["ID"], "crm/Accounts"))
        return row

    def update_account(self, key: str, changes: Row) -> Row:
        if self.store.get("Accounts", key) is None:
            raise not_found("Accounts")
        check = Checker(self.store, self.currency)
        self._check_account(check, changes, key)
        check.fail_if_any()
        if "Code" in changes:
            changes = {**changes, "Code": self._account_code(changes["Code"])}
        if "Status" in changes:
            changes = {**changes, "IsSales": changes["Status"] is not None}
        row = self.store.update("Accounts", key, changes)
        self.store.emit(ChangeEvent("Accounts", "Update", key, "crm/Accounts"))
        return row

    def _check_account(self, check: Checker, values: Row, key: str | None) -> None:
        if (key is None or "Name" in values) and not (values.get("Name") or "").strip():
            check.add("Mandatory: Name")
        code = values.get("Code")
        if code is not None:
            padded = code.strip().rjust(ACCOUNT_CODE_WIDTH)
            if not code.strip() or len(code.strip()) > ACCOUNT_CODE_WIDTH:
                check.add(f"Invalid value: Code {code!r}")
            elif any(r["ID"] != key for r in self.store.find("Accounts", "Code", padded)):
                check.add(f"Code already exists: {code.strip()}")
        if values.get("Status") not in {None, "A", "S", "P", "C"}:
            check.add(f"Invalid value: Status {values['Status']!r}")
        for name in ("GLAP", "GLAccountPurchase", "GLAccountSales"):
            if values.get(name) is not None and self.store.get("GLAccounts", values[name]) is None:
                check.add("Invalid reference: G/L account")
        check.currency(values.get("PurchaseCurrency"))
        check.currency(values.get("SalesCurrency"))
        check.payment_condition(values.get("PaymentConditionPurchase"))
        check.unkept_references(values, ENTITY_SETS["crm/Accounts"])

    def _account_code(self, requested: str | None) -> str:
        """crm Account codes: 18-character, right-aligned; the next one is the highest numeric code plus one."""
        if requested is not None:
            return requested.strip().rjust(ACCOUNT_CODE_WIDTH)
        numbers = [int(r["Code"]) for r in self.store.table("Accounts").rows.values() if r["Code"].strip().isdigit()]
        return str(max(numbers, default=0) + 1).rjust(ACCOUNT_CODE_WIDTH)
