"""Contract tests of the Exact sandbox's sync APIs: Timestamp row versions, paging, and sync/Deleted."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    advance,
    control,
    gl_accounts,
    odata_message,
    onboard,
    purchase_entry,
)

SYNC_GL = "sync/Financial/GLAccounts"
SYNC_ACCOUNTS = "sync/CRM/Accounts"
SYNC_TL = "sync/Financial/TransactionLines"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def since(client, path: str, timestamp: int, select: str = "Timestamp,ID") -> list[dict]:
    pages = client.all_pages(path, {"$select": select, "$filter": f"Timestamp gt {timestamp}L"})
    return [row for page in pages for row in page]


def test_sync_endpoints_filter_on_timestamp_only_and_need_it(client):
    missing = client.get(SYNC_GL, {"$select": "Timestamp,ID"})
    assert missing.status_code == 400
    assert odata_message(missing) == ("A GET request for this endpoint must have a $filter parameter with one of the "
                                      "following fields in the url: Timestamp.")
    other = client.get(SYNC_GL, {"$select": "ID", "$filter": "Timestamp gt 1L and Code eq '1600'"})
    assert other.status_code == 400
    assert "Timestamp" in odata_message(other)
    assert client.get(SYNC_GL, {"$select": "ID", "$filter": "Timestamp gt 1L", "$orderby": "Code"}).status_code == 400


def test_first_sync_with_timestamp_gt_1_returns_everything_in_rising_row_version_order(client):
    rows = since(client, SYNC_GL, 1, "Timestamp,ID,Code")
    assert len(rows) == len({r["ID"] for r in rows}) > 90
    stamps = [r["Timestamp"] for r in rows]
    assert stamps == sorted(stamps)
    assert min(stamps) > 2**31  # row versions are Int64 values
    row = rows[0]
    assert row["__metadata"]["uri"].endswith(f"/{SYNC_GL}({row['Timestamp']}L)")
    assert row["__metadata"]["type"] == "Exact.Web.Api.Models.Sync.Financial.GLAccount"


def test_sync_pages_hold_1000_rows_and_the_skiptoken_is_the_last_timestamp(make_sandboxes):
    client = onboard(make_sandboxes(sandbox_settings(exact={"extra_relations": 1200})))
    first = client.get(SYNC_ACCOUNTS, {"$select": "Timestamp,ID,Name", "$filter": "Timestamp gt 1L"}).json()["d"]
    assert len(first["results"]) == 1000
    query = parse_qs(urlsplit(first["__next"]).query)
    assert query["$skiptoken"] == [f"{first['results'][-1]['Timestamp']}L"]
    assert query["$filter"] == ["Timestamp gt 1L"]
    second = client.get(first["__next"]).json()["d"]
    assert "__next" not in second
    assert second["results"][0]["Timestamp"] > first["results"][-1]["Timestamp"]


def test_a_modified_record_shows_up_again_with_a_higher_timestamp(client, sandboxes):
    rows = since(client, SYNC_GL, 1, "Timestamp,ID,Code,IsBlocked")
    high = max(r["Timestamp"] for r in rows)
    assert since(client, SYNC_GL, high) == []
    assert control(sandboxes, "POST", "gl-accounts/4930/block").status_code == 200
    changed = since(client, SYNC_GL, high, "Timestamp,ID,Code,IsBlocked")
    assert [(r["Code"], r["IsBlocked"]) for r in changed] == [("4930", True)]
    assert changed[0]["ID"] == next(r["ID"] for r in rows if r["Code"] == "4930")


def test_a_record_changed_while_paging_reappears_on_a_later_page(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"extra_relations": 1200}))
    client = onboard(run)
    first = client.get(SYNC_ACCOUNTS, {"$select": "Timestamp,ID,Name", "$filter": "Timestamp gt 1L"}).json()["d"]
    seen = first["results"][5]
    assert control(run, "PATCH", f"suppliers/{seen['ID']}", {"city": "Tacoma"}).status_code == 200
    later = client.get(first["__next"]).json()["d"]["results"]
    assert [r["ID"] for r in later].count(seen["ID"]) == 1
    assert later[-1]["ID"] == seen["ID"]


def test_posted_entries_reach_sync_transaction_lines_header_first(client):
    high = max(r["Timestamp"] for r in since(client, SYNC_TL, 1))
    entry = client.post("purchaseentry/PurchaseEntries", purchase_entry(client), prefer=True).json()["d"]
    rows = since(client, SYNC_TL, high, "Timestamp,ID,EntryID,LineNumber,AmountDC")
    assert [(r["EntryID"], r["LineNumber"]) for r in rows] == [(entry["EntryID"], 0), (entry["EntryID"], 1),
                                                                (entry["EntryID"], 2)]


def test_sync_purchase_orders_have_header_rows_at_line_0_and_refuse_select_star(client):
    rows = since(client, "sync/PurchaseOrder/PurchaseOrders", 1,
                 "Timestamp,ID,PurchaseOrderID,LineNumber,OrderNumber,QuantityInPurchaseUnits")
    headers = [r for r in rows if r["LineNumber"] == 0]
    assert len(headers) == 6
    assert all(h["ID"] == h["PurchaseOrderID"] for h in headers)
    lines = [r for r in rows if r["LineNumber"] >= 1]
    assert lines
    assert all(line["QuantityInPurchaseUnits"] > 0 for line in lines)
    star = client.get("sync/PurchaseOrder/PurchaseOrders", {"$select": "*", "$filter": "Timestamp gt 1L"})
    assert star.status_code == 400


def test_sync_deleted_logs_control_deletions_with_entity_types(client, sandboxes):
    accounts = gl_accounts(client)
    supplier = client.results("crm/Accounts", {"$select": "ID", "$filter": "Name eq 'Atlas Freight Forwarding'"})[0]
    assert since(client, "sync/Deleted", 1) == []
    assert control(sandboxes, "POST", "delete", {"entity": "GLAccounts", "id": accounts["4980"]["ID"]}).ok
    assert control(sandboxes, "POST", "delete", {"entity": "Accounts", "id": supplier["ID"]}).ok
    deleted = since(client, "sync/Deleted", 1, "Timestamp,ID,EntityKey,EntityType,DeletedBy,DeletedDate,Division")
    assert [(r["EntityType"], r["EntityKey"]) for r in deleted] == [(7, accounts["4980"]["ID"]),
                                                                    (2, supplier["ID"])]
    assert deleted[0]["Division"] == sandboxes.settings.exact.division
    assert deleted[0]["DeletedDate"].startswith("/Date(")
    assert client.get(f"financial/GLAccounts(guid'{accounts['4980']['ID']}')").status_code == 404
    advance(sandboxes, 62 * 86_400)
    assert since(onboard(sandboxes), "sync/Deleted", 1) == []  # the log is kept two months
