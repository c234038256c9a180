"""The seeded firm both sandboxes serve: a services firm with five business units, built from a seed.

Reference data (GL accounts, cost centers, suppliers, vendors, BILL's chart of accounts) is small and
built eagerly. Bills and payments are generated lazily from their index, so that 100k bills load in
seconds: only their timestamps are computed up front.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from exact_bill_pipeline.sandbox.settings import SandboxSettings

FIRM_NAME = "Harbor & Pine Advisory LLC"
CURRENCY = "USD"
DAY_MS = 86_400_000

# The five business units; their codes are the Exact cost center codes and BILL department short names.
UNITS: tuple[tuple[str, str], ...] = (
    ("100", "Consulting"),
    ("200", "Engineering"),
    ("300", "Design"),
    ("400", "Training"),
    ("500", "Managed Services"),
)
# Expense natures booked per unit: (code suffix, Exact description, BILL's name for it, amount range).
UNIT_EXPENSES: tuple[tuple[str, str, str, tuple[int, int]], ...] = (
    ("10", "Salaries", "Salaries", (3000, 9000)),
    ("20", "Subcontractors", "Contractors", (2000, 25000)),
    ("30", "Travel", "Travel & Lodging", (200, 4000)),
    ("40", "Software subscriptions", "Software", (50, 3000)),
    ("50", "Training and courses", "Training", (300, 5000)),
    ("60", "Small hardware", "Hardware under $2,500", (50, 2400)),
    ("70", "Meals and entertainment", "Meals & Entertainment", (30, 800)),
    ("80", "Marketing", "Marketing", (500, 8000)),
    ("90", "Telephone and internet", "Phone & Internet", (80, 900)),
)
# General expenses without a unit: (code, description, Exact type, in BILL already, amount range).
GENERAL_EXPENSES: tuple[tuple[str, str, int, bool, tuple[int, int]], ...] = (
    ("4600", "Rent", 121, True, (4000, 12000)),
    ("4610", "Utilities", 121, True, (300, 1500)),
    ("4620", "Cleaning", 121, True, (200, 900)),
    ("4630", "Insurance", 121, True, (500, 4000)),
    ("4640", "Office supplies", 121, True, (20, 600)),
    ("4650", "Postage and courier", 121, False, (10, 200)),
    ("4700", "Accountancy fees", 121, True, (1000, 9000)),
    ("4710", "Legal fees", 121, True, (1000, 15000)),
    ("4720", "Bank charges", 121, False, (5, 120)),
    ("4730", "General consultancy", 121, False, (1000, 6000)),
    ("4800", "Depreciation", 122, False, (0, 0)),
    ("4900", "Other general expenses", 121, False, (20, 500)),
    ("4910", "Recruitment", 125, True, (1500, 12000)),
    ("4920", "Car lease", 121, False, (400, 900)),
    ("4930", "Fuel", 121, False, (40, 200)),
    ("4940", "Parking", 121, False, (10, 120)),
    ("4950", "Memberships and subscriptions", 121, False, (100, 1500)),
    ("4960", "Books and publications", 121, False, (20, 300)),
    ("4970", "Client gifts", 121, False, (50, 500)),
    ("4980", "Donations", 121, False, (100, 2000)),
)
# Balance sheet accounts: (code, description, Exact type, balance side).
BALANCE_ACCOUNTS: tuple[tuple[str, str, int, str], ...] = (
    ("0100", "Office equipment", 30, "D"),
    ("0110", "Computer hardware", 30, "D"),
    ("0150", "Accumulated depreciation", 35, "C"),
    ("0500", "Share capital", 50, "C"),
    ("0600", "Retained earnings", 52, "C"),
    ("1000", "Cash", 10, "D"),
    ("1100", "Bank - Operating account", 12, "D"),
    ("1110", "Bank - Savings account", 12, "D"),
    ("1300", "Accounts receivable", 20, "D"),
    ("1400", "Prepaid expenses", 26, "D"),
    ("1500", "Sales tax receivable", 24, "D"),
    ("1510", "Sales tax payable", 24, "C"),
    ("1520", "Sales tax settlement", 24, "C"),
    ("1600", "Accounts payable", 22, "C"),
    ("1650", "Accrued expenses", 27, "C"),
    ("1700", "Wages payable", 25, "C"),
    ("1800", "Suspense account", 90, "D"),
    ("2000", "Long-term loans", 55, "C"),
)
AP_CONTROL_CODE = "1600"
BANK_CODE = "1100"
# Accounts Exact has blocked: old ones nobody may book on any more.
BLOCKED_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("4990", "Travel (old, do not use)"),
    ("4991", "Entertainment (old, do not use)"),
    ("4185", "Subcontractors Consulting (closed)"),
)
# Codes that were imported twice into Exact under new IDs (a migration left them behind); the
# pipeline must merge them. Their IDs are chosen so that they sort onto other pages than the originals.
DUPLICATED_CODES: tuple[str, ...] = ("4640", "4130", "4700")
# BILL accounts whose numbers Exact lacks: bills coded to them wait in the failure queue until the
# account is added in Exact. (number, name, amount range)
BILL_ONLY_ACCOUNTS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("4995", "Conference fees", (300, 3000)),
    ("4996", "Research materials", (100, 2000)),
)
# A BILL account numbered in an old scheme: it maps to Exact 4640 only through a user override.
OVERRIDE_ACCOUNT = ("6500", "Stationery", "4640")
# A BILL department Exact has no cost center for.
BILL_ONLY_DEPARTMENT = ("600", "Research Lab")
JOURNALS: tuple[tuple[str, str, int], ...] = (
    ("10", "Cash", 10),
    ("20", "Bank", 12),
    ("60", "Purchase journal", 22),
    ("70", "Sales journal", 20),
    ("90", "General journal", 90),
)
PURCHASE_JOURNAL = "60"
BANK_JOURNAL = "20"
GENERAL_JOURNAL = "90"
COST_UNITS: tuple[tuple[str, str], ...] = (("A1", "Client projects"), ("B1", "Internal"), ("C1", "Pre-sales"))

# Vendors and how each is found in Exact: by tax ID, by normalized name, by e-mail, ambiguously
# (two Exact suppliers share its normalized name), or not at all (it must be created).
# (BILL name, Exact name or "", match kind, category)
VENDORS: tuple[tuple[str, str, str, str], ...] = (
    ("Acme Cloud Services", "ACME Cloud Services, Inc.", "tax_id", "software"),
    ("Bluewater Travel Partners", "Bluewater Travel Partners LLC", "tax_id", "travel"),
    ("Cobalt Staffing Group", "Cobalt Staffing Grp", "tax_id", "subcontractor"),
    ("Delta Learning Institute", "Delta Learning Inst.", "tax_id", "training"),
    ("Evergreen Office Supply", "Evergreen Office Supply Co", "tax_id", "office"),
    ("Foxglove Design Studio", "Foxglove Design Studio", "tax_id", "subcontractor"),
    ("Granite Property Management", "Granite Property Mgmt", "tax_id", "facilities"),
    ("Helix Software Licensing", "Helix Software Licensing Ltd", "tax_id", "software"),
    ("Ironwood Legal LLP", "Ironwood Legal", "tax_id", "professional"),
    ("Juniper Telecom", "Juniper Telecom Inc", "tax_id", "telecom"),
    ("Keystone Hardware Depot", "Keystone Hardware", "tax_id", "hardware"),
    ("Lakeside Catering", "Lakeside Catering Services", "tax_id", "meals"),
    ("Meridian Marketing Co", "Meridian Marketing Company", "tax_id", "marketing"),
    ("Northstar Accountants", "North Star Accountants", "tax_id", "professional"),
    ("Oakridge Utilities", "Oakridge Utilities", "tax_id", "facilities"),
    ("Pinnacle Recruiting, LLC", "Pinnacle Recruiting LLC", "name", "recruitment"),
    ("Quartz Analytics Inc.", "QUARTZ ANALYTICS INC", "name", "software"),
    ("Redwood Consulting Partners", "Redwood Consulting Partners.", "name", "subcontractor"),
    ("Silverline Couriers", "Silverline  Couriers", "name", "office"),
    ("Tidewater Insurance Agency", "Tidewater Insurance Agency", "name", "facilities"),
    ("Umber & Co. Printing", "Umber & Co Printing", "name", "marketing"),
    ("Vantage Point Travel", "Vantage-Point Travel", "name", "travel"),
    ("Willow Cleaning Services", "Willow Cleaning Services Inc.", "name", "facilities"),
    ("Xenon Data Systems", "XDS Holdings", "email", "software"),
    ("Yellowstone Training Co", "YTC Learning", "email", "training"),
    ("Zephyr Devices", "Zephyr Device Corp (East)", "email", "hardware"),
    ("Aspen Event Venues", "Aspen Venues Group", "email", "meals"),
    ("Birchwood Freelance Network", "BFN Contracting", "email", "subcontractor"),
    ("Summit Print Co", "", "ambiguous", "marketing"),
    ("Coastal IT Support", "", "ambiguous", "telecom"),
    ("Crescent Conference Center", "", "new", "conference"),
    ("Deepfield Research Supplies", "", "new", "research"),
    ("Elmstead Audio Visual", "", "new", "hardware"),
    ("Fairview Coworking", "", "new", "facilities"),
    ("Goldleaf Translation", "", "new", "subcontractor"),
    ("Harborview Hotels", "", "new", "travel"),
    ("Indigo Web Hosting", "", "new", "software"),
    ("Jasper Courier Express", "", "new", "office"),
    ("Kingfisher Coaching", "", "new", "training"),
    ("Larkspur Photography", "", "new", "marketing"),
    ("Mosaic UX Research", "", "new", "subcontractor"),
    ("Nimbus Backup Services", "", "new", "software"),
    ("Orchard Fresh Lunches", "", "new", "meals"),
    ("Prairie Wireless", "", "new", "telecom"),
    ("Quill & Ink Stationers", "", "new", "office"),
    ("Rivet Robotics Lab", "", "new", "hardware"),
    ("Sable Security Audits", "", "new", "professional"),
    ("Trellis Talent Search", "", "new", "recruitment"),
)
# Exact suppliers that share one normalized name, which makes the BILL vendor's match ambiguous.
AMBIGUOUS_EXACT_NAMES: dict[str, tuple[str, str]] = {
    "Summit Print Co": ("Summit Print Co.", "SUMMIT PRINT CO"),
    "Coastal IT Support": ("Coastal IT Support", "Coastal I.T. Support"),
}
# Exact relations unrelated to BILL: other suppliers, customers, and one blocked supplier.
OTHER_EXACT_RELATIONS: tuple[tuple[str, bool, bool], ...] = (
    ("Atlas Freight Forwarding", True, False),
    ("Beacon Payroll Services", True, False),
    ("Cedar Lane Landlords", True, False),
    ("Driftwood Furniture", True, False),
    ("Echo Valley Water", True, True),
    ("Fjord Capital Partners", False, False),
    ("Glacier Retail Group", False, False),
    ("Horizon Health Systems", False, False),
    ("Inlet Logistics", False, False),
)
# Vendor category -> (expense nature suffix or general code, weight of picking this vendor for a bill).
CATEGORY_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "software": ("40",),
    "travel": ("30",),
    "subcontractor": ("20",),
    "training": ("50",),
    "hardware": ("60",),
    "meals": ("70",),
    "marketing": ("80",),
    "telecom": ("90",),
    "office": ("4640", "6500"),
    "facilities": ("4600", "4610", "4620", "4630"),
    "professional": ("4700", "4710"),
    "recruitment": ("4910",),
    "conference": ("4995",),
    "research": ("4996",),
}
CATEGORY_WEIGHT: dict[str, int] = {"conference": 1, "research": 1}
DEFAULT_CATEGORY_WEIGHT = 4


REFERENCE_BUILD_ORDER = ("gl_accounts", "cost_centers", "cost_units", "journals", "financial_periods", "vendors",
                         "relations", "purchase_orders", "historic_entries")


def _mix(*parts: int) -> int:
    """A fast, stable 64-bit hash of integers (splitmix64), for per-index values without an RNG object."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ (part & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x


def bill_id(prefix: str, index: int) -> str:
    """A BILL-style 20-character ID: the object's prefix, then a sandbox marker and the index."""
    digits = _base36(index).rjust(13, "0")
    return f"{prefix}02SB{digits}"


def bill_id_index(value: str, prefix: str) -> int | None:
    """The index inside a sandbox BILL ID, or None when the ID is not one of ours."""
    if len(value) != 20 or not value.startswith(f"{prefix}02SB"):
        return None
    try:
        return int(value[7:], 36)
    except ValueError:
        return None


def _base36(n: int) -> str:
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = chars[r] + out
        if n == 0:
            return out


def iso_ms(epoch_ms: int) -> str:
    """BILL's timestamp format: 2026-12-15T23:15:23.127+00:00."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}+00:00"


def _mail_domain(name: str) -> str:
    """A made-up e-mail domain for a company name: 'Echo Valley Water' -> 'echovalleywater'."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


@dataclass(frozen=True)
class GLAccountSeed:
    id: str
    code: str
    description: str
    type: int
    balance_type: str  # B balance sheet, W profit and loss
    balance_side: str  # D debit, C credit
    blocked: bool = False
    use_costcenter: int = 0  # 0 optional, 1 mandatory, 2 not allowed
    duplicate_of: str | None = None


@dataclass(frozen=True)
class CostCenterSeed:
    id: str
    code: str
    description: str
    end_date: date | None = None


@dataclass(frozen=True)
class CodeSeed:
    id: str
    code: str
    description: str


@dataclass(frozen=True)
class JournalSeed:
    id: str
    code: str
    description: str
    type: int
    gl_account_code: str | None = None


@dataclass(frozen=True)
class PeriodSeed:
    id: str
    year: int
    period: int
    start: date
    end: date


@dataclass(frozen=True)
class RelationSeed:
    """An Exact crm Account: a supplier, a customer, or both."""

    id: str
    code: int
    name: str
    is_supplier: bool
    is_customer: bool
    blocked: bool
    vat_number: str | None
    email: str | None
    city: str
    vendor_index: int | None = None


@dataclass(frozen=True)
class PurchaseOrderSeed:
    id: str
    number: int
    supplier_id: str
    order_date: date
    receipt_date: date
    description: str
    your_ref: str
    status: int
    lines: tuple[tuple[str, float, float], ...]  # (description, quantity, unit price)


@dataclass(frozen=True)
class HistoricEntrySeed:
    """A purchase entry typed into Exact by hand before the connector existed."""

    id: str
    supplier_id: str
    entry_date: date
    your_ref: str
    description: str
    gl_code: str
    cost_center: str | None
    amount: float


@dataclass(frozen=True)
class VendorSeed:
    index: int
    id: str
    name: str
    email: str
    phone: str
    tax_id: str | None
    city: str
    state: str
    zip_code: str
    category: str
    match_kind: str  # tax_id, name, email, ambiguous, new
    invoice_style: str  # prefixed, numeric, dated
    payment_terms_days: int
    created_ms: int


@dataclass(frozen=True)
class ChartAccountSeed:
    id: str
    name: str
    number: str
    type: str
    archived: bool = False
    exact_code: str | None = None  # the Exact code it corresponds to, None when Exact lacks it


@dataclass(frozen=True)
class DepartmentSeed:
    id: str
    name: str
    short_name: str


@dataclass
class Firm:
    """Everything both sandboxes start with, derived from the settings' seed, size and anchor date."""

    settings: SandboxSettings
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"firm:{self.settings.seed}")
        # The reference data draws its IDs from one generator: build it now, in one fixed order, so that
        # IDs never depend on which sandbox reads what first.
        for name in REFERENCE_BUILD_ORDER:
            getattr(self, name)

    # ----- time -------------------------------------------------------------------------------
    @cached_property
    def history_end_ms(self) -> int:
        anchor = datetime.combine(self.settings.anchor, datetime.min.time(), tzinfo=UTC)
        return int(anchor.timestamp() * 1000)

    @cached_property
    def history_start_ms(self) -> int:
        return self.history_end_ms - self.settings.history_days * DAY_MS

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ----- Exact reference data ----------------------------------------------------------------
    @cached_property
    def gl_accounts(self) -> list[GLAccountSeed]:
        accounts: list[GLAccountSeed] = []
        for code, description, gl_type, side in BALANCE_ACCOUNTS:
            accounts.append(GLAccountSeed(self._uuid(), code, description, gl_type, "B", side, use_costcenter=2))
        for index, (unit_code, unit_name) in enumerate(UNITS, start=1):
            accounts.append(
                GLAccountSeed(self._uuid(), f"80{index}0", f"Revenue {unit_name}", 110, "W", "C", use_costcenter=1)
            )
            for suffix, nature, _bill_name, _range in UNIT_EXPENSES:
                accounts.append(
                    GLAccountSeed(
                        self._uuid(), f"4{index}{suffix}", f"{nature} {unit_name}",
                        125 if suffix == "10" else 121, "W", "D", use_costcenter=1,
                    )
                )
            del unit_code
        for code, description, gl_type, _in_bill, _range in GENERAL_EXPENSES:
            accounts.append(GLAccountSeed(self._uuid(), code, description, gl_type, "W", "D"))
        for code, description in BLOCKED_ACCOUNTS:
            accounts.append(GLAccountSeed(self._uuid(), code, description, 121, "W", "D", blocked=True))
        originals = {a.code: a for a in accounts}
        for code in DUPLICATED_CODES:
            original = originals[code]
            # Put the original early in ID order and its twin late, so they land on different pages.
            accounts[accounts.index(original)] = GLAccountSeed(**{**original.__dict__, "id": "0" + original.id[1:]})
            accounts.append(
                GLAccountSeed(
                    **{**original.__dict__, "id": "f" + self._uuid()[1:], "duplicate_of": original.code}
                )
            )
        return accounts

    @cached_property
    def cost_centers(self) -> list[CostCenterSeed]:
        centers = [CostCenterSeed(self._uuid(), code, name) for code, name in UNITS]
        ended = self.settings.anchor - timedelta(days=400)
        centers.append(CostCenterSeed(self._uuid(), "050", "Legacy Ventures", end_date=ended))
        return centers

    @cached_property
    def cost_units(self) -> list[CodeSeed]:
        return [CodeSeed(self._uuid(), code, name) for code, name in COST_UNITS]

    @cached_property
    def journals(self) -> list[JournalSeed]:
        return [
            JournalSeed(self._uuid(), code, name, j_type, BANK_CODE if j_type == 12 else None)
            for code, name, j_type in JOURNALS
        ]

    @cached_property
    def financial_periods(self) -> list[PeriodSeed]:
        periods = []
        first_year = (self.settings.anchor - timedelta(days=self.settings.history_days)).year - 1
        for year in range(first_year, self.settings.anchor.year + 2):
            for month in range(1, 13):
                start = date(year, month, 1)
                end = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
                periods.append(PeriodSeed(self._uuid(), year, month, start, end))
        return periods

    # ----- vendors and suppliers ----------------------------------------------------------------
    @cached_property
    def vendors(self) -> list[VendorSeed]:
        out = []
        cities = (("Portland", "OR", "97201"), ("Seattle", "WA", "98101"), ("Boise", "ID", "83702"),
                  ("Denver", "CO", "80202"), ("Austin", "TX", "78701"), ("Chicago", "IL", "60601"))
        for index, (name, _exact_name, kind, category) in enumerate(VENDORS):
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18]
            city, state, zip_code = cities[index % len(cities)]
            has_tax_id = kind == "tax_id" or (kind == "new" and index % 2 == 0)
            out.append(
                VendorSeed(
                    index=index,
                    id=bill_id("009", index),
                    name=name,
                    email=f"billing@{slug}.example",
                    phone=f"+1-555-{100 + index:03d}-{self.rng.randrange(1000, 9999)}",
                    tax_id=self._tax_id() if has_tax_id else None,
                    city=city,
                    state=state,
                    zip_code=zip_code,
                    category=category,
                    match_kind=kind,
                    invoice_style=("prefixed", "numeric", "dated")[index % 3],
                    payment_terms_days=(15, 30, 30, 45)[index % 4],
                    created_ms=self.history_start_ms - (400 - index) * DAY_MS,
                )
            )
        return out

    def _tax_id(self) -> str:
        """A US employer identification number (EIN), the tax ID BILL keeps for vendors."""
        return f"{self.rng.randrange(10, 99)}-{self.rng.randrange(1000000, 9999999)}"

    @cached_property
    def relations(self) -> list[RelationSeed]:
        """Exact crm Accounts: suppliers that match BILL vendors in seeded ways, and unrelated relations."""
        out: list[RelationSeed] = []
        code = iter(range(1001, 100000))
        for vendor in self.vendors:
            exact_name = VENDORS[vendor.index][1]
            if vendor.match_kind == "tax_id":
                out.append(self._relation(next(code), exact_name, vendor.tax_id, None, vendor.index))
            elif vendor.match_kind == "name":
                out.append(self._relation(next(code), exact_name, None, f"ap@{vendor.id[-6:]}.example", vendor.index))
            elif vendor.match_kind == "email":
                out.append(self._relation(next(code), exact_name, None, vendor.email, vendor.index))
            elif vendor.match_kind == "ambiguous":
                for twin in AMBIGUOUS_EXACT_NAMES[vendor.name]:
                    out.append(self._relation(next(code), twin, None, None, vendor.index))
        for name, is_supplier, blocked in OTHER_EXACT_RELATIONS:
            out.append(
                RelationSeed(self._uuid(), next(code), name, is_supplier, not is_supplier, blocked, None,
                             f"info@{_mail_domain(name)}.example", "Portland")
            )
        return out

    def _relation(
        self, code: int, name: str, vat: str | None, email: str | None, vendor_index: int
    ) -> RelationSeed:
        return RelationSeed(self._uuid(), code, name, True, False, False, vat, email, "Portland", vendor_index)

    @cached_property
    def purchase_orders(self) -> list[PurchaseOrderSeed]:
        suppliers = [r for r in self.relations if r.is_supplier and not r.blocked]
        orders = []
        for n in range(6):
            supplier = suppliers[(n * 5) % len(suppliers)]
            ordered = self.settings.anchor - timedelta(days=20 + n * 17)
            lines = tuple(
                (f"Item {k + 1} for order {n + 1}", float(self.rng.randrange(1, 20)),
                 float(self.rng.randrange(20, 400)))
                for k in range(1 + n % 3)
            )
            orders.append(
                PurchaseOrderSeed(
                    self._uuid(), 20001 + n, supplier.id, ordered, ordered + timedelta(days=14),
                    f"Purchase order {20001 + n} - {supplier.name}", f"PO-{20001 + n}",
                    (10, 20, 30, 10, 40, 20)[n], lines,
                )
            )
        return orders

    @cached_property
    def historic_entries(self) -> list[HistoricEntrySeed]:
        """A few entries typed by hand into Exact long ago; their YourRefs never collide with BILL's."""
        suppliers = [r for r in self.relations if r.is_supplier and r.vendor_index is not None]
        entries = []
        for n in range(5):
            supplier = suppliers[n * 3 % len(suppliers)]
            entry_date = self.settings.anchor - timedelta(days=self.settings.history_days + 30 + n * 11)
            entries.append(
                HistoricEntrySeed(
                    self._uuid(), supplier.id, entry_date, f"MANUAL-{entry_date.year}-{n + 1:03d}",
                    f"Typed in by hand ({supplier.name})", "4900", None, float(100 + 37 * n),
                )
            )
        return entries

    # ----- BILL reference data -------------------------------------------------------------------
    @cached_property
    def chart_of_accounts(self) -> list[ChartAccountSeed]:
        """BILL's chart of accounts before any sync: a partial mirror of Exact, under its own names."""
        out: list[ChartAccountSeed] = []
        n = iter(range(1, 10000))

        def add(name: str, number: str, acc_type: str, exact_code: str | None, archived: bool = False) -> None:
            out.append(ChartAccountSeed(bill_id("0ca", next(n)), name, number, acc_type, archived, exact_code))

        add("Accounts Payable", AP_CONTROL_CODE, "ACCOUNTS_PAYABLE", AP_CONTROL_CODE)
        add("Operating Checking", BANK_CODE, "BANK", BANK_CODE)
        for index, (_unit_code, unit_name) in enumerate(UNITS, start=1):
            for suffix, _nature, bill_name, _range in UNIT_EXPENSES:
                if suffix == "10":  # salaries never come through AP
                    continue
                code = f"4{index}{suffix}"
                add(f"{bill_name} - {unit_name}", code, "EXPENSE", code)
        for code, description, _type, in_bill, _range in GENERAL_EXPENSES:
            if in_bill:
                add(description.title(), code, "EXPENSE", code)
        for number, name, _range in BILL_ONLY_ACCOUNTS:
            add(name, number, "EXPENSE", None)
        add(OVERRIDE_ACCOUNT[1], OVERRIDE_ACCOUNT[0], "EXPENSE", OVERRIDE_ACCOUNT[2])
        add("Old Travel", "4990", "EXPENSE", "4990", archived=True)
        return out

    @cached_property
    def departments(self) -> list[DepartmentSeed]:
        units = (*UNITS, BILL_ONLY_DEPARTMENT)
        return [DepartmentSeed(bill_id("0de", i + 1), name, code) for i, (code, name) in enumerate(units)]

    @cached_property
    def _account_by_number(self) -> dict[str, ChartAccountSeed]:
        return {a.number: a for a in self.chart_of_accounts if not a.archived}

    @cached_property
    def _department_by_code(self) -> dict[str, DepartmentSeed]:
        return {d.short_name: d for d in self.departments}

    @cached_property
    def _vendor_wheel(self) -> list[int]:
        wheel = []
        for vendor in self.vendors:
            wheel.extend([vendor.index] * CATEGORY_WEIGHT.get(vendor.category, DEFAULT_CATEGORY_WEIGHT))
        return wheel

    # ----- bills and payments (lazy) -------------------------------------------------------------
    @cached_property
    def bill_count(self) -> int:
        return self.settings.bills

    def bill_created_ms(self, index: int) -> int:
        """Creation times rise with the index, so a time range is an index range."""
        span = self.history_end_ms - self.history_start_ms
        spacing = span / max(self.bill_count, 1)
        jitter = _mix(self.settings.seed, index, 1) % max(int(spacing // 2), 1)
        return self.history_start_ms + int(index * spacing) + jitter

    def _vendor_for(self, index: int) -> VendorSeed:
        wheel = self._vendor_wheel
        return self.vendors[wheel[_mix(self.settings.seed, index, 2) % len(wheel)]]

    def _bill_status(self, index: int) -> tuple[date, date, str, bool, bool, int]:
        """(invoice date, due date, approval status, paid, archived, updated ms) without the lines."""
        rng = random.Random(f"bill-status:{self.settings.seed}:{index}")
        vendor = self._vendor_for(index)
        created = self.bill_created_ms(index)
        age_days = (self.history_end_ms - created) / DAY_MS
        invoice_date = datetime.fromtimestamp(created / 1000, tz=UTC).date() - timedelta(days=rng.randrange(0, 8))
        due_date = invoice_date + timedelta(days=vendor.payment_terms_days)
        approval = self._approval_status(rng, age_days)
        paid = approval == "APPROVED" and age_days > 30 and rng.random() < 0.85
        archived = rng.random() < 0.015
        updated = min(created + rng.randrange(1, 72) * 3_600_000, self.history_end_ms - 1)
        if paid:
            updated = max(updated, self._payment_created_ms_for(index, created, due_date))
        return invoice_date, due_date, approval, paid, archived, max(updated, created)

    def bill_updated_ms(self, index: int) -> int:
        """The bill's updatedTime, without building the whole bill (for indexes and filters)."""
        return self._bill_status(index)[5]

    def bill(self, index: int) -> dict[str, Any]:
        """Bill number ``index`` as BILL's REST API returns it (nulls left out, as BILL does)."""
        vendor = self._vendor_for(index)
        invoice_date, due_date, approval, paid, archived, updated = self._bill_status(index)
        lines = self._bill_lines(random.Random(f"bill-lines:{self.settings.seed}:{index}"), vendor)
        amount = round(sum(line["amount"] for line in lines), 2)
        return {
            "id": bill_id("00n", index),
            "archived": archived,
            "vendorId": vendor.id,
            "vendorName": vendor.name,
            "amount": amount,
            "paidAmount": amount if paid else 0.0,
            "dueAmount": 0.0 if paid else amount,
            "scheduledAmount": 0.0,
            "creditAmount": 0.0,
            "description": f"{vendor.name} invoice",
            "dueDate": due_date.isoformat(),
            "invoice": {"invoiceNumber": self._invoice_number(index, vendor, invoice_date),
                        "invoiceDate": invoice_date.isoformat()},
            "billLineItems": lines,
            "payFromChartOfAccountId": self._account_by_number[BANK_CODE].id,
            "paymentStatus": "PAID" if paid else "UNPAID",
            "approvalStatus": approval,
            "createdBy": "00601SBXAPCLERK00001",
            "createdTime": iso_ms(self.bill_created_ms(index)),
            "updatedTime": iso_ms(updated),
        }

    def bill_is_paid(self, index: int) -> bool:
        return self._bill_status(index)[3]

    def _bill_lines(self, rng: random.Random, vendor: VendorSeed) -> list[dict[str, Any]]:
        codes = CATEGORY_ACCOUNTS[vendor.category]
        unit_index = rng.randrange(len(UNITS))
        lines = []
        for line_no in range(rng.choice((1, 1, 1, 2, 2, 3))):
            pick = codes[rng.randrange(len(codes))]
            number, amount_range, department = self._line_coding(pick, unit_index, rng)
            low, high = amount_range
            line_amount = round(rng.uniform(low, max(high, low + 1)) / 3 if line_no else rng.uniform(low, high), 2)
            account = self._account_by_number[number]
            classifications: dict[str, str] = {"chartOfAccountId": account.id}
            if department is not None:
                classifications["departmentId"] = self._department_by_code[department].id
            lines.append({
                "id": f"bli{rng.getrandbits(60):017x}"[:20],
                "amount": max(line_amount, 1.0),
                "quantity": 1,
                "price": max(line_amount, 1.0),
                "description": f"{account.name} {line_no + 1}",
                "classifications": classifications,
            })
        return lines

    def _line_coding(
        self, pick: str, unit_index: int, rng: random.Random
    ) -> tuple[str, tuple[int, int], str | None]:
        """(BILL account number, amount range, department code) for one line."""
        if len(pick) == 2:  # an expense nature booked per unit
            nature = next(e for e in UNIT_EXPENSES if e[0] == pick)
            unit_code = UNITS[unit_index][0]
            return f"4{unit_index + 1}{pick}", nature[3], unit_code
        if pick in {number for number, _name, _range in BILL_ONLY_ACCOUNTS}:
            amount_range = next(r for number, _n, r in BILL_ONLY_ACCOUNTS if number == pick)
            department = BILL_ONLY_DEPARTMENT[0] if pick == "4996" else UNITS[unit_index][0]
            return pick, amount_range, department
        if pick == OVERRIDE_ACCOUNT[0]:
            return pick, (20, 400), None
        general = next(g for g in GENERAL_EXPENSES if g[0] == pick)
        department = UNITS[unit_index][0] if rng.random() < 0.3 else None
        return pick, general[4], department

    @staticmethod
    def _approval_status(rng: random.Random, age_days: float) -> str:
        roll = rng.random()
        if age_days > 21:
            return "APPROVED" if roll < 0.95 else ("DENIED" if roll < 0.98 else "ASSIGNED")
        if roll < 0.5:
            return "APPROVED"
        return "ASSIGNED" if roll < 0.85 else ("UNASSIGNED" if roll < 0.95 else "DENIED")

    def _invoice_number(self, index: int, vendor: VendorSeed, invoice_date: date) -> str:
        if vendor.invoice_style == "prefixed":
            return f"INV-{invoice_date.year}-{index:05d}"
        if vendor.invoice_style == "dated":
            return f"{invoice_date:%Y%m}-{index % 1000:03d}{vendor.index:02d}"
        # Numeric invoice numbers are shared by neighbouring bills of different vendors, as happens in
        # real life: a lookup by invoice number alone would find the wrong entry.
        number = str(10000 + index // 2)
        partner = index ^ 1
        if partner < self.bill_count and self._vendor_for(partner).index == vendor.index and index % 2:
            number += "-1"
        return number

    def _payment_created_ms_for(self, index: int, created_ms: int, due_date: date) -> int:
        due_ms = int(datetime.combine(due_date, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)
        process = min(due_ms, self.history_end_ms - DAY_MS)
        return max(process - 2 * DAY_MS + 10 * 3_600_000, created_ms + 3_600_000) + index % 1000

    def payment_created_ms(self, index: int) -> int | None:
        """The createdTime of bill ``index``'s payment, without building the bill; None when it is unpaid."""
        _invoice, due_date, _approval, paid, _archived, _updated = self._bill_status(index)
        return self._payment_created_ms_for(index, self.bill_created_ms(index), due_date) if paid else None

    def payment(self, index: int) -> dict[str, Any] | None:
        """The payment of bill ``index`` as BILL's REST API returns it, or None when it is unpaid."""
        bill = self.bill(index)
        if bill["paymentStatus"] != "PAID":
            return None
        due = date.fromisoformat(bill["dueDate"])
        created = self._payment_created_ms_for(index, _parse_iso_ms(bill["createdTime"]), due)
        process_date = datetime.fromtimestamp((created + 2 * DAY_MS) / 1000, tz=UTC).date()
        return {
            "id": bill_id("stp", index),
            "vendorId": bill["vendorId"],
            "vendorName": bill["vendorName"],
            "billId": bill["id"],
            "billPayments": [{"id": bill_id("blp", index), "billId": bill["id"], "amount": bill["amount"]}],
            "amount": bill["amount"],
            "description": f"Payment for {bill['invoice']['invoiceNumber']}",
            "processDate": process_date.isoformat(),
            "fundingAccount": {"type": "BANK_ACCOUNT", "id": "bac02SB0000000000001"},
            "processingOptions": {"requestPayFaster": False, "createBill": False},
            "disbursementType": "ACH",
            "status": "PAID",
            "singleStatus": "CLEARED",
            "transactionNumber": f"TX{index:08d}",
            "confirmationNumber": f"P{_mix(self.settings.seed, index, 3) % 10**10:010d}",
            "onlinePayment": True,
            "createdBy": "00601SBXAPCLERK00001",
            "createdTime": iso_ms(created),
            "updatedTime": iso_ms(created + 2 * DAY_MS),
        }


def _parse_iso_ms(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp() * 1000)


def exact_supplier_code(code: int) -> str:
    """crm Account codes are 18-character, right-aligned strings (api-reference §4.3)."""
    return str(code).rjust(18)
