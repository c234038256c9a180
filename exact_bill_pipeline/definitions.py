"""The Dagster code location: one Definitions object, resources from the environment (sandbox by default)."""

from __future__ import annotations

import os

import dagster as dg

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.config import bill_client, exact_client
from exact_bill_pipeline.defs import alerts as alerting
from exact_bill_pipeline.defs import automation, checks, dead_runs, jobs, payables, queue, reconciliation, reference
from exact_bill_pipeline.defs.resources import (
    AccountingSettings,
    AlertSettings,
    StateDatabase,
    accounting_settings_from_env,
    alert_settings_from_env,
)
from exact_bill_pipeline.redaction import install_log_redaction
from exact_bill_pipeline.state.db import STATE_URL_ENV

ASSETS = [reference.exact_gl_accounts, reference.exact_cost_centers, reference.account_mapping,
          reference.exact_purchase_orders, payables.bill_vendors, payables.exact_suppliers, payables.bill_bills,
          payables.exact_purchase_entries, payables.bill_vendor_credits, payables.exact_purchase_credit_notes,
          payables.bill_payments, payables.exact_payment_entries, queue.failure_queue,
          reconciliation.exact_reconciliation]
CHECKS = [*checks.ALL_CHECKS, *reconciliation.RECONCILIATION_CHECKS]


def build_definitions(*, exact: ExactOnlineClient | None = None, bill: BillClient | None = None,
                      state: StateDatabase | None = None, accounting: AccountingSettings | None = None,
                      alerts: AlertSettings | None = None) -> dg.Definitions:
    """The whole graph; tests pass resources pointing at the sandboxes and a test database."""
    state_url = dg.EnvVar(STATE_URL_ENV) if os.environ.get(STATE_URL_ENV) else None
    return dg.Definitions(
        # Every job is a chain of steps that touch one Exact division one at a time: running them in one
        # process saves a Python start-up per step (seconds each), which is most of a webhook's latency.
        executor=dg.in_process_executor,
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[jobs.reference_sync, jobs.payables_sync, jobs.bills_sync, jobs.payments_sync, jobs.vendor_sync,
              jobs.full_sync, jobs.replay_failures, reconciliation.reconciliation_job],
        schedules=[automation.reference_schedule, automation.payables_schedule],
        sensors=[automation.replay_on_mapping_change, automation.polling_sweep, automation.inbox_sensor,
                 dead_runs.dead_run_sweep, queue.queue_automation, alerting.alert_on_run_failure,
                 alerting.alert_on_queue_growth],
        resources={
            "exact": exact or exact_client(for_dagster=True, state_url=state_url),
            "bill": bill or bill_client(for_dagster=True, state_url=state_url),
            "state": state or StateDatabase(url=state_url),
            "accounting": accounting or accounting_settings_from_env(),
            "alerts": alerts or alert_settings_from_env(),
        },
    )


# Every Dagster process (code server, run worker, `dagster dev`) imports this module before it logs a secret.
install_log_redaction()
defs = build_definitions()
