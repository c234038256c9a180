"""Reference-data assets: Exact's GL accounts and cost centers, the mapping to BILL, Exact's purchase orders."""


import dagster as dg

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.defs.reporting import api_calls, call_marks, preview
from exact_bill_pipeline.defs.resources import StateDatabase
from exact_bill_pipeline.services import mapping, reference

GROUP = "reference_data"


class MappingConfig(dg.Config):
    dry_run: bool = False


@dg.asset(group_name=GROUP, kinds={"exact_online"})
def exact_gl_accounts(exact: ExactOnlineClient, state: StateDatabase) -> dg.MaterializeResult:
    """Exact's chart of accounts (GL accounts), read incrementally through the sync endpoint, and its VAT codes.

    Accounts come in once by ID; when two accounts share a code (left behind by an import), the active,
    newest one is kept and the merge is reported.
    """
    api = exact.api()
    marks = call_marks(api)
    report = reference.sync_gl_accounts(api, state.store())
    return dg.MaterializeResult(metadata={
        "rows_read": report.read, "rows_created": report.created, "rows_deleted": report.deleted,
        "dagster/row_count": report.kept, "incremental": report.incremental, "vat_codes": report.vat_codes,
        "merged": preview(report.merges, limit=50), **api_calls(api, since=marks),
    })


@dg.asset(group_name=GROUP, kinds={"exact_online"})
def exact_cost_centers(exact: ExactOnlineClient, state: StateDatabase) -> dg.MaterializeResult:
    """Exact's cost centers (the business units), read whole: Exact offers no sync endpoint for them."""
    api = exact.api()
    marks = call_marks(api)
    report = reference.sync_cost_centers(api, state.store())
    return dg.MaterializeResult(metadata={
        "rows_read": report.read, "rows_created": report.created, "rows_deleted": report.deleted,
        "dagster/row_count": report.kept, "merged": preview(report.merges, limit=50),
        **api_calls(api, since=marks),
    })


@dg.asset(group_name=GROUP, kinds={"bill"}, deps=[exact_gl_accounts, exact_cost_centers])
def account_mapping(context: dg.AssetExecutionContext, config: MappingConfig, bill: BillClient,
                    state: StateDatabase) -> dg.MaterializeResult:
    """Which BILL account and department means which Exact GL account and cost center.

    BILL gets every expense and usable balance account it lacks (number = Exact's code, name = Exact's
    description) and every cost center as a department; what Exact blocked is archived in BILL. Overrides
    made with `exact-bill mapping override` win. A rerun with nothing new writes nothing.
    """
    api = bill.api()
    marks = call_marks(bill=api)
    report = mapping.sync_mapping(api, state.store(), actor=context.run.run_id, dry_run=config.dry_run)
    plan = report.plan
    return dg.MaterializeResult(metadata={
        "dry_run": config.dry_run,
        "mapped": report.mapped, "unmapped": len(report.unmapped),
        "created_in_bill": len(report.accounts_created) + len(report.departments_created),
        "archived_in_bill": len(report.archived), "rows_changed": len(report.changed),
        "changed_bill_ids": dg.MetadataValue.json(sorted({row.bill_id for row in report.changed})),
        "would_create": preview([c.payload for c in plan.creations] if plan and config.dry_run else [], limit=50),
        "created": preview([{"record": r} for r in report.accounts_created + report.departments_created], 50),
        "unmapped_records": preview(report.unmapped, limit=50),
        **api_calls(bill=api, since=marks),
    })


@dg.asset(group_name=GROUP, kinds={"exact_online"})
def exact_purchase_orders(exact: ExactOnlineClient) -> dg.MaterializeResult:
    """Exact's purchase orders, read and shown here for reference. BILL has no purchase orders: never written."""
    api = exact.api()
    marks = call_marks(api)
    orders = api.purchase_orders()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(orders),
        "orders": preview([{"number": o.order_number, "supplier": str(o.supplier), "date": str(o.order_date)[:10],
                            "status": o.order_status, "description": o.description} for o in orders], limit=50),
        **api_calls(api, since=marks),
    })
