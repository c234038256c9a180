"""The BILL sandbox's records: seeded rows made on demand from the firm, plus an overlay of changed and new ones."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, Protocol

from exact_bill_pipeline.sandbox.bill.errors import not_found
from exact_bill_pipeline.sandbox.bill.fields import (
    BILLS,
    CLASSIFICATION_KINDS,
    COA,
    DEPARTMENTS,
    PAYMENTS,
    VENDOR_CREDITS,
    VENDORS,
    ClassificationKind,
)
from exact_bill_pipeline.sandbox.bill.listing import ListSpec, dig, normalize
from exact_bill_pipeline.sandbox.bill.ordering import ComputedKeys, Key, MergedKeys, Order, SortedKeys
from exact_bill_pipeline.sandbox.seed import DAY_MS, Firm, VendorSeed, bill_id, bill_id_index, iso_ms

MISSING: Any = object()
# The user every seeded record was created by (the seed's AP clerk); new records are created by it too.
USER_ID = "00601SBXAPCLERK00001"
# New records are numbered from here, far above any seeded index, so their ids never collide.
NEW_INDEX_BASE = 36**12
_SORT_DEFAULTS = {"datetime": 0, "number": 0.0, "bool": False}


class SeededRows(Protocol):
    """The rows an object starts with."""

    def ids(self) -> Iterable[str]: ...

    def has(self, record_id: str) -> bool: ...

    def record(self, record_id: str) -> dict[str, Any]: ...

    def quick_value(self, record_id: str, field_name: str) -> Any:
        """The field's normalized value without building the record, or MISSING."""
        ...

    def fixed_order(self, field_name: str) -> Order | None:
        """A ready order of the seeded rows by a field whose value never changes, if there is one."""
        ...


class StaticRows:
    """Seeded rows small enough to build at start (vendors, chart of accounts, departments)."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._records = {record["id"]: record for record in records}

    def ids(self) -> Iterable[str]:
        return self._records.keys()

    def has(self, record_id: str) -> bool:
        return record_id in self._records

    def record(self, record_id: str) -> dict[str, Any]:
        return self._records[record_id]

    def quick_value(self, record_id: str, field_name: str) -> Any:
        return MISSING

    def fixed_order(self, field_name: str) -> Order | None:
        return None


class SeededBills:
    """The firm's bills, built one at a time by index; only their timestamps are cheap to read."""

    def __init__(self, firm: Firm) -> None:
        self._firm = firm
        self._count = firm.bill_count
        self._bill = lru_cache(maxsize=4096)(firm.bill)
        self._updated_ms: dict[int, int] = {}

    def index(self, record_id: str) -> int | None:
        index = bill_id_index(record_id, "00n")
        return index if index is not None and 0 <= index < self._count else None

    def ids(self) -> Iterable[str]:
        return (bill_id("00n", i) for i in range(self._count))

    def has(self, record_id: str) -> bool:
        return self.index(record_id) is not None

    def record(self, record_id: str) -> dict[str, Any]:
        index = self.index(record_id)
        assert index is not None
        return self._bill(index)

    def quick_value(self, record_id: str, field_name: str) -> Any:
        index = self.index(record_id)
        if index is None:
            return MISSING
        if field_name == "createdTime":
            return self._firm.bill_created_ms(index)
        if field_name == "updatedTime":
            if index not in self._updated_ms:
                self._updated_ms[index] = self._firm.bill_updated_ms(index)
            return self._updated_ms[index]
        return MISSING

    def fixed_order(self, field_name: str) -> Order | None:
        # createdTime rises with the index and never changes, so that order needs no index of its own.
        if field_name != "createdTime":
            return None
        return ComputedKeys(self._count, lambda i: (self._firm.bill_created_ms(i), bill_id("00n", i)))


class SeededPayments:
    """The payments of the firm's paid bills (one per bill, same index), found on first need."""

    def __init__(self, firm: Firm) -> None:
        self._firm = firm
        self._count = firm.bill_count
        self._payment = lru_cache(maxsize=4096)(firm.payment)
        self._paid: list[int] | None = None

    def index(self, record_id: str) -> int | None:
        index = bill_id_index(record_id, "stp")
        if index is None or not 0 <= index < self._count or not self._firm.bill_is_paid(index):
            return None
        return index

    def ids(self) -> Iterable[str]:
        if self._paid is None:
            self._paid = [i for i in range(self._count) if self._firm.bill_is_paid(i)]
        return (bill_id("stp", i) for i in self._paid)

    def has(self, record_id: str) -> bool:
        return self.index(record_id) is not None

    def record(self, record_id: str) -> dict[str, Any]:
        index = self.index(record_id)
        assert index is not None
        payment = self._payment(index)
        assert payment is not None
        return payment

    def quick_value(self, record_id: str, field_name: str) -> Any:
        index = self.index(record_id)
        if index is None or field_name != "createdTime":
            return MISSING
        return self._firm.payment_created_ms(index)

    def fixed_order(self, field_name: str) -> Order | None:
        return None


class Table:
    """One BILL object: lookups, normalized field values and sort orders kept valid as records change."""

    def __init__(self, label: str, spec: ListSpec, seeded: SeededRows) -> None:
        self.label = label
        self.spec = spec
        self.seeded = seeded
        self.overlay: dict[str, dict[str, Any]] = {}
        self._new_ids: list[str] = []
        self._orders: dict[str, SortedKeys] = {}  # over every row, built on first use
        self._new_orders: dict[str, SortedKeys] = {}  # over new rows, next to a fixed seeded order

    def get(self, record_id: str) -> dict[str, Any] | None:
        record = self.overlay.get(record_id)
        if record is None and self.seeded.has(record_id):
            record = self.seeded.record(record_id)
        return record

    def require(self, record_id: str) -> dict[str, Any]:
        record = self.get(record_id)
        if record is None:
            raise not_found(self.label, record_id)
        return record

    def ids(self) -> Iterator[str]:
        yield from self.seeded.ids()
        yield from self._new_ids

    def records(self) -> Iterator[dict[str, Any]]:
        for record_id in self.ids():
            record = self.get(record_id)
            assert record is not None
            yield record

    def value(self, record_id: str, field_name: str) -> Any:
        if record_id not in self.overlay:
            quick = self.seeded.quick_value(record_id, field_name)
            if quick is not MISSING:
                return quick
        spec_field = self.spec.fields[field_name]
        record = self.get(record_id)
        return None if record is None else normalize(spec_field.kind, dig(record, spec_field.path))

    def order(self, field_name: str) -> Order:
        fixed = self.seeded.fixed_order(field_name)
        if fixed is not None:
            if field_name not in self._new_orders:
                self._new_orders[field_name] = SortedKeys(self._key(i, field_name) for i in self._new_ids)
            return MergedKeys(fixed, self._new_orders[field_name])
        if field_name not in self._orders:
            self._orders[field_name] = SortedKeys(self._key(i, field_name) for i in self.ids())
        return self._orders[field_name]

    def save(self, record: dict[str, Any]) -> dict[str, Any]:
        """Stores a changed or new record (never mutate a stored one: save a changed copy)."""
        record_id = record["id"]
        exists = self.get(record_id) is not None
        seeded = self.seeded.has(record_id)
        touched = [(self._orders[f], f) for f in self._orders]
        if not seeded:
            touched += [(self._new_orders[f], f) for f in self._new_orders]
        old_keys = [self._key(record_id, f) for _order, f in touched] if exists else []
        self.overlay[record_id] = record
        if not exists and not seeded:
            self._new_ids.append(record_id)
        for position, (order, field_name) in enumerate(touched):
            if exists:
                order.remove(old_keys[position])
            order.add(self._key(record_id, field_name))
        return record

    def _key(self, record_id: str, field_name: str) -> Key:
        value = self.value(record_id, field_name)
        if value is None:
            value = _SORT_DEFAULTS.get(self.spec.fields[field_name].kind, "")
        return (value, record_id)


class IdMaker:
    """New record ids per prefix, from seed.bill_id with indexes no seeded record uses."""

    def __init__(self) -> None:
        self._counters: dict[str, Iterator[int]] = {}

    def new(self, prefix: str) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(NEW_INDEX_BASE))
        return bill_id(prefix, next(counter))


class BillStore:
    """Every object the BILL sandbox serves."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        self.ids = IdMaker()
        self.seeded_bills = SeededBills(firm)
        self.bills = Table("Bill", BILLS, self.seeded_bills)
        self.vendors = Table("Vendor", VENDORS, StaticRows(vendor_record(v) for v in firm.vendors))
        self.payments = Table("Payment", PAYMENTS, SeededPayments(firm))
        self.vendor_credits = Table("Vendor credit", VENDOR_CREDITS, StaticRows([]))
        reference_ms = firm.history_start_ms - 400 * DAY_MS
        seeded_classifications = {
            COA.path: [coa_record(firm, n, reference_ms) for n in range(len(firm.chart_of_accounts))],
            DEPARTMENTS.path: [department_record(firm, n, reference_ms) for n in range(len(firm.departments))],
        }
        self.classifications = {
            kind.path: Table(kind.label, kind.spec, StaticRows(seeded_classifications.get(kind.path, [])))
            for kind in CLASSIFICATION_KINDS
        }

    def classification(self, kind: ClassificationKind) -> Table:
        return self.classifications[kind.path]

    def payments_of(self, target: str) -> list[dict[str, Any]]:
        """Every payment that pays (part of) a bill: its seeded one, if any, and those made or changed since."""
        found: dict[str, dict[str, Any]] = {}
        index = self.seeded_bills.index(target)
        if index is not None and self.firm.bill_is_paid(index):
            seeded = self.payments.get(bill_id("stp", index))
            if seeded is not None:
                found[seeded["id"]] = seeded
        for payment in self.payments.overlay.values():
            if any(part.get("billId") == target for part in payment.get("billPayments", [])):
                found[payment["id"]] = payment
        return sorted(found.values(), key=lambda p: (p["createdTime"], p["id"]))


def vendor_record(seed: VendorSeed) -> dict[str, Any]:
    """A seeded vendor as BILL's REST API returns it (bill.md §4.3), nulls left out."""
    stamp = iso_ms(seed.created_ms)
    additional: dict[str, Any] = {"track1099": False, "combinePayments": True}
    if seed.tax_id:
        additional = {"taxId": seed.tax_id, "taxIdType": "EIN", **additional}
    return {
        "id": seed.id,
        "archived": False,
        "name": seed.name,
        "accountType": "BUSINESS",
        "email": seed.email,
        "phone": seed.phone,
        "address": {
            "line1": f"{100 + seed.index * 7} Harbor Way",
            "city": seed.city,
            "stateOrProvince": seed.state,
            "zipOrPostalCode": seed.zip_code,
            "country": "US",
            "countryName": "United States",
        },
        "paymentInformation": {"payeeName": seed.name, "email": seed.email},
        "additionalInfo": additional,
        "billCurrency": "USD",
        "networkStatus": "NOT_CONNECTED",
        "createdTime": stamp,
        "updatedTime": stamp,
    }


def coa_record(firm: Firm, position: int, reference_ms: int) -> dict[str, Any]:
    seed = firm.chart_of_accounts[position]
    stamp = iso_ms(reference_ms + position * 60_000)
    return {
        "id": seed.id,
        "archived": seed.archived,
        "name": seed.name,
        "account": {"type": seed.type, "number": seed.number},
        "createdTime": stamp,
        "updatedTime": stamp,
    }


def department_record(firm: Firm, position: int, reference_ms: int) -> dict[str, Any]:
    seed = firm.departments[position]
    stamp = iso_ms(reference_ms + DAY_MS + position * 60_000)
    return {
        "id": seed.id,
        "name": seed.name,
        "shortName": seed.short_name,
        "archived": False,
        "createdTime": stamp,
        "updatedTime": stamp,
    }
