"""BILL sandbox contract: login, session headers, the sliding 35-minute idle timeout and logout."""

from __future__ import annotations

import re

import pytest
import requests

from exact_bill_pipeline_tests.sandbox.bill_helpers import (
    TIMEOUT,
    advance_clock,
    api,
    assert_error,
    credentials,
    login,
    login_response,
)

BILL_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00")


def test_login_with_valid_credentials_returns_an_untrusted_session(sandboxes):
    response = login_response(sandboxes)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"sessionId", "organizationId", "userId", "trusted"}
    assert body["organizationId"] == sandboxes.settings.bill.organization_id
    assert body["userId"].startswith("006")
    assert body["trusted"] is False
    assert len(body["sessionId"]) >= 20


def test_each_login_opens_its_own_session(sandboxes):
    first, second = login(sandboxes), login(sandboxes)

    assert first["sessionId"] != second["sessionId"]
    assert api(sandboxes, "POST", "/v3/logout", first).status_code == 200
    assert api(sandboxes, "GET", "/v3/bills", second).status_code == 200


def test_login_with_a_wrong_password_or_username_is_refused_with_bdc_1101(sandboxes):
    assert_error(login_response(sandboxes, password="wrong"), 401, "BDC_1101")
    assert_error(login_response(sandboxes, username="someone@else.example"), 401, "BDC_1101")


def test_login_to_another_organization_is_refused(sandboxes):
    assert_error(login_response(sandboxes, organizationId="00801SOMEONEELSE0001"), 401, "BDC_1101")


def test_login_with_a_wrong_dev_key_is_refused_with_bdc_1102(sandboxes):
    assert_error(login_response(sandboxes, devKey="not-the-dev-key"), 401, "BDC_1102")


@pytest.mark.parametrize("field", ["username", "password", "organizationId", "devKey"])
def test_login_without_a_field_is_a_400_that_names_the_field(sandboxes, field):
    body = credentials(sandboxes)
    del body[field]

    response = requests.post(f"{sandboxes.bill_api_url}/v3/login", json=body, timeout=TIMEOUT)

    error = assert_error(response, 400)
    assert error["category"] == "REQUEST"
    assert field in error["message"]


def test_login_names_every_missing_field_at_once(sandboxes):
    response = requests.post(f"{sandboxes.bill_api_url}/v3/login", json={"username": "x"}, timeout=TIMEOUT)

    assert_error(response, 400)
    messages = " ".join(entry["message"] for entry in response.json())
    assert all(name in messages for name in ("password", "organizationId", "devKey"))


def test_login_with_a_body_that_is_not_json_is_a_400(sandboxes):
    response = requests.post(f"{sandboxes.bill_api_url}/v3/login", data="username=x&password=y",
                             headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert_error(response, 400)


def test_login_sent_as_a_form_is_refused(sandboxes):
    response = requests.post(f"{sandboxes.bill_api_url}/v3/login", data=credentials(sandboxes), timeout=TIMEOUT)
    assert_error(response, 400)


@pytest.mark.parametrize("missing", ["devKey", "sessionId"])
def test_a_call_without_a_session_header_is_a_400(sandboxes, missing):
    headers = login(sandboxes)
    del headers[missing]

    error = assert_error(api(sandboxes, "GET", "/v3/bills", headers), 400)
    assert missing in error["message"]


def test_an_unknown_session_is_a_401_with_the_documented_bdc_1109_body(sandboxes):
    headers = {"devKey": sandboxes.settings.bill.dev_key, "sessionId": "no-such-session"}

    response = api(sandboxes, "GET", "/v3/bills", headers)

    error = assert_error(response, 401, "BDC_1109")
    assert error["message"] == "Session is invalid.  Please log in."
    assert error["category"] == "DOWNSTREAM"
    assert BILL_TIMESTAMP.fullmatch(error["timestamp"])


def test_a_wrong_dev_key_with_a_valid_session_is_a_401(sandboxes):
    headers = {**login(sandboxes), "devKey": "another-dev-key"}
    assert_error(api(sandboxes, "GET", "/v3/bills", headers), 401, "BDC_1102")


def test_a_session_idle_for_34_59_still_works_and_each_call_restarts_the_timer(sandboxes):
    headers = login(sandboxes)

    advance_clock(sandboxes, 34 * 60 + 59)
    assert api(sandboxes, "GET", "/v3/login/session", headers).status_code == 200
    advance_clock(sandboxes, 34 * 60 + 59)
    assert api(sandboxes, "GET", "/v3/bills", headers, params={"max": 1}).status_code == 200
    advance_clock(sandboxes, 35 * 60 + 1)
    assert_error(api(sandboxes, "GET", "/v3/bills", headers), 401, "BDC_1109")


def test_a_session_dies_35_minutes_after_its_last_call(sandboxes):
    headers = login(sandboxes)
    advance_clock(sandboxes, 20 * 60)
    assert api(sandboxes, "GET", "/v3/vendors", headers).status_code == 200

    advance_clock(sandboxes, 35 * 60 + 1)

    assert_error(api(sandboxes, "GET", "/v3/vendors", headers), 401, "BDC_1109")
    assert login(sandboxes)  # the only way back is a new login


def test_logout_answers_200_with_an_empty_body_and_ends_the_session(sandboxes):
    headers = login(sandboxes)

    response = api(sandboxes, "POST", "/v3/logout", headers)

    assert response.status_code == 200
    assert response.content == b""
    assert_error(api(sandboxes, "GET", "/v3/bills", headers), 401, "BDC_1109")


def test_session_details_name_the_organization_and_user(sandboxes):
    headers = login(sandboxes)

    body = api(sandboxes, "GET", "/v3/login/session", headers).json()

    assert body["organizationId"] == sandboxes.settings.bill.organization_id
    assert body["userId"].startswith("006")
    assert {"mfaStatus", "mfaBypass"} <= set(body)


def test_the_webhook_api_uses_the_same_session_headers(sandboxes):
    headers = login(sandboxes)
    events_url = f"{sandboxes.bill_events_url}/v3/events/catalog"

    assert requests.get(events_url, headers=headers, timeout=TIMEOUT).status_code == 200
    assert_error(requests.get(events_url, headers={"devKey": headers["devKey"]}, timeout=TIMEOUT), 400)
    assert_error(requests.get(events_url, headers={**headers, "sessionId": "x"}, timeout=TIMEOUT), 401, "BDC_1109")
