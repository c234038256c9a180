"""Financial periods closed per journal (read/financial/JournalStatusList), and the refusal to post into one.

Rules and sources: docs/ap-documents.md, "Closed periods".
"""

from __future__ import annotations

from exact_bill_pipeline.sandbox.exact_online.store import DivisionStore, Row, Table

JOURNAL_TYPES = {10: "Cash", 12: "Bank", 16: "Payment service", 20: "Sales", 21: "Return invoice", 22: "Purchase",
                 23: "Received return invoice", 90: "General journal"}
STATUS = {0: "Open", 1: "Closed"}


def closed_message(period: Row) -> str:
    # Exact's Dutch words are "Periode is afgesloten: [Jaar] - [Maand]"; the English form is UNCONFIRMED.
    return f"Period is closed: {period['FinYear']} - {period['FinPeriod']}"


class PeriodLocks:
    """Which (journal, year, period) a bookkeeper closed; all journals of a period at once, or some."""

    def __init__(self, store: DivisionStore) -> None:
        self.store = store
        self.closed: set[tuple[str, int, int]] = set()

    def set_closed(self, year: int, period: int, journal_codes: list[str], closed: bool) -> list[Row]:
        for code in journal_codes:
            key = (code, year, period)
            if closed:
                self.closed.add(key)
            else:
                self.closed.discard(key)
        return [row for row in self.rows() if (row["Journal"], row["Year"], row["Period"]) in
                {(code, year, period) for code in journal_codes}]

    def is_closed(self, journal_code: str, period: Row) -> bool:
        return (journal_code, period["FinYear"], period["FinPeriod"]) in self.closed

    def rows(self) -> list[Row]:
        """JournalStatusList: every journal in every financial period, open or closed."""
        journals = sorted(self.store.table("Journals").rows.values(), key=lambda j: j["Code"])
        periods = sorted(self.store.table("FinancialPeriods").rows.values(),
                         key=lambda p: (p["FinYear"], p["FinPeriod"]))
        out = []
        for journal in journals:
            for period in periods:
                status = int((journal["Code"], period["FinYear"], period["FinPeriod"]) in self.closed)
                out.append({
                    "Journal": journal["Code"], "Year": period["FinYear"], "Period": period["FinPeriod"],
                    "JournalDescription": journal["Description"], "JournalType": journal["Type"],
                    "JournalTypeDescription": JOURNAL_TYPES.get(journal["Type"]), "Status": status,
                    "StatusDescription": STATUS[status],
                })
        return out

    def view(self) -> Table:
        # Keyed by journal, period and year together, the order the reference page lists its keys in.
        table = Table("_key")
        for stamp, row in enumerate(self.rows(), start=1):
            table.put({**row, "_key": (row["Journal"], row["Period"], row["Year"]), "Timestamp": stamp})
        return table
