"""Contract tests of the Exact sandbox's OData v2 conventions: envelope, paging, $select, $filter and friends."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import GUID, gl_accounts, odata_message, onboard, suppliers

GL = "financial/GLAccounts"
SELECT = {"$select": "ID,Code,Description,Modified", "$filter": "Type ne 0"}


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


def codes(client, filter_text: str, path: str = GL, select: str = "Code") -> list[str]:
    rows = [r for page in client.all_pages(path, {"$select": select, "$filter": filter_text}) for r in page]
    return [r[select.split(",")[0]] for r in rows]


def test_a_collection_comes_in_the_d_results_envelope_with_metadata_and_wcf_dates(client):
    response = client.get(GL, SELECT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    row = response.json()["d"]["results"][0]
    assert list(row) == ["__metadata", "ID", "Code", "Description", "Modified"]  # the type's order
    assert row["__metadata"]["type"] == "Exact.Web.Api.Models.GLAccount"
    assert row["__metadata"]["uri"] == f"{client.root}/{GL}(guid'{row['ID']}')"
    assert GUID.match(row["ID"])
    assert re.fullmatch(r"/Date\(\d{13}\)/", row["Modified"])


def test_pages_hold_60_rows_and_next_is_an_absolute_url_keeping_the_options_plus_a_guid_skiptoken(client):
    first = client.get(GL, SELECT).json()["d"]
    assert len(first["results"]) == 60
    url = urlsplit(first["__next"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{client.root}/{GL}"
    query = parse_qs(url.query)
    assert query["$select"] == [SELECT["$select"]]
    assert query["$filter"] == [SELECT["$filter"]]
    assert query["$skiptoken"] == [f"guid'{first['results'][-1]['ID']}'"]
    second = client.get(first["__next"]).json()["d"]
    assert "__next" not in second
    ids = [r["ID"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids) > 60


def test_duplicated_codes_are_served_as_they_are_on_different_pages(client):
    pages = client.all_pages(GL, {"$select": "ID,Code", "$filter": "Code eq '4640' or Code eq '4700'"})
    rows = [r for page in pages for r in page]
    assert sorted(r["Code"] for r in rows) == ["4640", "4640", "4700", "4700"]
    all_pages = client.all_pages(GL, SELECT)
    page_of = {r["ID"]: n for n, page in enumerate(all_pages) for r in page}
    twins = [r for r in rows if r["Code"] == "4640"]
    assert page_of[twins[0]["ID"]] != page_of[twins[1]["ID"]]


def test_an_entity_by_key_is_d_itself_and_an_unknown_key_is_404(client):
    row = client.results(GL, {"$select": "ID", "$filter": "Code eq '1600'"})[0]
    single = client.get(f"{GL}(guid'{row['ID']}')").json()["d"]
    assert single["Code"] == "1600"
    assert single["Type"] == 22
    assert "results" not in single
    missing = client.get(f"{GL}(guid'00000000-0000-4000-8000-000000000000')")
    assert missing.status_code == 404
    assert "error" in missing.json()
    assert client.get(f"{GL}(guid'nonsense')").status_code == 400


def test_a_collection_needs_select_or_top_1(client):
    response = client.get(GL, {"$filter": "Type ne 0"})
    assert response.status_code == 400
    assert odata_message(response) == "Please add a $select or a $top=1 statement to the query string."
    assert client.get(GL, {"$filter": "Type ne 0", "$top": "1"}).status_code == 200
    assert client.get(GL, {"$filter": "Type ne 0", "$top": "2"}).status_code == 400
    star = client.get(GL, {"$filter": "Code eq '1600'", "$select": "*"})
    assert star.status_code == 200
    assert "UseCostcenter" in star.json()["d"]["results"][0]


def test_select_of_an_unknown_property_names_the_property_and_the_type(client):
    response = client.get(GL, {"$select": "ID,Nope", "$filter": "Type ne 0"})
    assert response.status_code == 400
    assert odata_message(response) == "Could not find a property named 'Nope' on type 'Exact.Web.Api.Models.GLAccount'."


@pytest.mark.parametrize(("path", "key", "other", "fields"), [
    (GL, "ID", "Costcenter", "ID, Code, Description, Type, IsBlocked, Modified"),
    ("crm/Accounts", "ID", "City", "ID, Code, Name, IsSupplier, IsSales, Status, VATNumber, Email, Modified"),
    ("financialtransaction/TransactionLines", "ID", "Description",
     "ID, EntryID, EntryNumber, Date, FinancialYear, FinancialPeriod, JournalCode, Account, GLAccount, Modified"),
    ("purchaseorder/PurchaseOrders", "PurchaseOrderID", "Description",
     "PurchaseOrderID, OrderNumber, Supplier, OrderDate, Modified"),
    ("bulk/Financial/GLAccounts", "ID", "Costcenter", "ID, Code, Description, Type, IsBlocked, Modified"),
    ("bulk/CRM/Accounts", "ID", "City", "ID, Code, Name, IsSupplier, IsSales, Status, VATNumber, Email, Modified"),
    ("bulk/Financial/TransactionLines", "ID", "Description",
     "ID, EntryID, EntryNumber, Date, FinancialYear, FinancialPeriod, JournalCode, Account, GLAccount, Modified"),
])
def test_endpoints_with_a_sync_twin_demand_a_filter_on_a_listed_field(client, path, key, other, fields):
    expected = ("A GET request for this endpoint must have a $filter parameter with one of the following fields in "
                f"the url: {fields}.")
    for params in ({"$select": key}, {"$select": key, "$filter": f"{other} eq 'x'"}):
        response = client.get(path, params)
        assert response.status_code == 400, response.text
        assert odata_message(response) == expected
    assert client.get(path, {"$select": key, "$filter": f"{fields.split(', ')[1]} ne null"}).status_code == 200


def test_endpoints_without_a_sync_twin_need_no_filter(client):
    for path in ("hrm/Costcenters", "hrm/Costunits", "financial/Journals", "financial/FinancialPeriods"):
        assert client.get(path, {"$select": "ID"}).status_code == 200


def test_filter_comparisons_and_logic(client):
    assert codes(client, "Code eq '1600'") == ["1600"]
    assert set(codes(client, "Code ge '8010' and Code le '8030'")) == {"8010", "8020", "8030"}
    assert set(codes(client, "(Code eq '1000' or Code eq '1100') and Type eq 12")) == {"1100"}
    assert set(codes(client, "not (Type ne 12)")) == {"1100", "1110"}
    assert "1600" not in codes(client, "Code ne '1600' and Code lt '2000'")
    assert set(codes(client, "Code gt '8040'")) == {"8050"}
    assert set(codes(client, "IsBlocked eq true")) == {"4990", "4991", "4185"}
    assert codes(client, "Costcenter eq null and Code eq '1600'") == ["1600"]


def test_filter_functions_substringof_is_case_insensitive(client):
    assert set(codes(client, "substringof('SUBSCRIPTIONS', Description)")) == {
        "4140", "4240", "4340", "4440", "4540", "4950"}
    assert set(codes(client, "startswith(Description, 'bank')")) == {"1100", "1110", "4720"}
    assert set(codes(client, "endswith(Code, '50') and startswith(Code, '80')")) == {"8050"}
    assert codes(client, "toupper(Description) eq 'RENT'") == ["4600"]
    assert codes(client, "tolower(Code) eq '4600' and trim(Description) eq 'Rent'") == ["4600"]


def test_filter_literals_guid_datetime_int64_decimal(client):
    row = client.results(GL, {"$select": "ID,Code,Modified", "$filter": "Code eq '1600'"})[0]
    assert codes(client, f"ID eq guid'{row['ID'].upper()}'") == ["1600"]
    modified = datetime.fromtimestamp(int(row["Modified"][6:-2]) / 1000, tz=UTC)
    assert "1600" in codes(client, f"Modified eq datetime'{modified:%Y-%m-%dT%H:%M}'")
    assert "1600" in codes(client, f"Modified lt datetime'{modified:%Y-%m-%dT%H:%M}:00.001'")
    assert "1600" not in codes(client, f"Modified gt datetime'{modified:%Y-%m-%dT%H:%M:%S}'")
    assert set(codes(client, "Type eq 110L and Code lt '8030'")) == {"8010", "8020"}
    lines = client.results("financialtransaction/TransactionLines",
                           {"$select": "AmountDC", "$filter": "AmountDC gt 100.5M and EntryNumber gt 0"})
    assert lines
    assert all(r["AmountDC"] > 100.5 for r in lines)
    names = codes(client, "Name eq 'Umber & Co Printing'", "crm/Accounts", "Name")
    assert names == ["Umber & Co Printing"]
    assert codes(client, "Name eq 'O''Brien'", "crm/Accounts", "Name") == []


def test_crm_account_codes_are_18_characters_right_aligned(client):
    supplier = suppliers(client)[0]
    assert len(supplier["Code"]) == 18
    assert supplier["Code"] == supplier["Code"].strip().rjust(18)
    padded = codes(client, f"Code eq '{supplier['Code']}'", "crm/Accounts", "Code")
    assert padded == [supplier["Code"]]
    assert codes(client, f"Code eq '{supplier['Code'].strip()}'", "crm/Accounts", "Code") == []
    assert codes(client, f"trim(Code) eq '{supplier['Code'].strip()}'", "crm/Accounts", "Code") == [supplier["Code"]]


@pytest.mark.parametrize(("filter_text", "message"), [
    ("ID eq '1600'", "Operator 'eq' incompatible with operand types 'System.Guid' and 'System.String' at position 3."),
    ("Code eq 1600", "Operator 'eq' incompatible with operand types 'System.String' and 'System.Int32' at position 5."),
    ("IsBlocked eq 1", "Operator 'eq' incompatible with operand types 'System.Boolean' and 'System.Int32' "
                       "at position 10."),
    ("Modified gt '2024-01-01'", "Operator 'gt' incompatible with operand types 'System.DateTime' and "
                                 "'System.String' at position 9."),
    ("Code", "Expression of type 'System.Boolean' expected at position 0."),
    ("Code eq '1600", "Unterminated string literal at position 8 in 'Code eq '1600'."),
    ("Code eq '1600' and", "Expression expected at position 18."),
    ("(Code eq '1600'", "')' or operator expected at position 15."),
    ("Code eq '1' # 2", "Syntax error '#' at position 12."),
    ("Nope eq 1", "Could not find a property named 'Nope' on type 'Exact.Web.Api.Models.GLAccount'."),
    ("ID eq guid'xyz'", "Unrecognized 'Edm.Guid' literal 'guid'xyz'' at position 6."),
    ("Modified gt datetime'2024-01-01'", "Unrecognized 'Edm.DateTime' literal 'datetime'2024-01-01'' at position 12."),
    ("frobnicate(Code) eq 'x'", "Unknown function 'frobnicate' at position 0."),
    ("substringof(Type, 'x')", "No function signature for the function with name 'substringof' matches the specified "
                               "arguments. The function signatures considered are: substringof(String, String)."),
])
def test_filter_errors_are_400_with_wcf_style_messages(client, filter_text, message):
    response = client.get(GL, {"$select": "ID", "$filter": filter_text})
    assert response.status_code == 400
    assert odata_message(response) == message


def test_orderby_sorts_and_paging_follows_the_order(client):
    pages = client.all_pages(GL, {"$select": "ID,Code,Description", "$filter": "Type ne 0",
                                  "$orderby": "Description desc,Code"})
    assert len(pages) == 2
    rows = [r for page in pages for r in page]
    descriptions = [r["Description"].casefold() for r in rows]
    assert descriptions == sorted(descriptions, reverse=True)
    assert len({r["ID"] for r in rows}) == len(rows)
    unknown = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$orderby": "Nope"})
    assert unknown.status_code == 400


def test_top_limits_the_rows_and_carries_the_rest_into_next(client):
    first = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$top": "70"}).json()["d"]
    assert len(first["results"]) == 60
    assert parse_qs(urlsplit(first["__next"]).query)["$top"] == ["10"]
    second = client.get(first["__next"]).json()["d"]
    assert len(second["results"]) == 10
    assert "__next" not in second
    small = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$top": "5"}).json()["d"]
    assert len(small["results"]) == 5
    assert "__next" not in small
    assert client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$top": "-1"}).status_code == 400


def test_skip_and_unknown_system_options_are_refused(client):
    skip = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$skip": "60"})
    assert skip.status_code == 400
    assert odata_message(skip) == "$skip is not supported"
    unknown = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$format": "json"})
    assert unknown.status_code == 400
    custom = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "trace": "1"})
    assert custom.status_code == 200


def test_inlinecount_adds_the_total_as_a_string(client):
    data = client.get(GL, {"$select": "ID", "$filter": "Type ne 0", "$inlinecount": "allpages"}).json()["d"]
    assert int(data["__count"]) > 60
    assert isinstance(data["__count"], str)


def test_without_accept_json_the_answer_is_406_plain_text_not_atom(client, sandboxes):
    for accept in ("*/*", "application/atom+xml", "application/xml", "application/json;q=0"):
        response = client.get(GL, {"$select": "ID", "$filter": "Type ne 0"}, Accept=accept)
        assert response.status_code == 406
        assert response.headers["Content-Type"].startswith("text/plain")
        assert "Atom" in response.text
    ok = client.get(GL, {"$select": "ID", "$filter": "Type ne 0"}, Accept="application/json;odata=verbose")
    assert ok.status_code == 200


def test_bulk_pages_hold_1000_rows_and_need_select(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"extra_relations": 1500}))
    client = onboard(run)
    params = {"$select": "ID,Name", "$filter": "IsSupplier eq false"}
    pages = client.all_pages("bulk/CRM/Accounts", params)
    assert [len(p) for p in pages][:1] == [1000]
    assert sum(len(p) for p in pages) > 1500
    no_select = client.get("bulk/CRM/Accounts", {"$filter": "IsSupplier eq false", "$top": "1"})
    assert no_select.status_code == 400
    star = client.get("bulk/CRM/Accounts", {"$filter": "IsSupplier eq false", "$select": "*"})
    assert star.status_code == 400
    row = pages[0][0]
    assert row["__metadata"]["uri"].startswith(f"{client.root}/bulk/CRM/Accounts(guid'")
    normal = client.get("crm/Accounts", params).json()["d"]
    assert len(normal["results"]) == 60


def test_expand_gives_lines_as_results_and_otherwise_a_deferred_link(client):
    params = {"$select": "PurchaseOrderID,OrderNumber,PurchaseOrderLines", "$filter": "OrderNumber gt 0"}
    deferred = client.results("purchaseorder/PurchaseOrders", params)[0]
    assert set(deferred["PurchaseOrderLines"]) == {"__deferred"}
    expanded = client.results("purchaseorder/PurchaseOrders", {**params, "$expand": "PurchaseOrderLines"})
    for order in expanded:
        lines = order["PurchaseOrderLines"]["results"]
        assert lines
        assert all(line["PurchaseOrderID"] == order["PurchaseOrderID"] for line in lines)
    nested = client.results("purchaseorder/PurchaseOrders", {
        "$select": "OrderNumber,PurchaseOrderLines/Description", "$expand": "PurchaseOrderLines",
        "$filter": "OrderNumber eq 20003"})[0]
    line = nested["PurchaseOrderLines"]["results"][0]
    assert set(line) == {"__metadata", "Description"}
    link = client.get(deferred["PurchaseOrderLines"]["__deferred"]["uri"], {"$select": "ID,LineNumber"})
    assert link.status_code == 200
    assert link.json()["d"]["results"]


def test_entity_paths_are_case_sensitive_and_unknown_ones_are_404(client):
    assert client.get("financial/glaccounts", SELECT).status_code == 404
    assert client.get("financial/Nothing", SELECT).status_code == 404
    assert client.get("crm/CostCenters", SELECT).status_code == 404
    assert len(gl_accounts(client)) > 60
