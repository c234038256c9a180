"""Contract tests of the Exact sandbox's control surface under /_sandbox."""

from __future__ import annotations

import pytest
import requests

from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    control,
    gl_accounts,
    odata_message,
    onboard,
    purchase_entry,
)

PE = "purchaseentry/PurchaseEntries"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def test_a_new_gl_account_appears_in_the_api_and_a_duplicate_active_code_is_refused(client, sandboxes):
    created = control(sandboxes, "POST", "gl-accounts", {"code": "4995", "description": "Conference fees",
                                                         "type": 121, "use_costcenter": 1})
    assert created.status_code == 201
    row = client.results("financial/GLAccounts", {"$select": "ID,Code,UseCostcenter,BalanceType",
                                                  "$filter": "Code eq '4995'"})
    assert row == [{**row[0], "ID": created.json()["ID"], "Code": "4995", "UseCostcenter": 1, "BalanceType": "W"}]
    duplicate = control(sandboxes, "POST", "gl-accounts", {"code": "4995", "description": "Again"})
    assert duplicate.status_code == 400
    assert "4995" in duplicate.json()["error"]
    reused = control(sandboxes, "POST", "gl-accounts", {"code": "4990", "description": "Travel (new)"})
    assert reused.status_code == 201  # 4990 exists, but blocked


def test_blocking_a_gl_account_makes_postings_on_it_fail_and_unblocking_heals(client, sandboxes):
    assert control(sandboxes, "POST", "gl-accounts/4640/block").json()["updated"][0]["IsBlocked"] is True
    response = client.post(PE, purchase_entry(client))
    assert response.status_code == 500
    assert odata_message(response) == "G/L account is blocked: 4640"
    assert control(sandboxes, "POST", "gl-accounts/4640/unblock").status_code == 200
    assert client.post(PE, purchase_entry(client)).status_code == 201
    assert control(sandboxes, "POST", "gl-accounts/0000/block").status_code == 400


def test_cost_centers_can_be_added_and_ended(client, sandboxes):
    assert control(sandboxes, "POST", "cost-centers", {"code": "600", "description": "Research Lab"}).status_code == 201
    body = purchase_entry(client)
    body["PurchaseEntryLines"][0]["CostCenter"] = "600"
    assert client.post(PE, body).status_code == 201
    assert control(sandboxes, "POST", "cost-centers/600/end", {}).status_code == 200
    response = client.post(PE, body)
    assert response.status_code == 500
    assert odata_message(response) == "Cost center is no longer active: 600"
    assert control(sandboxes, "POST", "cost-centers", {"code": "600", "description": "x"}).status_code == 400


def test_suppliers_can_be_added_and_edited(client, sandboxes):
    added = control(sandboxes, "POST", "suppliers", {"name": "Crescent Conference Center", "email": "a@c.example"})
    assert added.status_code == 201
    supplier = added.json()
    assert supplier["IsSupplier"] is True
    assert len(supplier["Code"]) == 18
    edited = control(sandboxes, "PATCH", f"suppliers/{supplier['ID']}", {"blocked": True})
    assert edited.json()["Blocked"] is True
    response = client.post(PE, purchase_entry(client, Supplier=supplier["ID"]))
    assert odata_message(response) == f"Relationship is blocked: {supplier['Code'].strip()}"
    assert control(sandboxes, "POST", "suppliers", {"email": "x@y.example"}).status_code == 400
    assert control(sandboxes, "POST", "suppliers", {"name": "X", "colour": "blue"}).status_code == 400


def test_state_for_tests_entries_token_stats_and_rate_limits(client, sandboxes):
    entry = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    entries = control(sandboxes, "GET", "entries?kind=purchase").json()["purchase"]
    ours = next(e for e in entries if e["EntryID"] == entry["EntryID"])
    assert [line["LineNumber"] for line in ours["Lines"]] == [1, 2]
    assert sorted(t["LineNumber"] for t in ours["TransactionLines"]) == [0, 1, 2]
    assert control(sandboxes, "GET", "token-stats").json()["code_exchanges"] == 1
    limits = control(sandboxes, "GET", "rate-limits").json()
    assert sum(w["day_calls"] for w in limits["windows"].values()) >= 2
    state = control(sandboxes, "GET", "state").json()
    assert state["rows"]["PurchaseEntries"] == 6
    assert control(sandboxes, "GET", "entries?kind=sales").status_code == 400


def test_bad_control_input_is_a_400_with_a_reason(sandboxes):
    broken = requests.post(f"{sandboxes.exact_url}/_sandbox/gl-accounts", data="{nope", timeout=10)
    assert broken.status_code == 400
    assert "error" in broken.json()
    assert control(sandboxes, "POST", "gl-accounts", {"code": "", "description": "x"}).status_code == 400
    assert control(sandboxes, "POST", "delete", {"entity": "Journals", "id": "x"}).status_code == 400
    missing = control(sandboxes, "GET", "nothing-here")
    assert missing.status_code == 404
    assert "error" in missing.json()


def test_the_control_surface_is_never_faulted_nor_counted(client, sandboxes):
    control(sandboxes, "POST", "faults", {"kind": "error", "status": 500, "count": None})
    assert control(sandboxes, "GET", "state").status_code == 200
    assert client.get("hrm/Costcenters", {"$select": "ID"}).status_code == 500
    assert control(sandboxes, "DELETE", "faults").status_code == 200
    assert len(gl_accounts(client)) > 60
    counters = control(sandboxes, "GET", "counters").json()
    assert not any("_sandbox" in name for name in counters["calls"])


def test_a_fault_can_let_some_requests_through_before_it_fires(sandboxes):
    import requests as http

    http.post(f"{sandboxes.exact_url}/_sandbox/faults", timeout=5,
              json={"kind": "error", "status": 502, "path": "oauth2/auth", "skip": 2, "count": 1})
    statuses = [http.get(f"{sandboxes.exact_url}/api/oauth2/auth", allow_redirects=False, timeout=5).status_code
                for _ in range(4)]
    assert statuses[2] == 502
    assert 502 not in statuses[:2] + statuses[3:]


def test_a_bookkeeper_can_change_a_booked_line_and_sync_clients_see_it_with_the_entry_still_in_balance(
        client, sandboxes):
    entry = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    before = control(sandboxes, "GET", "state").json()["last_timestamp"]

    changed = control(sandboxes, "PATCH", f"entries/{entry['EntryID']}/lines/1",
                      {"amount": 160.25, "cost_center": "200", "gl_account": "4240"})

    assert changed.status_code == 200, changed.text
    assert changed.json()["AmountFC"] == 185.75
    synced = client.results("sync/Financial/TransactionLines", {
        "$select": "Timestamp,EntryID,LineNumber,AmountFC,CostCenter,GLAccountCode,Modified",
        "$filter": f"Timestamp gt {before}L"})
    mine = sorted((r["LineNumber"], r["AmountFC"], r["CostCenter"], r["GLAccountCode"]) for r in synced
                  if r["EntryID"] == entry["EntryID"])
    assert mine == [(0, -185.75, None, "1600"), (1, 160.25, "200", "4240")]
    assert all(r["Timestamp"] > before for r in synced)
    lines = client.results(f"{PE}(guid'{entry['EntryID']}')/PurchaseEntryLines", {"$select": "LineNumber,AmountFC"})
    assert sorted((r["LineNumber"], r["AmountFC"]) for r in lines) == [(1, 160.25), (2, 25.5)]


def test_a_line_change_is_refused_with_a_reason_when_it_would_not_be_booked(client, sandboxes):
    entry = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    path = f"entries/{entry['EntryID']}/lines"
    assert "cost center" in control(sandboxes, "PATCH", f"{path}/1", {"cost_center": "999"}).json()["error"].lower()
    assert control(sandboxes, "PATCH", f"{path}/1", {"gl_account": "0000"}).status_code == 400
    assert control(sandboxes, "PATCH", f"{path}/1", {"amount": "a lot"}).status_code == 400
    assert control(sandboxes, "PATCH", f"{path}/1", {"colour": "blue"}).status_code == 400
    assert control(sandboxes, "PATCH", f"{path}/9", {"amount": 1.0}).status_code == 400
    unknown = control(sandboxes, "PATCH", "entries/00000000-0000-4000-8000-000000000000/lines/1", {"amount": 1.0})
    assert unknown.status_code == 404
    processed = control(sandboxes, "GET", "entries?kind=purchase").json()["purchase"][0]  # seeded, processed
    refused = control(sandboxes, "PATCH", f"entries/{processed['EntryID']}/lines/1", {"amount": 1.0})
    assert "processed" in refused.json()["error"]
