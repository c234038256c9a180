"""The BILL client: one reused session, transparent re-login, limits, paging and writes, over real HTTP."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import UTC, datetime

import pytest
import requests

from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline.transport.errors import AuthenticationFailed, BudgetExhausted, ValidationFailed
from exact_bill_pipeline_tests.clients.client_helpers import add_fault, bill_api, counters, sandbox_get

LOGIN = "POST /connect/v3/login"


@pytest.fixture
def key() -> str:
    return generate_key()


def logins(running) -> int:
    return counters(running, "bill")["calls"].get(LOGIN, 0)


def settings(**bill: object) -> SandboxSettings:
    return SandboxSettings(bill=dataclasses.replace(BillSandboxSettings(), **bill))


def test_one_session_is_reused_across_calls_and_clients(sandboxes, state_url, key):
    one, two = bill_api(sandboxes, state_url, key), bill_api(sandboxes, state_url, key)
    one.vendors()
    two.vendors()
    one.chart_of_accounts()
    assert logins(sandboxes) == 1
    stored = Vault(StateStore(state_url), key).get(one.sessions.name)
    assert stored["sessionId"]


def test_an_idle_expired_session_is_replaced_by_one_login_before_the_call(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    api.vendors()
    sandboxes.clock.advance(36 * 60)
    api.vendors()
    assert logins(sandboxes) == 2
    assert "BDC_1109" not in str(counters(sandboxes, "bill")["errors_by_endpoint"])


def test_a_session_bill_dropped_is_replaced_transparently_once(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    api.vendors()
    stored = Vault(StateStore(state_url), key).get(api.sessions.name)
    bill = sandboxes.settings.bill
    requests.post(f"{sandboxes.bill_api_url}/v3/logout", timeout=5,
                  headers={"devKey": bill.dev_key, "sessionId": stored["sessionId"]})
    assert len(api.vendors()) == 48 + 1  # the firm's vendors, and since issue 14 the one billing in EUR
    assert logins(sandboxes) == 2
    assert counters(sandboxes, "bill")["statuses"].get("401") == 1


def test_sliding_expiry_keeps_a_busy_session_alive(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    for _ in range(4):
        api.vendor("00902SB0000000000001")
        sandboxes.clock.advance(20 * 60)
    assert logins(sandboxes) == 1


def test_wrong_credentials_are_one_clear_error(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key, password="wrong-password")
    with pytest.raises(AuthenticationFailed, match=r"BILL refused the login.*BDC_1101") as error:
        api.vendors()
    assert "wrong-password" not in str(error.value)


def test_the_login_cap_stops_before_bill_refuses(make_sandboxes, state_url, key):
    running = make_sandboxes(settings(logins_per_hour=3))
    api = bill_api(running, state_url, key, logins_per_hour=3)
    bill = running.settings.bill

    def lose_session() -> None:
        requests.post(f"{running.bill_api_url}/v3/logout", timeout=5,
                      headers={"devKey": bill.dev_key, "sessionId": api.sessions.session_id()})

    api.vendors()
    for _ in range(2):
        lose_session()
        api.vendors()
    lose_session()
    with pytest.raises(BudgetExhausted, match="3 logins an hour"):
        api.vendors()
    assert logins(running) == 3


def test_no_more_than_three_requests_are_in_flight(make_sandboxes, state_url, key):
    running = make_sandboxes(latency_ms=150)
    api = bill_api(running, state_url, key)
    api.vendors()
    errors: list[Exception] = []

    def read() -> None:
        try:
            api.vendor("00902SB0000000000002")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert "BDC_1322" not in str(counters(running, "bill"))
    assert counters(running, "bill")["statuses"].get("429", 0) == 0


def test_paging_reads_thousands_of_bills_once_each(make_sandboxes, state_url, key):
    running = make_sandboxes(bills=2500, ap_documents=False)  # the ordinary bills only: exactly 25 pages of 100
    api = bill_api(running, state_url, key)
    bills = api.bills()
    assert len(bills) == 2500
    assert len({b.id for b in bills}) == 2500
    assert counters(running, "bill")["calls"]["GET /connect/v3/bills"] == 25


def test_updated_since_reads_only_what_changed(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    everything = api.bills()
    newest = max(b.updated_time for b in everything)
    assert api.bills(updated_since=newest) == [b for b in everything if b.updated_time >= newest]
    created = api.bills(created_from=datetime(2000, 1, 1, tzinfo=UTC), created_before=everything[10].created_time)
    assert [b.id for b in created] == [b.id for b in everything[:10]]


def test_chart_of_accounts_entries_are_created_in_bulk_requests_of_fifty(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    payload = [{"name": f"Bulk account {n}", "account": {"type": "EXPENSE", "number": f"77{n:02d}"}}
               for n in range(60)]
    created = api.create_chart_accounts(payload)
    assert [a.account.number for a in created] == [p["account"]["number"] for p in payload]
    assert counters(sandboxes, "bill")["calls"]["POST /connect/v3/classifications/chart-of-accounts/bulk"] == 2
    archived = api.archive_chart_account(created[0].id)
    assert archived.archived


def test_a_refused_write_is_a_validation_error_with_bills_message(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    with pytest.raises(ValidationFailed) as error:
        api.create_chart_accounts([{"name": "Nope", "account": {"type": "NOT_A_TYPE", "number": "1"}}])
    assert error.value.lines


def test_departments_are_created_and_listed(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    [created] = api.create_departments([{"name": "Quality", "shortName": "700"}])
    assert created.short_name == "700"
    assert "Quality" in {d.name for d in api.departments()}


def test_webhook_subscriptions_are_created_rotated_and_deleted(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    subscription = api.create_subscription(name="pipeline", url="http://127.0.0.1:9/hook",
                                           events=["bill.created", "bill.updated"])
    assert subscription.security_key
    assert subscription.security_key not in repr(subscription)
    assert api.rotate_security_key(subscription.id) != subscription.security_key
    assert [s.id for s in api.subscriptions()] == [subscription.id]
    api.delete_subscription(subscription.id)
    assert api.subscriptions() == []


def test_no_bill_secret_reaches_logs_or_errors(sandboxes, state_url, key, caplog):
    caplog.set_level(logging.DEBUG)
    api = bill_api(sandboxes, state_url, key)
    api.vendors()
    sandboxes.clock.advance(40 * 60)
    api.vendors()
    session = Vault(StateStore(state_url), key).get(api.sessions.name)["sessionId"]
    bill = sandboxes.settings.bill
    for secret in (bill.password, bill.dev_key, session):
        assert secret not in caplog.text
        assert secret not in repr(api.sessions.login_settings)


def test_other_writers_never_wait_while_a_login_waits_on_bill(sandboxes, state_url, key):
    api = bill_api(sandboxes, state_url, key)
    add_fault(sandboxes, "bill", kind="delay", path="/connect/v3/login", seconds=2.0)
    thread = threading.Thread(target=api.vendors)
    thread.start()
    deadline = time.monotonic() + 20
    while sandbox_get(sandboxes, "bill", "faults")["faults"]:  # until the login is on its way
        assert time.monotonic() < deadline, "the login never reached BILL"
        time.sleep(0.02)

    started = time.monotonic()
    Inbox(StateStore(state_url)).add("bill", "event-1", "bill.updated", "00n1", {})  # the receiver's write
    waited = time.monotonic() - started
    thread.join(timeout=30)

    assert waited < 1.0  # not the 2 s the login takes (nor SQLite's 30 s busy timeout)
    assert logins(sandboxes) == 1
