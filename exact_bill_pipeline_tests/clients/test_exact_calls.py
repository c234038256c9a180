"""Exact Online calls: retries, rate limits, the call budget, validation errors and paging, over real HTTP."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import UTC, datetime

import pytest
import requests

from exact_bill_pipeline.clients.exact_online import odata
from exact_bill_pipeline.clients.exact_online.odata import PagingError
from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline.transport.errors import BudgetExhausted, UncertainOutcome, ValidationFailed
from exact_bill_pipeline_tests.clients.client_helpers import add_fault, counters, exact_api, onboard, sandbox_get

SELECT = "ID,Code"


@pytest.fixture
def key() -> str:
    return generate_key()


def settings(**exact: object) -> SandboxSettings:
    return SandboxSettings(exact=dataclasses.replace(ExactSandboxSettings(), **exact))


def test_a_429_storm_is_waited_out_and_every_refused_call_is_counted_in_the_budget(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    add_fault(sandboxes, "exact", kind="rate_limit", path="hrm/Costcenters", count=4)

    centers = api.cost_centers()

    assert {c.code for c in centers} >= {"100", "200", "300", "400", "500"}
    assert counters(sandboxes, "exact")["rate_limited"] == 4
    assert api.budget.figures().day_spent == api.calls == 5  # 4 refused + 1 served: errors cost budget too


def test_a_burst_of_5xx_is_retried_on_reads(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    add_fault(sandboxes, "exact", kind="error", status=503, path="financial/Journals", count=3)
    assert {j.code for j in api.journals()} >= {"20", "60", "90"}
    assert api.calls == 4


def test_a_post_is_never_resent_blindly_after_a_5xx(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    add_fault(sandboxes, "exact", kind="error", status=503, path="crm/Accounts", method="POST", count=1)
    with pytest.raises(UncertainOutcome, match="look it up before sending it again"):
        api.create_supplier({"Name": "Never Twice LLC"})
    assert api.calls == 1


def test_a_lost_response_after_commit_is_reported_as_uncertain_and_the_record_exists(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    add_fault(sandboxes, "exact", kind="drop_response", path="crm/Accounts", method="POST", count=1)
    with pytest.raises(UncertainOutcome):
        api.create_supplier({"Name": "Committed But Unseen LLC"})
    found = list(api.rows("crm/Accounts", select="ID,Name", filter="Name eq 'Committed But Unseen LLC'"))
    assert len(found) == 1


def test_validation_errors_are_typed_with_exacts_lines_and_not_retried(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    with pytest.raises(ValidationFailed) as error:
        api.create_purchase_entry({"Journal": "90", "PurchaseEntryLines": []})
    assert len(error.value.lines) >= 2
    assert any("Relationship" in line for line in error.value.lines)
    assert api.calls == 1


def test_the_minutely_limit_is_never_exceeded_under_proactive_throttling(make_sandboxes, state_url, key):
    running = make_sandboxes(settings(minutely_limit=10))
    api = exact_api(running, state_url, key, minutely_call_limit=10)
    onboard(api)
    for _ in range(35):
        api.me()
    assert counters(running, "exact")["rate_limited"] == 0
    assert api.calls == 35


def test_budget_counts_are_shared_by_separate_clients(sandboxes, state_url, key):
    one, two = exact_api(sandboxes, state_url, key), exact_api(sandboxes, state_url, key)
    onboard(one)
    one.me()
    two.me()
    two.me()
    # A process counts the calls every process made; a busy one may hold a few claimed, not yet made.
    assert two.budget.figures().day_spent == 3
    assert 3 <= one.budget.figures().day_spent <= 3 + two.budget.max_claim


def test_reads_stop_cleanly_at_the_posting_reserve_with_the_time_to_resume(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key, daily_call_limit=5, posting_reserve=2)
    onboard(api)
    api.me()
    api.me()
    api.me()
    with pytest.raises(BudgetExhausted, match=r"2 API calls left today, kept in reserve for postings.*run again after "
                                              r"\d{4}-\d\d-\d\d 00:00:00 UTC") as stop:
        api.me()
    assert stop.value.resume_at.hour == 0
    # postings may still use the reserve
    api.create_supplier({"Name": "Reserve User Inc"})
    figures = api.budget.figures()
    assert (figures.day_spent, figures.day_left) == (4, 1)


def test_the_server_count_wins_when_it_is_higher(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    other = exact_api(sandboxes, state_url, key, client_id=api.auth.app.client_id)
    other.budget.limits = dataclasses.replace(other.budget.limits, enabled=False)  # an app outside our count
    for _ in range(4):
        other.me()
    api.me()
    assert api.budget.figures().day_spent == 5


def test_paging_follows_next_across_thousands_of_rows_on_bulk_pages(make_sandboxes, state_url, key):
    running = make_sandboxes(settings(extra_relations=2500, minutely_limit=1000))
    api = exact_api(running, state_url, key, minutely_call_limit=1000)
    onboard(api)
    rows = list(api.rows("bulk/CRM/Accounts", select="ID,Name", filter="IsSales eq true or IsSupplier eq true"))
    assert len(rows) >= 2500
    assert len({r["ID"] for r in rows}) == len(rows)
    assert api.calls == -(-len(rows) // 1000)


def test_the_page_cap_stops_paging_with_a_clear_error(make_sandboxes, state_url, key):
    running = make_sandboxes(settings(extra_relations=200))
    api = exact_api(running, state_url, key, max_pages=2)
    onboard(api)
    with pytest.raises(PagingError, match="stopped after 2 pages"):
        list(api.rows("crm/Accounts", select="ID,Name", filter="IsSales eq true or IsSupplier eq true"))


def test_a_repeated_page_is_detected_instead_of_looping():
    page = {"d": {"results": [{"ID": "a"}, {"ID": "b"}], "__next": "https://x/next?$skiptoken=1"}}
    pages = iter([page, {"d": {"results": [{"ID": "a"}, {"ID": "b"}], "__next": "https://x/next?$skiptoken=2"}}])
    with pytest.raises(PagingError, match="repeats page 1"):
        list(odata.pages(lambda _url: next(pages), "https://x/first"))
    looping = iter([page, {"d": {"results": [{"ID": "c"}], "__next": "https://x/next?$skiptoken=1"}}])
    with pytest.raises(PagingError, match="links to a page already read"):
        list(odata.pages(lambda _url: next(looping), "https://x/first"))


def test_dates_come_back_parsed_and_records_typed(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    accounts = api.sync_gl_accounts()
    assert len(accounts) >= 90
    assert all(isinstance(a.modified, datetime) and a.modified.tzinfo == UTC for a in accounts)
    assert {a.code for a in accounts if a.is_blocked} >= {"4990", "4991"}


def test_no_secret_reaches_logs_or_exception_texts(sandboxes, state_url, key, caplog):
    caplog.set_level(logging.DEBUG)
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    add_fault(sandboxes, "exact", kind="error", status=503, path="current/Me", count=2)
    add_fault(sandboxes, "exact", kind="drop_response", path="crm/Accounts", method="POST", count=1)
    texts = []
    api.me()
    sandboxes.clock.advance(580)
    api.me()  # refreshes
    for call in (lambda: api.create_supplier({"Name": "Leaky LLC"}),
                 lambda: api.create_purchase_entry({"Journal": "60"})):
        try:
            call()
        except Exception as exc:
            texts.append(str(exc))
            texts.append(repr(exc))
    tokens = Vault(StateStore(state_url), key).get(api.auth.name)
    secrets = [sandboxes.settings.exact.client_secret, tokens["access_token"], tokens["refresh_token"]]
    everything = caplog.text + "\n".join(texts) + repr(api.auth.app)
    assert "retrying" in caplog.text  # the log did record the retries
    for secret in secrets:
        assert secret not in everything
    assert not re.search(r"Bearer [A-Za-z0-9]", everything)


def test_the_sandbox_never_sees_more_calls_than_the_budget_counted(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    api.cost_centers()
    api.journals()
    served = sum(n for name, n in counters(sandboxes, "exact")["calls"].items() if "/api/v1/" in name)
    assert served == api.budget.figures().day_spent
    assert requests.get(f"{sandboxes.exact_url}/_sandbox/state", timeout=5).ok
    assert sandbox_get(sandboxes, "exact", "rate-limits")


def test_webhook_subscriptions_are_created_listed_and_deleted(sandboxes, state_url, key, webhook_catcher):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    subscription = api.create_webhook_subscription(topic="PurchaseEntries", callback_url=f"{webhook_catcher.url}/x")
    assert webhook_catcher.wait_for(1)[0].body == b""  # Exact's empty validation probe
    assert [s.id for s in api.webhook_subscriptions()] == [subscription.id]
    api.delete_webhook_subscription(subscription.id)
    assert api.webhook_subscriptions() == []
