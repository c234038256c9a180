"""The in-memory state of the division: records per table, the rising Timestamp row version, the deletion log.

Every insert and every change of a record takes the next value of the division's row-version counter, so a
record changed while a client pages through a sync endpoint shows up again later, as in Exact.
"""

from __future__ import annotations

import itertools
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.exact_online.edm import DAY_MS

Row = dict[str, Any]
# Real row versions are large numbers; starting above Int32 catches clients that keep them in 32 bits.
FIRST_TIMESTAMP = 3_000_000_001
# sync/Deleted EntityType codes (api-reference §4.5).
DELETED_ENTITY_TYPES = {"TransactionLines": 1, "Accounts": 2, "GLAccounts": 7, "PurchaseOrders": 22}
TABLE_KEYS = {
    "GLAccounts": "ID", "Costcenters": "ID", "Costunits": "ID", "Journals": "ID", "FinancialPeriods": "ID",
    "Accounts": "ID", "PurchaseEntries": "EntryID", "PurchaseEntryLines": "ID",
    "GeneralJournalEntries": "EntryID", "GeneralJournalEntryLines": "ID", "BankEntries": "EntryID",
    "BankEntryLines": "ID", "TransactionLines": "ID", "PurchaseOrders": "PurchaseOrderID",
    "PurchaseOrderLines": "ID", "PurchaseOrderSyncRows": "ID", "Deleted": "ID", "WebhookSubscriptions": "ID",
    "VATCodes": "ID", "ExchangeRates": "ID",
}
# The lines of an entry point at it through this property.
PARENT_KEYS = {"PurchaseEntryLines": "EntryID", "GeneralJournalEntryLines": "EntryID", "BankEntryLines": "EntryID",
               "TransactionLines": "EntryID", "PurchaseOrderLines": "PurchaseOrderID"}


@dataclass(frozen=True)
class ChangeEvent:
    """A change a webhook subscriber may hear about."""

    topic: str
    action: str  # Create, Update, Delete
    key: str
    path: str  # the entity set of the changed record, e.g. purchaseentry/PurchaseEntries


class Table:
    """The records of one table, by key, with a cached key order and an index by Timestamp."""

    def __init__(self, key_field: str) -> None:
        self.key_field = key_field
        self.rows: dict[str, Row] = {}
        self._key_order: list[str] | None = None
        self._timestamps: list[int] = []  # every Timestamp given out here, rising; stale ones are skipped
        self._by_timestamp: dict[int, Row] = {}

    def get(self, key: str) -> Row | None:
        return self.rows.get(key)

    def put(self, row: Row) -> None:
        """Inserts or replaces the record; it must already carry its new Timestamp."""
        key = row[self.key_field]
        old = self.rows.get(key)
        if old is None:
            self._key_order = None
        else:
            self._by_timestamp.pop(old["Timestamp"], None)
        self.rows[key] = row
        self._by_timestamp[row["Timestamp"]] = row
        self._timestamps.append(row["Timestamp"])
        if len(self._timestamps) > 2 * len(self._by_timestamp) + 64:
            self._timestamps = list(self._by_timestamp)

    def remove(self, key: str) -> Row | None:
        row = self.rows.pop(key, None)
        if row is not None:
            self._key_order = None
            self._by_timestamp.pop(row["Timestamp"], None)
        return row

    def keys_in_order(self) -> list[str]:
        if self._key_order is None:
            self._key_order = sorted(self.rows)
        return self._key_order

    def rows_after_key(self, after: str | None) -> Iterator[Row]:
        keys = self.keys_in_order()
        start = 0 if after is None else bisect_right(keys, after)
        rows = self.rows
        return (rows[k] for k in keys[start:])

    def rows_after_timestamp(self, after: int) -> Iterator[Row]:
        start = bisect_right(self._timestamps, after)
        by_timestamp = self._by_timestamp
        for stamp in self._timestamps[start:]:
            row = by_timestamp.get(stamp)
            if row is not None and row["Timestamp"] == stamp:
                yield row

    def __len__(self) -> int:
        return len(self.rows)


class DivisionStore:
    """Every table of the one division the sandbox user can reach, and the bookkeeping shared by writers."""

    def __init__(self, division: int, clock: SandboxClock, user_id: str, user_name: str) -> None:
        self.division = division
        self.clock = clock
        self.user_id = user_id
        self.user_name = user_name
        self.tables = {name: Table(key) for name, key in TABLE_KEYS.items()}
        self._timestamps = itertools.count(FIRST_TIMESTAMP)
        self.last_timestamp = FIRST_TIMESTAMP - 1
        self._children: dict[tuple[str, str], list[str]] = {}
        self.listeners: list[Callable[[ChangeEvent], None]] = []
        # Read-only lists worked out from the tables on every request (open items, journal statuses, divisions).
        self.views: dict[str, Callable[[], Table]] = {}

    def table(self, name: str) -> Table:
        view = self.views.get(name)
        return view() if view is not None else self.tables[name]

    def get(self, table: str, key: str | None) -> Row | None:
        return None if key is None else self.table(table).get(key)

    def next_timestamp(self) -> int:
        self.last_timestamp = next(self._timestamps)
        return self.last_timestamp

    def insert(self, table: str, row: Row, at_ms: int | None = None) -> Row:
        """Stores a new record with its audit fields and a fresh Timestamp."""
        moment = self.clock.now_ms() if at_ms is None else at_ms
        row.setdefault("Division", self.division)
        row.setdefault("Created", moment)
        row.setdefault("Modified", moment)
        row.setdefault("Creator", self.user_id)
        row.setdefault("CreatorFullName", self.user_name)
        row.setdefault("Modifier", self.user_id)
        row.setdefault("ModifierFullName", self.user_name)
        row["Timestamp"] = self.next_timestamp()
        self.tables[table].put(row)
        parent_field = PARENT_KEYS.get(table)
        if parent_field and row.get(parent_field):
            self._children.setdefault((table, row[parent_field]), []).append(row[TABLE_KEYS[table]])
        return row

    def update(self, table: str, key: str, changes: Row) -> Row:
        """Changes a record: a new Modified and a new Timestamp, so sync clients see it again."""
        row = {**self.tables[table].rows[key], **changes}
        row["Modified"] = self.clock.now_ms()
        row["Modifier"] = self.user_id
        row["ModifierFullName"] = self.user_name
        row["Timestamp"] = self.next_timestamp()
        self.tables[table].put(row)
        return row

    def delete(self, table: str, key: str) -> Row | None:
        """Removes a record; sync-able ones are written to the sync/Deleted log."""
        row = self.tables[table].remove(key)
        if row is None:
            return None
        parent_field = PARENT_KEYS.get(table)
        if parent_field and row.get(parent_field):
            siblings = self._children.get((table, row[parent_field]), [])
            if key in siblings:
                siblings.remove(key)
        entity_type = DELETED_ENTITY_TYPES.get(table)
        if entity_type is not None:
            self.insert("Deleted", {"ID": str(uuid.uuid4()), "EntityKey": key, "EntityType": entity_type,
                                    "DeletedBy": self.user_id, "DeletedDate": self.clock.now_ms()})
        return row

    def children(self, table: str, parent_key: str) -> list[Row]:
        """The lines of one entry or order, in key order."""
        rows = self.tables[table].rows
        return sorted((rows[k] for k in self._children.get((table, parent_key), ()) if k in rows),
                      key=lambda r: r[TABLE_KEYS[table]])

    def purge_deleted_before(self, epoch_ms: int) -> None:
        """Exact keeps the deletion log for two months (api-reference §4.5)."""
        deleted = self.tables["Deleted"]
        for key in [k for k, row in deleted.rows.items() if row["DeletedDate"] < epoch_ms]:
            deleted.remove(key)

    def emit(self, event: ChangeEvent) -> None:
        for listener in self.listeners:
            listener(event)

    # ----- look-ups the validators need ---------------------------------------------------------------------
    def find(self, table: str, field: str, value: Any) -> list[Row]:
        return [row for row in self.tables[table].rows.values() if row.get(field) == value]

    def journal(self, code: str) -> Row | None:
        return next(iter(self.find("Journals", "Code", code)), None)

    def period_of(self, epoch_ms: int) -> Row | None:
        """The financial period whose dates contain this moment."""
        for row in self.tables["FinancialPeriods"].rows.values():
            if row["StartDate"] <= epoch_ms < row["EndDate"] + DAY_MS:
                return row
        return None

    def period(self, year: int, number: int) -> Row | None:
        for row in self.tables["FinancialPeriods"].rows.values():
            if row["FinYear"] == year and row["FinPeriod"] == number:
                return row
        return None
