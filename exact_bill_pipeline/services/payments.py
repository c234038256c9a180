"""A day of BILL payments: read into snapshots, then each settled payment posted to Exact exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.payments import (
    BillPart,
    InvoiceRef,
    PaymentSettings,
    bill_parts,
    credit_application_description,
    credit_application_id,
    credit_applications,
    is_settled,
    payment_content,
    payment_description,
    payment_diff,
    plan_credit_application,
    plan_payment_entry,
    settled_by,
)
from exact_bill_pipeline.domain.postings import content_hash, money, partition_of
from exact_bill_pipeline.domain.records import Payment
from exact_bill_pipeline.iterables import batched
from exact_bill_pipeline.services.bills import PREVIEW_ROWS, SAVE_CHUNK, day_groups, day_ranges
from exact_bill_pipeline.services.exactly_once import (
    Created,
    DoubtPolicy,
    Posting,
    PostingResult,
    post_and_record,
)
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline.state.claims import Claimant, claimed
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue, Report
from exact_bill_pipeline.state.ledger import Intent, LedgerEntry, PostingLedger


@dataclass
class PaymentReport:
    read: int = 0
    posted: int = 0
    recovered: int = 0
    already_posted: int = 0
    credits_applied: int = 0  # credit applications posted (or found after a doubt): documents of their own
    not_settled: int = 0
    queued: Counter[str] = field(default_factory=Counter)
    uncertain: list[str] = field(default_factory=list)
    claimed_elsewhere: list[str] = field(default_factory=list)
    changed_after_posting: list[dict[str, Any]] = field(default_factory=list)
    would_post: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)


def read_payments(bill: BillApi, store: StateStore, days: list[str]) -> int:
    """BILL's payments created on these days; BILL's payment list is filtered by createdTime like bills."""
    read = 0
    for start, end in day_ranges(days):
        for chunk in batched(bill.iter_payments(created_from=start, created_before=end), SAVE_CHUNK):
            # Stored as BILL's JSON as it came, every field kept; the record is what the domain reads.
            rows = [{"source_id": p.id, "partition": partition_of(p), "amount": p.amount, "status": p.status,
                     "archived": False, "updated_time": p.raw.get("updatedTime"),
                     "content_hash": content_hash(payment_content(p)), "data": p.raw} for p in chunk]
            with store.exclusive() as conn:
                snapshots.save_many(conn, "payment", rows)
            read += len(rows)
    return read


def post_payments(exact: ExactApi | None, store: StateStore, days: list[str], settings: PaymentSettings, *,
                  actor: str, dry_run: bool = False, only: set[str] | None = None, claimant: Claimant | None = None,
                  policy: DoubtPolicy | None = None) -> PaymentReport:
    """Posts each settled payment whose bills are all in Exact; a payment of an unposted bill waits in the queue.

    A payment voided or changed in BILL after it was posted is flagged, never posted again.
    """
    report = PaymentReport()
    with claimed(store, actor, claimant, needed=not dry_run and exact is not None) as holder:
        for group in day_groups(store, "payment", days):
            _post_days(exact, store, group, settings, report, actor=actor, dry_run=dry_run, only=only,
                       claimant=holder, policy=policy)
    return report


def _post_days(exact: ExactApi | None, store: StateStore, days: list[str], settings: PaymentSettings,
               report: PaymentReport, *, actor: str, dry_run: bool, only: set[str] | None,
               claimant: Claimant | None, policy: DoubtPolicy | None) -> None:
    ledger, queue = PostingLedger(store), FailureQueue(store)
    with store.transaction() as conn:
        day_payments = sorted((Payment.from_snapshot(s.data) for s in snapshots.in_partitions(conn, "payment", days)
                               if only is None or s.source_id in only),
                              key=lambda p: (str(p.raw.get("createdTime") or ""), p.id))
    entries = ledger.get_many("payment", [p.id for p in day_payments])
    applied = {credit_application_id(p.id, c): c for p in day_payments for c in credit_applications(p)}
    known = _Known(
        bills=ledger.get_many("bill", [part.bill_id for p in day_payments for part in bill_parts(p)]),
        credits=ledger.get_many("vendor_credit", list(set(applied.values()))),
        applications=ledger.get_many("credit_application", list(applied)))
    known.load_settlements(ledger)
    waiting = {item.source_id for item in queue.items(status="open", kind="payment", partitions=days)}
    postings: dict[str, tuple[Posting, Payment]] = {}
    applications: dict[str, tuple[Posting, Payment]] = {}
    problems: list[Report] = []  # written to the queue together, in one transaction
    for payment in day_payments:
        report.read += 1
        entry = entries.get(payment.id)
        if entry is not None and entry.state == "posted":
            pending = [c for c in credit_applications(payment) if getattr(
                known.applications.get(credit_application_id(payment.id, c)), "state", None) != "posted"]
            if _check_unchanged(entry, payment, queue, report, actor=actor, dry_run=dry_run) and pending:
                # Posted, unchanged: a credit application refused or in doubt before is still to be posted.
                plan = _plan(exact, payment, partition_of(payment), settings, known, problems, report,
                             dry_run=dry_run, paid=True)
                applications.update({key: (posting, payment) for key, posting in plan[1].items()})
            continue
        if not is_settled(payment):
            report.not_settled += 1
            continue
        posting, planned = _plan(exact, payment, partition_of(payment), settings, known, problems, report,
                                 dry_run=dry_run, paid=False)
        if posting is not None:
            postings[payment.id] = (posting, payment)
        applications.update({key: (posting, payment) for key, posting in planned.items()})
    queue.report_many(problems, actor=actor)

    def record(payment_id: str, result: PostingResult) -> None:
        posting, payment = postings[payment_id]
        _record(result, payment, posting, queue, report, actor=actor, was_waiting=payment_id in waiting)

    def record_application(key: str, result: PostingResult) -> None:
        posting, payment = applications[key]
        _record_application(result, payment, posting, queue, report, actor=actor)

    post_and_record({payment_id: posting for payment_id, (posting, _) in postings.items()}, ledger, claimant,
                    actor=actor, policy=policy, record=record, posted_so_far=lambda: report.posted + report.recovered,
                    noun="payment")
    # The payments first: a credit's settlement is a document of its own, after the money that came with it.
    post_and_record({key: posting for key, (posting, _) in applications.items()}, ledger, claimant,
                    actor=actor, policy=policy, record=record_application,
                    posted_so_far=lambda: report.credits_applied, noun="credit application")


@dataclass
class _Known:
    """What the ledger knows of the bills, credits and credit applications a group of payments touches.

    ``settled`` is, per bill, what payments and credit applications already sent to Exact settle of it, keyed by
    the payment they came with: a payment's own earlier attempts are not counted against it.
    """

    bills: dict[str, LedgerEntry]
    credits: dict[str, LedgerEntry]
    applications: dict[str, LedgerEntry]
    settled: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def load_settlements(self, ledger: PostingLedger) -> None:
        suppliers = [e.supplier_id for e in self.bills.values() if e.supplier_id]
        for entry in ledger.of_suppliers(["payment", "credit_application"], suppliers):
            if entry.state in SENT and entry.content is not None:
                owner = entry.source_id.split(":")[0]
                self.add(owner, settled_by(entry.content))

    def add(self, payment_id: str, amounts: dict[str, Decimal]) -> None:
        for bill_id, amount in amounts.items():
            by_payment = self.settled.setdefault(bill_id, {})
            by_payment[payment_id] = by_payment.get(payment_id, Decimal(0)) + amount

    def open_amount(self, bill_id: str, payment_id: str) -> Decimal:
        """The bill's amount less what other payments and credit applications settled of it."""
        others = sum((a for p, a in self.settled.get(bill_id, {}).items() if p != payment_id), Decimal(0))
        return money(self.bills[bill_id].amount) - others


# Ledger states of a document that is in Exact or may be: what it settles counts against a bill's open amount.
SENT = frozenset({"posted", "posting", "uncertain"})


def _check_unchanged(entry: LedgerEntry, payment: Payment, queue: FailureQueue, report: PaymentReport, *,
                     actor: str, dry_run: bool) -> bool:
    """A posted payment is never posted again; voided or changed in BILL since, it is flagged with the diff.

    True when it is unchanged.
    """
    diff = payment_diff(entry.content or {}, payment)
    if not diff:
        report.already_posted += 1
        return True
    _flag_changed(payment, diff, entry, queue, report, actor=actor, dry_run=dry_run)
    return False


def _flag_changed(payment: Payment, diff: dict[str, Any], entry: LedgerEntry | None, queue: FailureQueue,
                  report: PaymentReport, *, actor: str, dry_run: bool, entry_number: int | None = None) -> None:
    number = entry.entry_number if entry else entry_number
    report.changed_after_posting.append({"payment": payment.id, "entry": number, "diff": diff})
    if dry_run:
        return
    voided = diff.get("settlement", {}).get("after") == "voided"
    what = "voided" if voided else f"changed ({', '.join(diff)})"
    queue.report("payment", payment.id, partition=partition_of(payment), reason="changed_after_posting",
                 message=f"payment {what} in BILL after it was posted as Exact entry {number}; it is not posted "
                         f"again: {'reverse' if voided else 'correct'} the entry in Exact by hand",
                 snapshot=payment.raw, tried={"diff": diff, "exact_entry_id": entry.exact_entry_id if entry else None},
                 actor=actor)


def _plan(exact: ExactApi | None, payment: Payment, day: str, settings: PaymentSettings, known: _Known,
          problems: list[Report], report: PaymentReport, *, dry_run: bool,
          paid: bool) -> tuple[Posting | None, dict[str, Posting]]:
    """The payment's bank entry and one general journal entry per credit it applies, or why they wait.

    ``paid``: the payment itself is in Exact already; only its credit applications not posted yet are planned.
    """
    parts = bill_parts(payment)
    waits = _why_it_waits(payment, parts, known, settings, paid=paid)
    if waits is not None:
        reason, message, tried = waits
        if not dry_run:
            problems.append(Report("payment", payment.id, day, reason, message, payment.raw, tried))
        report.queued[reason] += 1
        return None, {}
    bills = [known.bills[part.bill_id] for part in parts]
    supplier_id = bills[0].supplier_id or ""
    invoices = {part.bill_id: InvoiceRef(part.bill_id, int(entry.entry_number or 0), entry.lookup_ref or "")
                for part, entry in zip(parts, bills, strict=True)}
    currency = _currency(payment, bills)
    planned: dict[str, Posting] = {}
    for credit_id, amounts in credit_applications(payment).items():
        key = credit_application_id(payment.id, credit_id)
        if key in known.applications and known.applications[key].state == "posted":
            continue
        credit_note = int(known.credits[credit_id].entry_number or 0)
        entry = plan_credit_application(payment, credit_id, amounts, supplier_id=supplier_id, invoices=invoices,
                                        credit_note=credit_note, settings=settings)
        known.add(payment.id, amounts)
        if dry_run or exact is None:
            report.would_post.append({"payment": payment.id, "credit": credit_id, **entry})
            continue
        content = {"payment": payment.id, "credit": credit_id,
                   "bills": {bill_id: str(amount) for bill_id, amount in amounts.items()}}
        intent = Intent("credit_application", key, day, content_hash(content), settings.general_journal, supplier_id,
                        credit_application_description(payment.id, credit_id), sum(amounts.values(), Decimal(0)),
                        content, entry)
        planned[key] = _posting(exact, intent, entry, "general", settings.general_journal,
                                credit_application_description(payment.id, credit_id))
    if paid or not any(part.amount for part in parts):
        return None, planned
    entry = plan_payment_entry(payment, supplier_id=supplier_id, invoices=invoices, settings=settings,
                               currency=currency)
    known.add(payment.id, {part.bill_id: part.amount for part in parts})
    if dry_run or exact is None:
        report.would_post.append({"payment": payment.id, **entry})
        return None, planned
    content, payment_id = payment_content(payment), payment.id
    refs = [invoices[part.bill_id].your_ref for part in parts]
    intent = Intent("payment", payment_id, day, content_hash(content), settings.journal, supplier_id,
                    payment_description(payment, refs), payment.amount, content, entry)
    return _posting(exact, intent, entry, settings.entry_kind, settings.journal, f"BILL {payment_id}"), planned


def _why_it_waits(payment: Payment, parts: list[BillPart], known: _Known, settings: PaymentSettings, *,
                  paid: bool) -> tuple[str, str, dict[str, Any]] | None:
    """The reason a payment (or its credit applications) cannot be posted yet: (reason, message, what was tried)."""
    missing = [p.bill_id for p in parts if p.bill_id not in known.bills or known.bills[p.bill_id].state != "posted"
               or known.bills[p.bill_id].entry_number is None]
    if not parts or missing:
        return ("bill_not_posted", f"the payment's bills are not in Exact yet ({', '.join(missing) or 'none named'}); "
                                   f"it is posted once they are", {"bills": missing})
    credits = sorted({c.credit_id for p in parts for c in p.credits})
    unposted = [c for c in credits if c not in known.credits or known.credits[c].state != "posted"
                or known.credits[c].entry_number is None]
    if unposted:
        return ("credit_not_posted", f"the payment applies vendor credit(s) {', '.join(unposted)}, which are not in "
                                     f"Exact as purchase credit notes yet; it is posted once they are",
                {"credits": unposted})
    if not paid:
        for part in parts:
            open_amount = known.open_amount(part.bill_id, payment.id)
            if part.settles > open_amount:
                bill = known.bills[part.bill_id]
                return ("overpaid",
                        f"the payment settles {part.settles:.2f} of bill {part.bill_id} (invoice {bill.lookup_ref}: "
                        f"{part.amount:.2f} paid, {part.settles - part.amount:.2f} in credits), but only "
                        f"{open_amount:.2f} of its {money(bill.amount):.2f} is still open after the payments and "
                        f"credits already posted; check the bill's payments in BILL (a payment voided, a bill "
                        f"changed), then replay it",
                        {"bill": part.bill_id, "settles": str(part.settles), "open": str(open_amount),
                         "bill_amount": str(money(bill.amount))})
    currencies = {known.bills[p.bill_id].sent.get("Currency") for p in parts}
    foreign = payment.exchange_rate is not None
    if len(currencies) > 1 or (foreign and None in currencies):
        booked = ", ".join(sorted(str(c or "the division's currency") for c in currencies))
        return ("payment_currency",
                f"the payment is in the vendor's currency at rate {payment.exchange_rate}, but its bills are in "
                f"Exact in {booked}; posting it would book its amount in the wrong currency. It waits until the "
                f"bills are posted in their own currency, then is replayed",
                {"currencies": sorted(str(c) for c in currencies), "rate": float(payment.exchange_rate or 0)})
    if foreign and credits:
        return ("payment_currency", "the payment applies vendor credits to bills in another currency; the connector "
                                    "does not settle those in Exact yet: match the credit note by hand in Exact",
                {"credits": credits})
    return None


def _currency(payment: Payment, bills: list[LedgerEntry]) -> str | None:
    """The bills' currency in Exact, for a payment that came with its own rate (a vendor billing in another one)."""
    if payment.exchange_rate is None:
        return None
    return bills[0].sent.get("Currency")


def _posting(exact: ExactApi, intent: Intent, entry: dict[str, Any], kind: str, journal: str,
             description: str) -> Posting:
    return Posting(intent, create=lambda guard: _create(exact, kind, entry, guard),
                   find=lambda sent: _find(exact, sent, journal, description))


def _record(result: PostingResult, payment: Payment, posting: Posting, queue: FailureQueue,
            report: PaymentReport, *, actor: str, was_waiting: bool) -> None:
    if result.outcome in {"posted", "recovered", "already_posted"}:
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        if was_waiting:
            queue.resolve("payment", payment.id, actor=actor, note=f"posted as Exact entry {result.entry_number}")
        if result.outcome != "already_posted" and len(report.preview) < PREVIEW_ROWS:
            report.preview.append({"payment": payment.id, "amount": str(payment.amount),
                                   "entry": result.entry_number})
        if result.sent_content is not None and (diff := payment_diff(result.sent_content, payment)):
            _flag_changed(payment, diff, None, queue, report, actor=actor, dry_run=False,
                          entry_number=result.entry_number)
    elif result.outcome == "busy":
        report.claimed_elsewhere.append(payment.id)
    elif result.outcome == "rejected":
        queue.report("payment", payment.id, partition=posting.intent.partition, reason="exact_rejected",
                     message=f"Exact refused the payment entry: {result.detail}", snapshot=payment.raw,
                     tried={"payload": posting.intent.payload, "status": result.error.status if result.error else None},
                     actor=actor, exact_message="\n".join(result.error.lines) if result.error else None)
        report.queued["exact_rejected"] += 1
    else:
        report.uncertain.append(payment.id)


def _record_application(result: PostingResult, payment: Payment, posting: Posting, queue: FailureQueue,
                        report: PaymentReport, *, actor: str) -> None:
    content = posting.intent.content or {}
    if result.outcome in {"posted", "recovered"}:
        report.credits_applied += 1
        if len(report.preview) < PREVIEW_ROWS:
            report.preview.append({"payment": payment.id, "credit": content.get("credit"),
                                   "amount": str(posting.intent.amount), "entry": result.entry_number})
    elif result.outcome == "busy":
        report.claimed_elsewhere.append(posting.source_id)
    elif result.outcome == "rejected":
        # Queued under the payment: replaying the payment posts what of it is still missing.
        queue.report("payment", payment.id, partition=posting.intent.partition, reason="exact_rejected",
                     message=f"Exact refused the entry that settles vendor credit {content.get('credit')} against "
                             f"the bills it was applied to: {result.detail}", snapshot=payment.raw,
                     tried={"payload": posting.intent.payload, "status": result.error.status if result.error else None},
                     actor=actor, exact_message="\n".join(result.error.lines) if result.error else None)
        report.queued["exact_rejected"] += 1
    elif result.outcome != "already_posted":
        report.uncertain.append(posting.source_id)


def _create(exact: ExactApi, kind: str, entry: dict[str, Any], guard: Callable[[], None]) -> Created:
    created = (exact.create_bank_entry(entry, guard=guard) if kind == "bank"
               else exact.create_general_journal_entry(entry, guard=guard))
    return Created(str(created.entry_id), created.entry_number)


def _find(exact: ExactApi, sent: dict[str, Any], journal: str, description: str) -> Created | None:
    """The entry posted for this document: in the journal it was sent to, a line carrying its BILL ID(s)."""
    lines = exact.find_transaction_lines(journal=sent.get("JournalCode") or journal, description=description)
    for line in lines:
        if line.entry_id is not None:
            return Created(str(line.entry_id), line.entry_number)
    return None

