"""Payables assets: BILL vendors matched to Exact suppliers, and bills and payments posted to Exact's journal."""

import contextlib
from collections.abc import Iterator

import dagster as dg

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.partitions import daily_partitions, partition_days
from exact_bill_pipeline.defs.reference import account_mapping
from exact_bill_pipeline.defs.reporting import api_calls, call_marks, per_day, preview
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.services import bills, payments, reference, vendor_credits, vendors
from exact_bill_pipeline.services.exactly_once import PostingStopped
from exact_bill_pipeline.state.claims import ClaimLost, claimed

GROUP = "payables"
# Writes to one Exact division never run in parallel (dagster.yaml gives every pool a limit of 1).
EXACT_WRITES_POOL = "exact_division_writes"
SINGLE_RUN = dg.BackfillPolicy.single_run()
Reported = dg.MaterializeResult | dg.AssetMaterialization


@contextlib.contextmanager
def stopped_plainly() -> Iterator[None]:
    """A run that posting stopped fails with the reason in plain words, first in the UI, not a traceback."""
    try:
        yield
    except (PostingStopped, ClaimLost) as stopped:
        raise dg.Failure(description=str(stopped)) from stopped


class PostingConfig(dg.Config):
    dry_run: bool = False


@dg.asset(group_name=GROUP, kinds={"bill"})
def bill_vendors(bill: BillClient, state: StateDatabase) -> dg.MaterializeResult:
    """BILL's vendors, read incrementally by their updated time."""
    api = bill.api()
    marks = call_marks(bill=api)
    read = vendors.read_vendors(api, state.store())
    return dg.MaterializeResult(metadata={"rows_read": read, "dagster/row_count": len(vendors.stored_vendors(
        state.store())), **api_calls(bill=api, since=marks)})


@dg.asset(group_name=GROUP, kinds={"exact_online"}, deps=[bill_vendors], pool=EXACT_WRITES_POOL)
def exact_suppliers(context: dg.AssetExecutionContext, exact: ExactOnlineClient, state: StateDatabase,
                    accounting: AccountingSettings) -> dg.MaterializeResult:
    """Each BILL vendor's Exact supplier: matched by tax ID, then name, then e-mail, or created once.

    A vendor that matches two suppliers (or only a blocked one) waits in the failure queue for a person.
    """
    api, store = exact.api(), state.store()
    marks = call_marks(api)
    with claimed(store, context.run.run_id, None) as claimant:
        synced = reference.sync_suppliers(api, store)
        report = vendors.match_and_create_suppliers(api, store, actor=context.run.run_id,
                                                    create=accounting.create_suppliers, claimant=claimant,
                                                    policy=accounting.doubt_policy())
    return dg.MaterializeResult(metadata={
        "exact_accounts_read": synced.read, "vendors": report.read, "matched": report.matched,
        "created": report.created, "queued": report.queued, "unchanged": report.unchanged,
        "matches": preview(report.matches, limit=50), **api_calls(api, since=marks),
    })


@dg.asset(group_name=GROUP, kinds={"bill"}, partitions_def=daily_partitions, backfill_policy=SINGLE_RUN)
def bill_bills(context: dg.AssetExecutionContext, bill: BillClient, state: StateDatabase) -> Iterator[Reported]:
    """BILL's bills, one partition per day they were created; re-reading a day picks up every change."""
    api = bill.api()
    marks = call_marks(bill=api)
    report = bills.read_bills(api, state.store(), partition_days(context))
    yield from per_day(context, state.store(), "bill", {
        "rows_read": report.read, "postable": report.postable, "changed_since_last_read": report.changed,
        **api_calls(bill=api, since=marks)}, posting=False)


@dg.asset(group_name=GROUP, kinds={"exact_online"}, partitions_def=daily_partitions, backfill_policy=SINGLE_RUN,
          deps=[bill_bills, account_mapping, exact_suppliers], pool=EXACT_WRITES_POOL)
def exact_purchase_entries(context: dg.AssetExecutionContext, config: PostingConfig, exact: ExactOnlineClient,
                           state: StateDatabase, accounting: AccountingSettings) -> Iterator[Reported]:
    """Each postable BILL bill as exactly one Exact purchase entry, on the mapped GL account and cost center.

    What cannot be posted (no mapping, no supplier, refused by Exact) goes to the failure queue with its
    reasons; a bill changed in BILL after it was posted is flagged, never posted twice. With dry_run,
    the journal lines are shown and nothing is written.
    """
    api = None if config.dry_run else exact.api()
    marks = call_marks(api)
    store, settings = state.store(), accounting.posting()
    with claimed(store, context.run.run_id, None, needed=not config.dry_run) as claimant, stopped_plainly():
        total = bills.post_bills(api, store, partition_days(context), settings, actor=context.run.run_id,
                                 dry_run=config.dry_run, claimant=claimant, policy=accounting.doubt_policy())
    if total.uncertain:
        context.log.warning(f"{len(total.uncertain)} bill(s) may or may not be in Exact; the next run looks "
                            f"them up before posting: {', '.join(total.uncertain)}")
    if total.claimed_elsewhere:
        context.log.info(f"{len(total.claimed_elsewhere)} bill(s) were being posted by another run and were left "
                         f"to it: {', '.join(total.claimed_elsewhere[:20])}")
    context.log.info(f"This run over {len(context.partition_keys)} day(s): {total.considered} bill(s) considered, "
                     f"{total.posted} posted, {total.recovered} found in Exact after a doubt, "
                     f"{total.already_posted} already posted, {sum(total.queued.values())} queued.")
    yield from per_day(context, store, "bill", {
        "dry_run": config.dry_run, "bills_considered": total.considered, "posted": total.posted,
        "recovered_after_uncertain_post": total.recovered, "already_posted": total.already_posted,
        "not_postable": total.not_postable, "queued": sum(total.queued.values()),
        "queued_by_reason": dg.MetadataValue.json(dict(total.queued)),
        "changed_after_posting": len(total.changed_after_posting), "uncertain": len(total.uncertain),
        "posted_by_another_run": len(total.claimed_elsewhere),
        "journal_lines_would_post": preview(total.would_post, limit=50),
        "posted_preview": preview(total.preview), **api_calls(api, since=marks),
    }, posting=True)


@dg.asset(group_name=GROUP, kinds={"bill"}, partitions_def=daily_partitions, backfill_policy=SINGLE_RUN)
def bill_vendor_credits(context: dg.AssetExecutionContext, bill: BillClient,
                        state: StateDatabase) -> Iterator[Reported]:
    """BILL's vendor credits, one partition per day they were created."""
    api = bill.api()
    marks = call_marks(bill=api)
    read = vendor_credits.read_vendor_credits(api, state.store(), partition_days(context))
    yield from per_day(context, state.store(), "vendor_credit", {"rows_read": read, **api_calls(bill=api, since=marks)},
                       posting=False)


@dg.asset(group_name=GROUP, kinds={"exact_online"}, partitions_def=daily_partitions, backfill_policy=SINGLE_RUN,
          deps=[bill_vendor_credits, account_mapping, exact_suppliers], pool=EXACT_WRITES_POOL)
def exact_purchase_credit_notes(context: dg.AssetExecutionContext, config: PostingConfig, exact: ExactOnlineClient,
                                state: StateDatabase, accounting: AccountingSettings) -> Iterator[Reported]:
    """Each BILL vendor credit as exactly one Exact purchase credit note (a purchase entry with negative amounts,
    Exact's type 31), on the mapped GL account and cost center, so payments can settle bills with it.

    What cannot be posted waits in the failure queue with its reasons, as bills do.
    """
    api = None if config.dry_run else exact.api()
    marks = call_marks(api)
    store = state.store()
    with claimed(store, context.run.run_id, None, needed=not config.dry_run) as claimant, stopped_plainly():
        total = vendor_credits.post_vendor_credits(api, store, partition_days(context), accounting.posting(),
                                                   actor=context.run.run_id, dry_run=config.dry_run,
                                                   claimant=claimant, policy=accounting.doubt_policy())
    context.log.info(f"This run over {len(context.partition_keys)} day(s): {total.considered} vendor credit(s) "
                     f"considered, {total.posted} posted, {total.already_posted} already posted, "
                     f"{sum(total.queued.values())} queued.")
    yield from per_day(context, store, "vendor_credit", {
        "dry_run": config.dry_run, "credits_considered": total.considered, "posted": total.posted,
        "recovered_after_uncertain_post": total.recovered, "already_posted": total.already_posted,
        "not_postable": total.not_postable, "queued": sum(total.queued.values()),
        "queued_by_reason": dg.MetadataValue.json(dict(total.queued)), "uncertain": len(total.uncertain),
        "changed_after_posting": len(total.changed_after_posting),
        "posted_by_another_run": len(total.claimed_elsewhere),
        "journal_lines_would_post": preview(total.would_post, limit=50), "posted_preview": preview(total.preview),
        **api_calls(api, since=marks),
    }, posting=True)


@dg.asset(group_name=GROUP, kinds={"bill"}, partitions_def=daily_partitions, backfill_policy=SINGLE_RUN)
def bill_payments(context: dg.AssetExecutionContext, bill: BillClient, state: StateDatabase) -> Iterator[Reported]:
    """BILL's payments, one partition per day they were created."""
    api = bill.api()
    marks = call_marks(bill=api)
    read = payments.read_payments(api, state.store(), partition_days(context))
    yield from per_day(context, state.store(), "payment", {"rows_read": read, **api_calls(bill=api, since=marks)},
                       posting=False)


@dg.asset(group_name=GROUP, kinds={"exact_online"}, partitions_def=daily_partitions, backfill_policy=SINGLE_RUN,
          deps=[bill_payments, exact_purchase_entries, exact_purchase_credit_notes], pool=EXACT_WRITES_POOL)
def exact_payment_entries(context: dg.AssetExecutionContext, config: PostingConfig, exact: ExactOnlineClient,
                          state: StateDatabase, accounting: AccountingSettings) -> Iterator[Reported]:
    """Each settled BILL payment as exactly one Exact bank entry, one line per bill it pays, matched to that bill's
    invoice; each vendor credit it applies as one general journal entry settling the credit note against the bills.

    A payment waits in the failure queue until the bills and credits it settles are posted, and when it pays more
    than a bill still owes (overpaid).
    """
    api = None if config.dry_run else exact.api()
    marks = call_marks(api)
    store = state.store()
    gl_by_code = {row["code"]: row["id"] for row in reference.stored_gl_accounts(store).rows}
    settings = accounting.payments(gl_by_code.get(accounting.ap_account_code, ""),
                                   gl_by_code.get(accounting.bank_account_code, ""))
    if not settings.ap_account_id:
        raise dg.Failure(f"Exact has no GL account {accounting.ap_account_code} (accounts payable, setting "
                         f"EXACT_AP_ACCOUNT_CODE); run the reference sync first or fix the setting.")
    with claimed(store, context.run.run_id, None, needed=not config.dry_run) as claimant, stopped_plainly():
        total = payments.post_payments(api, store, partition_days(context), settings, actor=context.run.run_id,
                                       dry_run=config.dry_run, claimant=claimant, policy=accounting.doubt_policy())
    context.log.info(f"This run over {len(context.partition_keys)} day(s): {total.read} payment(s) read, "
                     f"{total.posted} posted, {total.recovered} found in Exact after a doubt, "
                     f"{total.already_posted} already posted, {sum(total.queued.values())} queued.")
    yield from per_day(context, store, "payment", {
        "dry_run": config.dry_run, "payments_read": total.read, "posted": total.posted,
        "recovered_after_uncertain_post": total.recovered, "already_posted": total.already_posted,
        "credit_applications_posted": total.credits_applied,
        "not_settled": total.not_settled, "queued": sum(total.queued.values()),
        "queued_by_reason": dg.MetadataValue.json(dict(total.queued)), "uncertain": len(total.uncertain),
        "changed_after_posting": len(total.changed_after_posting),
        "posted_by_another_run": len(total.claimed_elsewhere),
        "entries_would_post": preview(total.would_post, limit=50), "posted_preview": preview(total.preview),
        **api_calls(api, since=marks),
    }, posting=True)
