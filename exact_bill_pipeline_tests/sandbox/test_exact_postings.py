"""Contract tests of writes to the Exact sandbox: purchase entries, general journal and bank entries, accounts."""

from __future__ import annotations

import copy

import pytest

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    GUID,
    control,
    entry_date,
    gl_accounts,
    odata_message,
    onboard,
    purchase_entry,
    suppliers,
)

PE = "purchaseentry/PurchaseEntries"
GJE = "generaljournalentry/GeneralJournalEntries"
BANK = "financialtransaction/BankEntries"
TL = "financialtransaction/TransactionLines"
TL_FIELDS = "EntryID,EntryNumber,LineNumber,GLAccountCode,AmountDC,Account,CostCenter,Type,JournalCode,YourRef," \
            "InvoiceNumber,Status,Description"


@pytest.fixture
def client(sandboxes):
    return onboard(sandboxes)


@pytest.fixture
def accounts(client):
    return gl_accounts(client)


def transaction_lines(client, entry_id: str) -> list[dict]:
    rows = client.results(TL, {"$select": TL_FIELDS, "$filter": f"EntryID eq guid'{entry_id}'"})
    return sorted(rows, key=lambda r: r["LineNumber"])


def posted(sandboxes, kind: str) -> list[dict]:
    return control(sandboxes, "GET", f"entries?kind={kind}").json()[kind]


def problems(response) -> set[str]:
    assert response.status_code == 500, response.text
    return set(odata_message(response).split("\n"))


def test_a_purchase_entry_without_prefer_comes_back_201_with_only_key_and_metadata(client):
    response = client.post(PE, purchase_entry(client))
    assert response.status_code == 201
    entity = response.json()["d"]
    assert GUID.match(entity["EntryID"])
    assert entity["__metadata"]["uri"] == f"{client.root}/{PE}(guid'{entity['EntryID']}')"
    assert response.headers["Location"] == entity["__metadata"]["uri"]
    assert entity["EntryNumber"] is None
    assert entity["AmountDC"] is None
    assert entity["PurchaseEntryLines"] is None


def test_a_purchase_entry_with_prefer_representation_comes_back_whole(client, sandboxes):
    body = purchase_entry(client)
    response = client.post(PE, body, prefer=True)
    assert response.status_code == 201
    entry = response.json()["d"]
    assert entry["EntryNumber"] == 60000006  # rising per journal, after the five entries typed in by hand
    assert (entry["Status"], entry["Type"], entry["Journal"]) == (20, 30, "60")
    assert entry["AmountDC"] == entry["AmountFC"] == 125.5
    assert entry["Supplier"] == body["Supplier"]
    assert entry["YourRef"] == "INV-2025-0042"
    assert entry["EntryDate"].startswith("/Date(")
    assert entry["ReportingYear"] == int(body["EntryDate"][:4])
    assert entry["ReportingPeriod"] == int(body["EntryDate"][5:7])
    lines = sorted(entry["PurchaseEntryLines"]["results"], key=lambda line: line["LineNumber"])
    assert [(line["LineNumber"], line["AmountFC"], line["CostCenter"]) for line in lines] == \
        [(1, 100.0, "100"), (2, 25.5, None)]
    assert len(posted(sandboxes, "purchase")) == 6
    again = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    assert again["EntryNumber"] == 60000007


def test_a_purchase_entry_produces_transaction_lines_with_the_ap_line_as_line_0(client, accounts):
    body = purchase_entry(client)
    entry = client.post(PE, body, prefer=True).json()["d"]
    lines = transaction_lines(client, entry["EntryID"])
    assert [r["LineNumber"] for r in lines] == [0, 1, 2]
    ap, first, second = lines
    assert (ap["GLAccountCode"], ap["AmountDC"]) == ("1600", -125.5)
    assert (first["GLAccountCode"], first["AmountDC"], first["CostCenter"]) == ("4140", 100.0, "100")
    assert (second["GLAccountCode"], second["AmountDC"]) == ("4640", 25.5)
    for row in lines:
        assert row["Account"] == body["Supplier"]
        assert (row["Type"], row["JournalCode"], row["Status"]) == (30, "60", 20)
        assert row["YourRef"] == body["YourRef"]
        assert row["InvoiceNumber"] == row["EntryNumber"] == entry["EntryNumber"]
    assert round(sum(r["AmountDC"] for r in lines), 2) == 0


def test_purchase_entry_validation_collects_every_problem_as_one_500_in_exact_words(client, sandboxes, accounts):
    body = purchase_entry(client)
    body.pop("Journal")
    body.pop("Supplier")
    body["PurchaseEntryLines"][0]["CostUnit"] = "ZZ"
    response = client.post(PE, body)
    assert response.json() == {"error": {"code": "", "message": {"lang": "", "value": odata_message(response)}}}
    assert problems(response) == {"Mandatory: Relationship", "Invalid reference: Cost unit", "Mandatory: Diary"}
    assert len(posted(sandboxes, "purchase")) == 5  # nothing was created


def test_purchase_entry_validation_wordings(client, accounts):
    relations = {r["Name"]: r for page in client.all_pages("crm/Accounts", {
        "$select": "ID,Name,Code", "$filter": "Name ne null"}) for r in page}
    blocked = relations["Echo Valley Water"]
    customer = relations["Glacier Retail Group"]
    cases = [
        ({"Supplier": "11111111-2222-4333-8444-555555555555"}, "Invalid reference: Relationship"),
        ({"Supplier": blocked["ID"]}, f"Relationship is blocked: {blocked['Code'].strip()}"),
        ({"Supplier": customer["ID"]}, f"Relationship is not a supplier: {customer['Code'].strip()}"),
        ({"Journal": "90"}, "Invalid journal. The journal must be a purchase journal."),
        ({"Journal": "99"}, "Invalid reference: Diary"),
        ({"PurchaseEntryLines": []}, "Mandatory: Lines"),
        ({"EntryDate": "2001-01-05"}, "Financial period not found for date: 2001-01-05"),
        ({"EntryID": "11111111-2222-4333-8444-555555555555"},
         "Invalid value: EntryID is assigned by Exact Online and cannot be supplied"),
        # JPY, not EUR: since issue 14 the firm's division has EUR rates (a vendor bills in EUR).
        ({"Currency": "JPY"}, "Invalid reference: Currency"),
        ({"PaymentCondition": "ZZ"}, "Invalid reference: Payment condition"),
    ]
    base = purchase_entry(client)
    for change, expected in cases:
        assert problems(client.post(PE, {**copy.deepcopy(base), **change})) == {expected}, change


@pytest.mark.parametrize(("line", "expected"), [
    ({"GLAccount": None}, "Mandatory: G/L account"),
    ({"GLAccount": "11111111-2222-4333-8444-555555555555"}, "Invalid reference: G/L account"),
    ({"GLAccount": "4990"}, "G/L account is blocked: 4990"),
    ({"CostCenter": "999"}, "Invalid reference: Cost center"),
    ({"CostCenter": "050"}, "Cost center is no longer active: 050"),
    ({"CostCenter": None}, "Mandatory: Cost center"),
    ({"GLAccount": "1100", "CostCenter": "100"}, "Cost center is not allowed on G/L account: 1100"),
    ({"CostUnit": "ZZ"}, "Invalid reference: Cost unit"),
    ({"AmountFC": None}, "Mandatory: Amount"),
    ({"VATCode": "21"}, "Invalid reference: VAT code"),
    ({"Project": "11111111-2222-4333-8444-555555555555"}, "Invalid reference: Project"),
])
def test_purchase_entry_line_validation_wordings(client, accounts, line, expected):
    body = purchase_entry(client)
    first = body["PurchaseEntryLines"][0]
    for name, value in line.items():
        if name == "GLAccount" and value in accounts:
            value = accounts[value]["ID"]
        first[name] = value
    assert problems(client.post(PE, body)) == {expected}


def test_payload_errors_are_400_not_500(client):
    body = purchase_entry(client, Supplier="not-a-guid")
    response = client.post(PE, body)
    assert response.status_code == 400
    assert odata_message(response).startswith(
        "Error processing request stream. Error encountered in converting the value from request payload for "
        "property 'Supplier' to type 'Guid'")
    wcf_date = client.post(PE, purchase_entry(client, EntryDate="/Date(1749686400000)/"))
    assert wcf_date.status_code == 400
    assert "'EntryDate' to type 'DateTime'" in odata_message(wcf_date)
    wrong_name = client.post(PE, {**purchase_entry(client), "JournalCode": "60"})
    assert wrong_name.status_code == 400
    assert "The property 'JournalCode' does not exist on type 'Exact.Web.Api.Models.PurchaseEntry'" in \
        odata_message(wrong_name)
    read_only = client.post(PE, {**purchase_entry(client), "AmountDC": 1.0})
    assert read_only.status_code == 400
    text_amount = purchase_entry(client)
    text_amount["PurchaseEntryLines"][0]["AmountFC"] = "100.00"
    assert client.post(PE, text_amount).status_code == 400


def test_a_post_body_must_be_json(client):
    response = client.session.post(f"{client.root}/{PE}", data="Journal=60", headers=client.headers(
        **{"Content-Type": "application/x-www-form-urlencoded"}), timeout=10)
    assert response.status_code == 415
    broken = client.session.post(f"{client.root}/{PE}", data="{not json", headers=client.headers(
        **{"Content-Type": "application/json"}), timeout=10)
    assert broken.status_code == 400


def test_your_ref_is_not_unique_so_a_retry_creates_a_second_entry(client):
    body = purchase_entry(client, YourRef="DUP-1")
    first = client.post(PE, body, prefer=True).json()["d"]
    second = client.post(PE, body, prefer=True).json()["d"]
    assert first["EntryID"] != second["EntryID"]
    found = client.results(PE, {"$select": "EntryID", "$filter": f"Supplier eq guid'{body['Supplier']}' and "
                                                                 "YourRef eq 'DUP-1'"})
    assert len(found) == 2


def test_unique_your_ref_can_be_switched_on(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"unique_your_ref": True}))
    client = onboard(run)
    body = purchase_entry(client, YourRef="DUP-1")
    assert client.post(PE, body).status_code == 201
    assert problems(client.post(PE, body)) == {"Your reference already exists for this relationship: DUP-1"}


def test_a_balanced_general_journal_entry_books_debits_positive(client, accounts, sandboxes):
    body = {
        "JournalCode": "90", "FinancialYear": sandboxes.settings.anchor.year, "FinancialPeriod": 1,
        "GeneralJournalEntryLines": [
            {"GLAccount": accounts["1650"]["ID"], "AmountFC": -900.0, "Description": "Accrual"},
            {"GLAccount": accounts["4600"]["ID"], "AmountFC": 900.0, "Description": "Accrual", "CostCenter": "100"},
        ],
    }
    response = client.post(GJE, body, prefer=True)
    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    assert (entry["Type"], entry["Status"], entry["JournalCode"]) == (90, 20, "90")
    lines = transaction_lines(client, entry["EntryID"])
    assert [(r["LineNumber"], r["GLAccountCode"], r["AmountDC"], r["Type"]) for r in lines] == [
        (1, "1650", -900.0, 90), (2, "4600", 900.0, 90)]


def test_an_unbalanced_general_journal_entry_is_refused(client, accounts):
    body = {"JournalCode": "90", "GeneralJournalEntryLines": [
        {"GLAccount": accounts["1650"]["ID"], "AmountFC": -900.0},
        {"GLAccount": accounts["4600"]["ID"], "AmountFC": 1000.0}]}
    assert problems(client.post(GJE, body)) == {"Entry is not in balance. Difference: 100.00"}
    body["JournalCode"] = "60"
    body["GeneralJournalEntryLines"][1]["AmountFC"] = 900.0
    assert problems(client.post(GJE, body)) == {"Invalid journal. The journal must be a general journal."}
    body["JournalCode"] = "90"
    body["GeneralJournalEntryLines"][0]["GLAccount"] = accounts["1600"]["ID"]
    assert problems(client.post(GJE, body)) == {"Mandatory: Relationship"}


def test_a_bank_entry_pays_a_supplier_and_books_the_bank_as_line_0(client, accounts, sandboxes):
    bill = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    body = {"JournalCode": "20", "BankEntryLines": [{
        "GLAccount": accounts["1600"]["ID"], "Account": bill["Supplier"], "AmountFC": -125.5,
        "OurRef": bill["InvoiceNumber"], "Date": entry_date(sandboxes, 2), "Description": "Payment"}]}
    response = client.post(BANK, body, prefer=True)
    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    assert entry["OpeningBalanceFC"] == 0.0
    assert entry["ClosingBalanceFC"] == -125.5
    lines = transaction_lines(client, entry["EntryID"])
    assert [(r["LineNumber"], r["GLAccountCode"], r["AmountDC"], r["Type"]) for r in lines] == [
        (0, "1100", -125.5, 40), (1, "1600", 125.5, 40)]
    assert lines[1]["InvoiceNumber"] == bill["InvoiceNumber"]
    supplier_balance = client.results(TL, {"$select": "AmountDC", "$filter": (
        f"Account eq guid'{bill['Supplier']}' and GLAccount eq guid'{accounts['1600']['ID']}' and "
        f"(EntryID eq guid'{bill['EntryID']}' or EntryID eq guid'{entry['EntryID']}')")})
    assert round(sum(r["AmountDC"] for r in supplier_balance), 2) == 0


def test_bank_entry_validation(client, accounts):
    supplier = next(s for s in suppliers(client) if not s["Blocked"])
    line = {"GLAccount": accounts["1600"]["ID"], "Account": supplier["ID"], "AmountFC": -10.0}
    assert problems(client.post(BANK, {"JournalCode": "90", "BankEntryLines": [line]})) == {
        "Invalid journal. The journal must be a bank journal."}
    assert problems(client.post(BANK, {"JournalCode": "20", "BankEntryLines": [{**line, "OurRef": 123}]})) == {
        "Invalid reference: Invoice number 123"}
    assert problems(client.post(BANK, {"JournalCode": "20", "ClosingBalanceFC": 5.0, "BankEntryLines": [line]})) == {
        "Closing balance must equal the opening balance plus the lines: -10.00"}
    assert problems(client.post(BANK, {"JournalCode": "20", "OpeningBalanceFC": 7.0, "BankEntryLines": [line]})) == {
        "Opening balance must equal the closing balance of the previous entry: 0.00"}


def test_an_account_post_needs_a_name_and_gets_the_next_18_character_code(client):
    assert problems(client.post("crm/Accounts", {"IsSupplier": True})) == {"Mandatory: Name"}
    pages = client.all_pages("crm/Accounts", {"$select": "Code", "$filter": "Code ne null"})
    codes = [int(row["Code"]) for page in pages for row in page]
    response = client.post("crm/Accounts", {"Name": "New Vendor LLC", "IsSupplier": True, "Email": "a@b.example"},
                           prefer=True)
    assert response.status_code == 201
    account = response.json()["d"]
    assert account["Code"] == str(max(codes) + 1).rjust(18)
    assert account["IsSupplier"] is True
    assert account["IsSales"] is False
    duplicate = client.post("crm/Accounts", {"Name": "Again", "Code": account["Code"].strip()})
    assert problems(duplicate) == {f"Code already exists: {account['Code'].strip()}"}


def test_deleting_a_purchase_entry_removes_its_lines_and_logs_the_transaction_lines(client):
    entry = client.post(PE, purchase_entry(client), prefer=True).json()["d"]
    deleted_entry = client.delete(f"{PE}(guid'{entry['EntryID']}')")
    assert deleted_entry.status_code == 204
    assert deleted_entry.content == b""
    assert client.get(f"{PE}(guid'{entry['EntryID']}')").status_code == 404
    assert transaction_lines(client, entry["EntryID"]) == []
    deleted = client.results("sync/Deleted", {"$select": "EntityType,EntityKey", "$filter": "Timestamp gt 1L"})
    assert [r["EntityType"] for r in deleted] == [1, 1, 1]
    historic = client.results(PE, {"$select": "EntryID,Status", "$filter": "Status eq 50"})[0]
    refused = client.delete(f"{PE}(guid'{historic['EntryID']}')")
    assert refused.status_code == 500
    assert odata_message(refused).startswith("Entry is processed and cannot be deleted")


def test_a_client_chosen_entry_id_can_be_switched_on(make_sandboxes):
    client = onboard(make_sandboxes(sandbox_settings(exact={"accept_client_entry_id": True})))
    entry_id = "0c0ffee0-1234-4abc-8def-0123456789ab"
    assert client.post(PE, purchase_entry(client, EntryID=entry_id)).status_code == 201
    assert client.get(f"{PE}(guid'{entry_id}')").json()["d"]["EntryID"] == entry_id
    again = client.post(PE, purchase_entry(client, EntryID=entry_id))
    assert problems(again) == {f"Invalid value: EntryID already exists: {entry_id}"}
