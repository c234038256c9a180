"""A day of BILL payments: read into snapshots, then each settled payment posted to Exact exactly once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from exact_bill_pipeline.clients.bill.api import BillApi
from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.domain.payments import (
    PaymentSettings,
    is_settled,
    paid_bill_ids,
    payment_content,
    payment_description,
    plan_payment_entry,
)
from exact_bill_pipeline.domain.postings import content_hash, money, partition_of
from exact_bill_pipeline.services.bills import PREVIEW_ROWS, day_bounds
from exact_bill_pipeline.services.exactly_once import Created, Posting, post_exactly_once
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.ledger import PostingLedger


@dataclass
class PaymentReport:
    read: int = 0
    posted: int = 0
    recovered: int = 0
    already_posted: int = 0
    not_settled: int = 0
    queued: Counter[str] = field(default_factory=Counter)
    uncertain: list[str] = field(default_factory=list)
    would_post: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)


def read_payments(bill: BillApi, store: StateStore, day: str) -> int:
    """BILL's payments created on ``day``; BILL's payment list is filtered by createdTime like bills."""
    start, end = day_bounds(day)
    items = [p.model_dump(mode="json", by_alias=True) for p in bill.payments(created_from=start, created_before=end)]
    with store.transaction() as conn:
        for item in items:
            snapshots.save(conn, "payment", item["id"], partition=partition_of(item), amount=money(item["amount"]),
                           status=item.get("status"), archived=False, updated_time=item.get("updatedTime"),
                           content_hash=content_hash(payment_content(item)),
                           data=item)
    return len(items)


def post_payments(exact: ExactApi | None, store: StateStore, day: str, settings: PaymentSettings, *, actor: str,
                  dry_run: bool = False, only: set[str] | None = None) -> PaymentReport:
    """Posts each settled payment whose bills are all in Exact; a payment of an unposted bill waits in the queue."""
    ledger, queue = PostingLedger(store), FailureQueue(store)
    report = PaymentReport()
    with store.transaction() as conn:
        day_payments = [s.data for s in snapshots.in_partition(conn, "payment", day)]
    for payment in day_payments:
        if only is not None and payment["id"] not in only:
            continue
        report.read += 1
        if not is_settled(payment):
            report.not_settled += 1
            continue
        _post_one(exact, payment, day, settings, ledger, queue, report, actor=actor, dry_run=dry_run)
    return report


def _post_one(exact: ExactApi | None, payment: dict[str, Any], day: str, settings: PaymentSettings,
              ledger: PostingLedger, queue: FailureQueue, report: PaymentReport, *, actor: str, dry_run: bool) -> None:
    bill_ids = paid_bill_ids(payment)
    bill_entries = [ledger.get("bill", bill_id) for bill_id in bill_ids]
    posted = [e for e in bill_entries if e is not None and e.state == "posted"]
    if not bill_ids or len(posted) != len(bill_ids):
        missing = [bid for bid, e in zip(bill_ids, bill_entries, strict=True) if e is None or e.state != "posted"]
        if not dry_run:
            queue.report("payment", payment["id"], partition=day, reason="bill_not_posted",
                         message=f"the payment's bills are not in Exact yet ({', '.join(missing) or 'none named'}); "
                                 f"it is posted once they are", snapshot=payment, tried={"bills": missing},
                         actor=actor)
        report.queued["bill_not_posted"] += 1
        return
    supplier_id = posted[0].supplier_id or ""
    invoices = [e.lookup_ref or "" for e in posted]
    entry = plan_payment_entry(payment, supplier_id=supplier_id, invoice_numbers=invoices, settings=settings)
    if dry_run or exact is None:
        report.would_post.append({"payment": payment["id"], **entry})
        return
    content = payment_content(payment)
    result = post_exactly_once(Posting(
        "payment", payment["id"], day, content_hash(content), settings.journal, supplier_id,
        payment_description(payment, invoices), money(payment["amount"]),
        create=lambda: _create(exact, settings, entry), find=lambda: _find(exact, settings, payment["id"]),
        content=content,
    ), ledger, actor=actor)
    if result.outcome in {"posted", "recovered", "already_posted"}:
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        queue.resolve("payment", payment["id"], actor=actor, note=f"posted as Exact entry {result.entry_number}")
        if result.outcome != "already_posted" and len(report.preview) < PREVIEW_ROWS:
            report.preview.append({"payment": payment["id"], "amount": payment["amount"], "entry": result.entry_number})
    elif result.outcome == "rejected":
        queue.report("payment", payment["id"], partition=day, reason="exact_rejected",
                     message=f"Exact rejected the payment entry: {result.detail}", snapshot=payment,
                     tried={"payload": entry}, actor=actor,
                     exact_message="\n".join(result.error.lines) if result.error else None)
        report.queued["exact_rejected"] += 1
    else:
        report.uncertain.append(payment["id"])


def _create(exact: ExactApi, settings: PaymentSettings, entry: dict[str, Any]) -> Created:
    created = (exact.create_bank_entry(entry) if settings.entry_kind == "bank"
               else exact.create_general_journal_entry(entry))
    return Created(str(created.entry_id), created.entry_number)


def _find(exact: ExactApi, settings: PaymentSettings, payment_id: str) -> Created | None:
    lines = exact.find_transaction_lines(journal=settings.journal, description=f"BILL {payment_id}")
    for line in lines:
        if line.entry_id is not None:
            return Created(str(line.entry_id), line.entry_number)
    return None
