"""The firm's awkward AP documents (issue 14), built from the seed apart from its ordinary bills, whose IDs stay.

What a real firm has and the ordinary seeding lacks: vendor credits (two applied in payments, one not), a bill paid
in part and one paid in two payments, a vendor billing in EUR with an exchange rate on its bills (one paid at
another rate), accounts whose VAT codes add or include VAT, one invoice number used twice by one vendor, a bill
dated in a period closed at seeding, and a bill with a zero-amount line. Each document's place in time is a share
of the seeded history, so small firms have them too. IDs use indexes from AP_INDEX_BASE, far above any ordinary
bill's and below those of records made later (bill/store.py NEW_INDEX_BASE), so nothing collides.

The BILL records here are raw: the BILL sandbox settles their paid, due and credit amounts from their payments and
credits when it loads them (bill/ap_preload.py), and the Exact sandbox books the reference data (exact_online/
seeding.py).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from exact_bill_pipeline.sandbox.seed import DAY_MS, Firm, VendorSeed, bill_id, iso_ms

AP_INDEX_BASE = 36**11
USER_ID = "00601SBXAPCLERK00001"
EURO_VENDOR_NAME = "Lindqvist & Moreau SARL"
EURO_TAX_ID = "FR40303265045"
# VAT codes with percentages (a fraction: 0.06 is 6 %), and the accounts that carry them by default.
# (code, description, type, percentage)
VAT_CODES: tuple[tuple[str, str, str, float], ...] = (
    ("2", "Use tax 6% (excl.)", "E", 0.06),
    ("3", "Sales tax 8.25% (incl.)", "I", 0.0825),
)
VAT_CLAIM_ACCOUNT = "1500"
# (code, Exact description, BILL name, VAT code)
VAT_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("4670", "Equipment subject to use tax", "Equipment (Use Tax)", "2"),
    ("4680", "Event catering, sales tax included", "Event Catering (Tax Incl.)", "3"),
)
# EUR per the division's USD: (share of the history when the rate starts, rate); the first starts before it.
EURO_RATES: tuple[tuple[float, float], ...] = ((-0.5, 1.0800), (0.5, 1.0900), (0.9, 1.1000))


@dataclass(frozen=True)
class Line:
    account: str  # BILL account number
    amount: float
    description: str
    department: str | None = None  # unit code


@dataclass(frozen=True)
class BillPlan:
    """One AP document bill: who, what, when (shares of the history), and how it is paid."""

    key: str
    vendor: int | None  # index into firm.vendors; None for the vendor billing in EUR
    invoice_number: str
    lines: tuple[Line, ...]
    created: float
    payments: tuple[tuple[float, float], ...] = ()  # (share of the history, amount); 0 pays what is left
    credit: tuple[int, float] | None = None  # (vendor credit number, amount applied in the first payment)
    exchange_rate: float | None = None
    payment_rate: float | None = None
    invoice_date: date | None = None


PLANS: tuple[BillPlan, ...] = (
    BillPlan("part-paid", 0, "ACME-88412", (Line("4140", 4800.0, "Cloud platform, annual", "100"),), 0.52,
             payments=((0.62, 2000.0),)),
    BillPlan("two-payments", 2, "CSG-2291-A", (Line("4220", 9600.0, "Contract engineers, Q3", "200"),), 0.30,
             payments=((0.45, 6000.0), (0.58, 0.0))),
    BillPlan("credit-applied", 4, "EOS-55120", (Line("4640", 1240.0, "Office furniture"),), 0.60,
             payments=((0.75, 0.0),), credit=(0, 150.0)),
    BillPlan("credit-in-part", 10, "KHD-30077", (Line("4360", 2150.0, "Monitors and docks", "300"),), 0.64,
             payments=((0.78, 0.0),), credit=(1, 100.0)),
    BillPlan("vat-excluding", 10, "KHD-30091", (Line("4670", 1180.0, "Plotter (use tax due)"),), 0.70),
    BillPlan("vat-including", 11, "LC-7731", (Line("4680", 432.5, "Client event catering"),), 0.74),
    BillPlan("duplicate-first", 13, "NSA-2291", (Line("4700", 2400.0, "Quarterly bookkeeping"),), 0.40),
    BillPlan("duplicate-second", 13, "NSA-2291", (Line("4700", 2450.0, "Quarterly bookkeeping (re-sent)"),), 0.44),
    BillPlan("closed-period", 6, "GPM-RENT-OLD", (Line("4600", 6500.0, "Rent, before the books closed"),), 0.02),
    BillPlan("zero-line", 18, "SLC-118", (Line("4640", 86.0, "Courier runs"),
                                          Line("4640", 0.0, "Fuel surcharge (waived)")), 0.80),
    BillPlan("euro-paid", None, "LM-F-0412", (Line("4320", 3200.0, "Brand identity, phase 1", "300"),), 0.35,
             payments=((0.55, 0.0),), exchange_rate=1.0812, payment_rate=1.0956),
    BillPlan("euro-open", None, "LM-F-0467", (Line("4320", 1450.0, "Brand identity, phase 2", "300"),), 0.82,
             exchange_rate=1.0934),
)
# (vendor index, reference, share of the history, what it credits)
CREDITS: tuple[tuple[int, str, float, Line], ...] = (
    (4, "EOS-CR-0091", 0.56, Line("4640", 150.0, "Damaged chair returned")),
    (10, "KHD-CR-2210", 0.60, Line("4360", 300.0, "Returned docking stations", "300")),
    (9, "JT-CR-5521", 0.50, Line("4190", 85.4, "Outage credit", "100")),
)


class ApDocuments:
    """The AP documents of one firm: BILL's records and the Exact reference data they need."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        self.rng = random.Random(f"ap-documents:{firm.settings.seed}")

    # ----- time ------------------------------------------------------------------------------------------------
    def at(self, share: float, hours: int = 10) -> int:
        start, end = self.firm.history_start_ms, self.firm.history_end_ms
        moment = start + int((end - start) * share)
        return min(moment - moment % DAY_MS + hours * 3_600_000, end - 3_600_000)

    def day(self, share: float) -> date:
        return datetime.fromtimestamp(self.at(share) / 1000, tz=UTC).date()

    @cached_property
    def closed_day(self) -> date:
        """A day in the month that is closed: far enough before the history that no ordinary bill is dated in it."""
        return self.day(0.0) - timedelta(days=40)

    @property
    def closed_period(self) -> tuple[int, int]:
        return self.closed_day.year, self.closed_day.month

    # ----- vendors and accounts ----------------------------------------------------------------------------------
    @cached_property
    def euro_vendor(self) -> dict[str, Any]:
        stamp = iso_ms(self.firm.history_start_ms - 200 * DAY_MS)
        return {
            "id": bill_id("009", AP_INDEX_BASE), "archived": False, "name": EURO_VENDOR_NAME, "accountType": "BUSINESS",
            "email": "factures@lindqvist-moreau.example", "phone": "+33-4-7200-1188",
            "address": {"line1": "12 Rue de la Charité", "city": "Lyon", "zipOrPostalCode": "69002",
                        "country": "FR", "countryName": "France"},
            "paymentInformation": {"payeeName": EURO_VENDOR_NAME, "email": "factures@lindqvist-moreau.example"},
            "additionalInfo": {"taxId": EURO_TAX_ID, "track1099": False, "combinePayments": True},
            "billCurrency": "EUR", "networkStatus": "NOT_CONNECTED", "createdTime": stamp, "updatedTime": stamp,
        }

    @cached_property
    def chart_accounts(self) -> list[dict[str, Any]]:
        """BILL accounts for the VAT-bearing Exact accounts, under BILL's names."""
        stamp = iso_ms(self.firm.history_start_ms - 200 * DAY_MS)
        return [{"id": bill_id("0ca", AP_INDEX_BASE + n), "archived": False, "name": name,
                 "account": {"type": "EXPENSE", "number": code}, "createdTime": stamp, "updatedTime": stamp}
                for n, (code, _description, name, _vat) in enumerate(VAT_ACCOUNTS)]

    def uuid(self) -> str:
        """The next Exact ID of the AP documents' reference data (taken in the order the Exact seeding asks)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _bits(self, salt: str) -> int:
        # BILL's record IDs come from their own names, so they never depend on which record was built first.
        return random.Random(f"ap-documents:{self.firm.settings.seed}:{salt}").getrandbits(60)

    # ----- BILL documents ---------------------------------------------------------------------------------------
    @cached_property
    def _accounts(self) -> dict[str, str]:
        numbers = {a.number: a.id for a in self.firm.chart_of_accounts if not a.archived}
        return {**numbers, **{a["account"]["number"]: a["id"] for a in self.chart_accounts}}

    @cached_property
    def _departments(self) -> dict[str, str]:
        return {d.short_name: d.id for d in self.firm.departments}

    def _vendor(self, index: int | None) -> tuple[str, str]:
        if index is None:
            return self.euro_vendor["id"], self.euro_vendor["name"]
        vendor: VendorSeed = self.firm.vendors[index]
        return vendor.id, vendor.name

    @cached_property
    def vendor_credits(self) -> list[dict[str, Any]]:
        out = []
        for n, (vendor, reference, share, line) in enumerate(CREDITS):
            vendor_id, _name = self._vendor(vendor)
            stamp = iso_ms(self.at(share))
            item = {**self._line(line, reference), "id": f"vcl{self._bits(reference):017x}"[:20]}
            out.append({
                "id": bill_id("vcr", AP_INDEX_BASE + n), "vendorId": vendor_id, "referenceNumber": reference,
                "creditDate": self.day(share).isoformat(), "description": line.description, "archived": False,
                "amount": line.amount, "appliedAmount": 0.0, "status": "NOT_APPLIED",
                "vendorCreditLineItems": [{k: item[k] for k in ("id", "amount", "description", "classifications")}],
                "usage": [], "createdTime": stamp, "updatedTime": stamp,
            })
        return out

    @cached_property
    def bills(self) -> list[dict[str, Any]]:
        return [self._bill(n, plan) for n, plan in enumerate(PLANS)]

    def _bill(self, n: int, plan: BillPlan) -> dict[str, Any]:
        vendor_id, vendor_name = self._vendor(plan.vendor)
        created = self.at(plan.created)
        invoice_date = self.closed_day if plan.key == "closed-period" else self.day(plan.created) - timedelta(days=2)
        lines = [self._line(line, f"{plan.key}:{k}") for k, line in enumerate(plan.lines)]
        amount = round(sum(line.amount for line in plan.lines), 2)
        last_payment = max((self.at(share) for share, _amount in plan.payments), default=created)
        bill: dict[str, Any] = {
            "id": bill_id("00n", AP_INDEX_BASE + n), "archived": False, "vendorId": vendor_id,
            "vendorName": vendor_name, "amount": amount, "paidAmount": 0.0, "dueAmount": amount,
            "scheduledAmount": 0.0, "creditAmount": 0.0, "description": f"{vendor_name} invoice",
            "dueDate": (invoice_date + timedelta(days=30)).isoformat(),
            "invoice": {"invoiceNumber": plan.invoice_number, "invoiceDate": invoice_date.isoformat()},
            "billLineItems": lines, "payFromChartOfAccountId": self._accounts["1100"], "paymentStatus": "UNPAID",
            "approvalStatus": "APPROVED", "createdBy": USER_ID, "createdTime": iso_ms(created),
            "updatedTime": iso_ms(max(created, last_payment)),
        }
        if plan.exchange_rate is not None:
            bill["exchangeRate"] = plan.exchange_rate
            bill["fundingAmount"] = round(amount * plan.exchange_rate, 2)
        return bill

    def _line(self, line: Line, salt: str) -> dict[str, Any]:
        classifications = {"chartOfAccountId": self._accounts[line.account]}
        if line.department is not None:
            classifications["departmentId"] = self._departments[line.department]
        return {"id": f"bli{self._bits(salt):017x}"[:20], "amount": line.amount, "quantity": 1,
                "price": line.amount, "description": line.description, "classifications": classifications}

    @cached_property
    def payments(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for plan, bill in zip(PLANS, self.bills, strict=True):
            left = bill["amount"]
            for k, (share, amount) in enumerate(plan.payments):
                credit = plan.credit if k == 0 else None
                credited = credit[1] if credit else 0.0
                paid = round((amount or left) - (credited if not amount else 0.0), 2)
                out.append(self._payment(len(out), plan, bill, share, paid, credit))
                left = round(left - paid - credited, 2)
        return out

    def _payment(self, n: int, plan: BillPlan, bill: dict[str, Any], share: float, amount: float,
                 credit: tuple[int, float] | None) -> dict[str, Any]:
        created = self.at(share)
        part: dict[str, Any] = {"id": bill_id("blp", AP_INDEX_BASE + n), "billId": bill["id"], "amount": amount}
        if credit is not None:
            part["vendorCredits"] = [{"id": self.vendor_credits[credit[0]]["id"], "amount": credit[1]}]
        payment: dict[str, Any] = {
            "id": bill_id("stp", AP_INDEX_BASE + n), "vendorId": bill["vendorId"], "vendorName": bill["vendorName"],
            "billId": bill["id"], "billPayments": [part], "amount": amount,
            "description": f"Payment for {plan.invoice_number}",
            "processDate": datetime.fromtimestamp(created / 1000, tz=UTC).date().isoformat(),
            "fundingAccount": {"type": "BANK_ACCOUNT", "id": "bac02SB0000000000001"},
            "processingOptions": {"requestPayFaster": False, "createBill": False}, "disbursementType": "ACH",
            "status": "PAID", "singleStatus": "CLEARED", "transactionNumber": f"TX9{n:07d}",
            "confirmationNumber": f"P9{self._bits(f'payment:{n}') % 10**9:09d}", "onlinePayment": True,
            "createdBy": USER_ID, "createdTime": iso_ms(created), "updatedTime": iso_ms(created),
        }
        if plan.payment_rate is not None:
            payment["exchangeRate"] = plan.payment_rate
            payment["fundingAmount"] = round(amount * plan.payment_rate, 2)
        return payment

    # ----- Exact reference data -----------------------------------------------------------------------------------
    def euro_rates(self) -> list[tuple[float, int]]:
        """(rate, start in epoch ms) of EUR in the division, the first from before the history."""
        return [(rate, self.at(share) - self.at(share) % DAY_MS) for share, rate in EURO_RATES]
