"""Contract tests of the Exact sandbox's OAuth 2.0: consent, code exchange, refresh rotation and its limits."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import requests

from exact_bill_pipeline_tests.conftest import sandbox_settings
from exact_bill_pipeline_tests.sandbox.exact_helpers import (
    JSON,
    advance,
    authorize,
    consent_code,
    control,
    exchange,
    onboard,
    refresh,
    token_call,
)

DAY = 86_400


def me_status(run, access_token: str) -> int:
    response = requests.get(f"{run.exact_url}/api/v1/current/Me",
                            headers={"Authorization": f"Bearer {access_token}", **JSON}, timeout=10)
    return response.status_code


def test_consent_redirects_to_the_registered_uri_with_a_code_and_the_state(sandboxes):
    response = authorize(sandboxes, force_login="0")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == sandboxes.settings.exact.redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["state-123"]
    assert len(query["code"][0]) > 40


def test_unknown_client_or_redirect_uri_gets_an_error_page_and_never_a_redirect(sandboxes):
    for response in (
        authorize(sandboxes, client_id="someone-else"),
        authorize(sandboxes, redirect_uri=sandboxes.settings.exact.redirect_uri + "/"),
        authorize(sandboxes, redirect_uri="https://evil.example/callback"),
    ):
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert response.headers["Content-Type"].startswith("text/html")


def test_missing_or_unsupported_response_type_is_refused_without_redirect(sandboxes):
    for response_type in (None, "token", "id_token"):
        response = authorize(sandboxes, response_type=response_type)
        assert response.status_code == 400
        assert "Location" not in response.headers


def test_code_exchange_returns_opaque_tokens_and_expires_in_as_a_string(sandboxes):
    response = exchange(sandboxes, consent_code(sandboxes))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == "600"
    assert body["access_token"] != body["refresh_token"]
    assert me_status(sandboxes, body["access_token"]) == 200


def test_token_endpoint_accepts_form_encoding_only(sandboxes):
    exact = sandboxes.settings.exact
    response = requests.post(f"{sandboxes.exact_url}/api/oauth2/token", timeout=10, json={
        "grant_type": "authorization_code", "code": consent_code(sandboxes), "redirect_uri": exact.redirect_uri,
        "client_id": exact.client_id, "client_secret": exact.client_secret})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_wrong_client_credentials_are_invalid_client(sandboxes):
    code = consent_code(sandboxes)
    response = exchange(sandboxes, code, client_secret="not-the-secret")
    assert response.status_code in {400, 401}
    assert response.json()["error"] == "invalid_client"
    assert exchange(sandboxes, code).status_code == 200


def test_an_authorization_code_works_once(sandboxes):
    code = consent_code(sandboxes)
    assert exchange(sandboxes, code).status_code == 200
    again = exchange(sandboxes, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_an_authorization_code_expires_after_its_lifetime(sandboxes):
    code = consent_code(sandboxes)
    advance(sandboxes, sandboxes.settings.exact.authorization_code_seconds + 1)
    response = exchange(sandboxes, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_must_be_exchanged_with_the_same_redirect_uri(sandboxes):
    code = consent_code(sandboxes)
    response = exchange(sandboxes, code, redirect_uri="http://127.0.0.1:8765/other")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_before_570_seconds_is_too_early_and_keeps_the_refresh_token_valid(sandboxes):
    client = onboard(sandboxes)
    advance(sandboxes, 569)
    early = refresh(sandboxes, client.refresh_token)
    assert early.status_code == 400
    assert early.json() == {"error": "access_denied",
                            "error_description": "Rate limit exceeded: access_token not expired"}
    assert early.headers["Reason"] == "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"
    advance(sandboxes, 2)
    assert refresh(sandboxes, client.refresh_token).status_code == 200
    stats = control(sandboxes, "GET", "token-stats").json()
    assert stats["too_early_refusals"] == 1
    assert stats["refreshes"] == 1


def test_every_refresh_rotates_and_an_old_refresh_token_is_refused_without_killing_the_new_pair(sandboxes):
    client = onboard(sandboxes)
    advance(sandboxes, 571)
    first = refresh(sandboxes, client.refresh_token).json()
    assert first["refresh_token"] != client.refresh_token
    old = refresh(sandboxes, client.refresh_token)
    assert old.status_code == 401
    assert old.json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    assert me_status(sandboxes, first["access_token"]) == 200
    advance(sandboxes, 571)
    second = refresh(sandboxes, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] not in {first["refresh_token"], client.refresh_token}
    assert control(sandboxes, "GET", "token-stats").json()["old_refresh_token_refusals"] == 1


def test_an_unknown_refresh_token_breaks_the_chain(sandboxes):
    response = refresh(sandboxes, "Gcp7!IAAAAnot-a-token")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant",
                               "error_description": "Token is not allowed, because of invalid or empty chainId"}
    assert response.headers["Reason"] == "Unknown: Token is not allowed, because of invalid or empty chainId"


def test_an_access_token_dies_600_seconds_after_issue(sandboxes):
    client = onboard(sandboxes)
    advance(sandboxes, 599)
    assert me_status(sandboxes, client.access_token) == 200
    advance(sandboxes, 2)
    response = client.get(f"{sandboxes.exact_url}/api/v1/current/Me")
    assert response.status_code == 401
    assert response.content == b""


def test_a_refresh_leaves_the_previous_access_token_alive_until_its_own_expiry(sandboxes):
    client = onboard(sandboxes)
    advance(sandboxes, 580)
    new = refresh(sandboxes, client.refresh_token).json()
    assert me_status(sandboxes, client.access_token) == 200
    assert me_status(sandboxes, new["access_token"]) == 200
    advance(sandboxes, 25)
    assert me_status(sandboxes, client.access_token) == 401
    assert me_status(sandboxes, new["access_token"]) == 200


def test_a_refresh_token_unused_for_30_days_expires(sandboxes):
    still_fresh = onboard(sandboxes)
    stale = onboard(sandboxes)
    advance(sandboxes, 29 * DAY)
    assert refresh(sandboxes, still_fresh.refresh_token).status_code == 200
    advance(sandboxes, DAY)
    response = refresh(sandboxes, stale.refresh_token)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert re.fullmatch(r"The refresh token expired at \d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M "
                        r"and it is now \d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M\.", body["error_description"])


def test_at_most_200_token_calls_a_day_refused_ones_included(sandboxes):
    for _ in range(199):
        assert token_call(sandboxes, grant_type="refresh_token", refresh_token="unknown").status_code == 400
    assert exchange(sandboxes, consent_code(sandboxes)).status_code == 200  # the 200th call still works
    over = exchange(sandboxes, consent_code(sandboxes))
    assert over.status_code == 400
    assert over.json()["error"] == "access_denied"
    assert over.headers["Reason"]
    advance(sandboxes, DAY)
    assert exchange(sandboxes, consent_code(sandboxes)).status_code == 200


def test_revoked_consent_kills_access_and_refresh_tokens(sandboxes):
    client = onboard(sandboxes)
    assert control(sandboxes, "POST", "revoke-consent").json() == {"revoked_chains": 1}
    assert me_status(sandboxes, client.access_token) == 401
    advance(sandboxes, 600)
    response = refresh(sandboxes, client.refresh_token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"] == "Token is not allowed, because of invalid or empty chainId"
    assert onboard(sandboxes).access_token  # a new consent starts a new chain


def test_api_calls_without_a_valid_bearer_token_are_401_with_an_empty_body(sandboxes):
    url = f"{sandboxes.exact_url}/api/v1/{sandboxes.settings.exact.division}/financial/GLAccounts?$top=1"
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        response = requests.get(url, headers={**JSON, **headers}, timeout=10)
        assert response.status_code == 401
        assert response.content == b""
        assert "X-RateLimit-Limit" not in response.headers


def test_a_shorter_configured_too_early_window_is_honoured(make_sandboxes):
    run = make_sandboxes(sandbox_settings(exact={"too_early_seconds": 10, "access_token_seconds": 30}))
    client = onboard(run)
    assert exchange(run, consent_code(run)).json()["expires_in"] == "30"
    advance(run, 11)
    assert refresh(run, client.refresh_token).status_code == 200


def test_every_answer_carries_one_date_header_on_the_sandbox_clock(sandboxes):
    advance(sandboxes, 3 * DAY + 17)
    answers = [token_call(sandboxes, grant_type="refresh_token", refresh_token="nope"),
               requests.head(f"{sandboxes.exact_url}/", timeout=10),
               requests.get(f"{sandboxes.exact_url}/api/v1/current/Me", timeout=10)]
    for response in answers:
        dated = parsedate_to_datetime(response.headers["Date"]).timestamp()
        assert abs(dated - sandboxes.clock.now()) < 2, response.request.url
        assert response.raw.headers.getlist("Date") == [response.headers["Date"]]
