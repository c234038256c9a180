"""Real time: sandbox -> signed webhook -> receiver -> inbox -> sensor -> run -> entry in Exact."""

from __future__ import annotations

import time

import dagster as dg
import pytest
from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.cli.webhooks import build_app
from exact_bill_pipeline.defs.automation import inbox_sensor, replay_on_mapping_change
from exact_bill_pipeline.domain.events import Event, RunSpec, runs_for
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.serving import BackgroundServers
from exact_bill_pipeline.state.failures import FailureQueue
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import QUIET, bill_id_of, control, sandbox_entries
from exact_bill_pipeline_tests.pipeline.test_recovery import use_sandboxes


def test_a_burst_of_events_becomes_one_run_per_job_and_day():
    bill = {"createdTime": "2026-11-02T09:00:00.000+00:00"}
    events = [Event("bill", "bill.updated", {"bill": bill})] * 5 + [
        Event("bill", "bill.created", {"bill": {"createdTime": "2026-11-03T01:00:00.000+00:00"}}),
        Event("bill", "payment.updated", {"payment": {"createdTime": "2026-11-02T12:00:00.000+00:00"}}),
        Event("bill", "vendor.created", {"vendor": {"id": "v"}}),
        Event("exact", "GLAccounts.Create", {"Topic": "GLAccounts"}),
        Event("exact", "Accounts.Update", {"Topic": "Accounts"}),
        Event("exact", "PurchaseEntries.Create", {"Topic": "PurchaseEntries"}),
    ]
    assert runs_for(events) == [RunSpec("bills_sync", "2026-11-02"), RunSpec("bills_sync", "2026-11-03"),
                                RunSpec("payments_sync", "2026-11-02"), RunSpec("reference_sync", None),
                                RunSpec("vendor_sync", None)]


@pytest.fixture
def live(pipeline, monkeypatch):
    """The pipeline with a receiver running and the subscriptions registered against it."""
    use_sandboxes(pipeline, monkeypatch)
    pipeline.sync_everything()
    with BackgroundServers([build_app("/webhooks")], name="receiver") as (url,):
        result = CliRunner().invoke(main, ["webhooks", "register", "--public-url", url])
        assert result.exit_code == 0, result.output
        yield pipeline, url


def wait_for(condition, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def run_sensor_requests(pipeline, instance, cursor):
    """One sensor tick, and its runs executed in-process as the daemon would launch them."""
    result = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                  resources={"state": pipeline.resources["state"]}))
    defs = pipeline.definitions()
    for request in result.run_requests:
        job = defs.resolve_job_def(request.job_name)
        job.execute_in_process(instance=instance, partition_key=request.partition_key, run_config=QUIET)
    return result


def test_registering_twice_changes_nothing_and_the_subscriptions_can_be_listed_and_removed(live):
    _pipeline, url = live
    runner = CliRunner()
    again = runner.invoke(main, ["webhooks", "register", "--public-url", url])
    assert again.exit_code == 0, again.output
    lines = again.output.splitlines()
    assert not [line for line in lines if line.startswith("created")]
    assert len([line for line in lines if line.startswith("exists")]) == 3
    listed = runner.invoke(main, ["webhooks", "list"]).output
    assert "GLAccounts" in listed
    assert "Accounts" in listed
    assert "10 events, enabled" in listed
    removed = runner.invoke(main, ["webhooks", "remove", "--public-url", url])
    assert removed.output.count("removed") == 3
    assert "GLAccounts" not in runner.invoke(main, ["webhooks", "list"]).output


def test_a_new_bill_reaches_exacts_journal_through_the_webhook(live):
    pipeline, _url = live
    firm = Firm(pipeline.running.settings)
    vendor = next(v for v in firm.vendors if v.match_kind == "tax_id")
    account = next(a for a in firm.chart_of_accounts if a.exact_code and a.number.startswith("46"))
    started = time.monotonic()
    bill = control(pipeline.running, "bill", "POST", "bills", {
        "vendorId": vendor.id, "invoice": {"invoiceNumber": "RT-1", "invoiceDate": "2026-11-20"},
        "billLineItems": [{"amount": 123.45, "classifications": {"chartOfAccountId": account.id}}]})
    inbox = Inbox(pipeline.store)
    wait_for(lambda: any(e.entity_key == bill["id"] for e in inbox.after(0)), "the bill.created event")

    with dg.instance_for_test() as instance:
        result = run_sensor_requests(pipeline, instance, cursor=None)
        [request] = [r for r in result.run_requests if r.job_name == "bills_sync"]
        assert request.partition_key == bill["createdTime"][:10]
        entries = [e for e in sandbox_entries(pipeline.running) if bill_id_of(e) == bill["id"]]
        latency = time.monotonic() - started
        assert len(entries) == 1
        assert entries[0]["YourRef"] == "RT-1"
        print(f"webhook-to-journal latency, sensor ticked at once: {latency:.2f} s")

        # A second tick finds nothing new; the same event delivered again changes nothing.
        quiet = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor,
                                                     resources={"state": pipeline.resources["state"]}))
        assert quiet.run_requests == []


def test_a_gl_account_added_in_exact_releases_the_waiting_bills(live):
    pipeline, _url = live
    firm = Firm(pipeline.running.settings)
    vendor = next(v for v in firm.vendors if v.match_kind == "tax_id")
    conference = next(a for a in firm.chart_of_accounts if a.number == "4995")
    department = next(d for d in firm.departments if d.short_name == "100")
    bill = control(pipeline.running, "bill", "POST", "bills", {
        "vendorId": vendor.id, "invoice": {"invoiceNumber": "CONF-9", "invoiceDate": "2026-11-20"},
        "billLineItems": [{"amount": 880.0, "classifications": {"chartOfAccountId": conference.id,
                                                                 "departmentId": department.id}}]})
    inbox = Inbox(pipeline.store)
    with dg.instance_for_test() as instance:
        wait_for(lambda: any(e.entity_key == bill["id"] for e in inbox.after(0)), "the bill.created event")
        cursor = run_sensor_requests(pipeline, instance, cursor=None).cursor
        assert FailureQueue(pipeline.store).find("bill", bill["id"]).reason_code == "unmapped_gl_account"

        control(pipeline.running, "exact", "POST", "gl-accounts", {"code": "4995", "description": "Conference fees"})
        wait_for(lambda: any(e.source == "exact" and e.event_type.startswith("GLAccounts")
                             for e in inbox.after(int(cursor))), "the GLAccounts event")
        result = run_sensor_requests(pipeline, instance, cursor=cursor)
        assert "reference_sync" in {r.job_name for r in result.run_requests}
        replay = replay_on_mapping_change(dg.build_sensor_context(
            instance=instance, resources={"state": pipeline.resources["state"]}))
        assert len(replay.run_requests) == 1  # the sensor's one job: replay_failures
        pipeline.definitions().resolve_job_def("replay_failures").execute_in_process(
            instance=instance, run_config=QUIET)
    entries = [e for e in sandbox_entries(pipeline.running) if bill_id_of(e) == bill["id"]]
    assert len(entries) == 1
    assert FailureQueue(pipeline.store).find("bill", bill["id"]).status == "resolved"
