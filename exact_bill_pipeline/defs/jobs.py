"""Jobs: the reference sync, the payables sync (per day or over a range), a full sync, and replaying failures."""


import dagster as dg

from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.payables import (
    EXACT_WRITES_POOL,
    bill_bills,
    bill_payments,
    bill_vendor_credits,
    bill_vendors,
    exact_payment_entries,
    exact_purchase_credit_notes,
    exact_purchase_entries,
    exact_suppliers,
)
from exact_bill_pipeline.defs.queue import failure_queue
from exact_bill_pipeline.defs.reference import (
    account_mapping,
    exact_cost_centers,
    exact_gl_accounts,
    exact_purchase_orders,
)
from exact_bill_pipeline.defs.reporting import day_materializations
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.services import reference, replay

REFERENCE_ASSETS = [exact_gl_accounts, exact_cost_centers, account_mapping, exact_purchase_orders, bill_vendors,
                    exact_suppliers]
PAYABLES_ASSETS = [bill_bills, exact_purchase_entries, bill_vendor_credits, exact_purchase_credit_notes, bill_payments,
                   exact_payment_entries, failure_queue]

reference_sync = dg.define_asset_job(
    "reference_sync", selection=REFERENCE_ASSETS,
    description="GL accounts and cost centers from Exact, the mapping to BILL, vendors to Exact suppliers.")
payables_sync = dg.define_asset_job(
    "payables_sync", selection=PAYABLES_ASSETS,
    description="Bills and payments of the chosen days into Exact's journal. Run it over a range of days "
                "(a backfill) to catch up; one run handles the whole range.")
# The jobs webhooks start end with the failure queue and its checks, which read only the state database: the
# UI then shows a current result for every check after every run, at a few milliseconds' cost.
bills_sync = dg.define_asset_job(
    "bills_sync", selection=dg.AssetSelection.assets(bill_bills, exact_purchase_entries, failure_queue),
    description="The bills of the chosen days into Exact (what a bill webhook starts).")
payments_sync = dg.define_asset_job(
    "payments_sync", selection=dg.AssetSelection.assets(bill_vendor_credits, exact_purchase_credit_notes,
                                                        bill_payments, exact_payment_entries, failure_queue),
    description="The vendor credits and payments of the chosen days into Exact (what a payment webhook starts).")
vendor_sync = dg.define_asset_job(
    "vendor_sync", selection=dg.AssetSelection.assets(bill_vendors, exact_suppliers).without_checks(),
    description="BILL's vendors matched to (or created as) Exact suppliers (what a vendor webhook starts).")
full_sync = dg.define_asset_job(
    "full_sync", selection=REFERENCE_ASSETS + PAYABLES_ASSETS,
    description="Reference data first, then bills and payments of the chosen days.")


@dg.op(pool=EXACT_WRITES_POOL, description="Posts again every open failure-queue item that can be posted now.")
def replay_open_failures(context: dg.OpExecutionContext, exact: ExactOnlineClient, state: StateDatabase,
                         accounting: AccountingSettings) -> None:
    store = state.store()
    gl_by_code = {row["code"]: row["id"] for row in reference.stored_gl_accounts(store).rows}
    payment_settings = accounting.payments(gl_by_code.get(accounting.ap_account_code, ""),
                                           gl_by_code.get(accounting.bank_account_code, ""))
    report = replay.replay(exact.api(), store, accounting.posting(), payment_settings, actor=context.run.run_id,
                           policy=accounting.doubt_policy())
    # Only the days where something reached Exact get a new materialization, with that day's own figures: a
    # replay that posts nothing changes no day and must not hide what the day showed before.
    for kind, asset in (("bill", exact_purchase_entries.key), ("vendor_credit", exact_purchase_credit_notes.key),
                        ("payment", exact_payment_entries.key)):
        days = report.days_posted(kind)
        for event in day_materializations(asset, store, kind, days, run_id=context.run.run_id, posting=True):
            context.log_event(event)
    context.log.info(f"replay posted {report.posted} bill(s) and {report.payments_posted} payment(s); "
                     f"{report.still_open} item(s) still open")


@dg.job(description="Replays the failure queue: bills whose mapping, supplier or Exact problem is fixed are "
                    "posted (exactly once), then the payments waiting on them.")
def replay_failures() -> None:
    replay_open_failures()
