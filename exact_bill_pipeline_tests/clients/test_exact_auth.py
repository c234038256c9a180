"""Exact Online onboarding and token refresh, over real HTTP against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from exact_bill_pipeline.cli import main
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline.transport.errors import ReauthorizationRequired
from exact_bill_pipeline_tests.clients.client_helpers import (
    consent_redirect,
    exact_api,
    onboard,
    sandbox_post,
    token_stats,
)


@pytest.fixture
def key() -> str:
    return generate_key()


def test_onboarding_from_the_command_line_stores_the_tokens_encrypted_and_offers_the_division(
        sandboxes, state_url, key, monkeypatch):
    exact = sandboxes.settings.exact
    for name, value in {"EXACT_BASE_URL": sandboxes.exact_url, "EXACT_CLIENT_ID": exact.client_id,
                        "EXACT_CLIENT_SECRET": exact.client_secret, "EXACT_REDIRECT_URI": exact.redirect_uri,
                        "EXACT_DIVISION": "999999", "EXACT_BILL_STATE_URL": state_url,
                        "EXACT_BILL_VAULT_KEY": key}.items():
        monkeypatch.setenv(name, value)
    api = exact_api(sandboxes, state_url, key)
    redirect = consent_redirect(api, state="whatever")

    result = CliRunner().invoke(main, ["auth", "exact", "--redirect-url", redirect])

    assert result.exit_code == 0, result.output
    assert "1. Open this URL in a browser" in result.output
    assert f"Exact's current division is {exact.division}" in result.output
    assert f"set EXACT_DIVISION={exact.division}" in result.output  # offered, never used silently
    stored = Vault(StateStore(state_url), key).get(f"exact:tokens:{exact.client_id}")
    assert set(stored) == {"access_token", "refresh_token", "issued_at", "expires_at", "refresh_after"}
    assert stored["access_token"] not in result.output
    assert token_stats(sandboxes)["code_exchanges"] == 1


def test_the_command_line_accepts_just_the_code_too(sandboxes, state_url, key, monkeypatch):
    exact = sandboxes.settings.exact
    for name, value in {"EXACT_BASE_URL": sandboxes.exact_url, "EXACT_CLIENT_ID": exact.client_id,
                        "EXACT_CLIENT_SECRET": exact.client_secret, "EXACT_REDIRECT_URI": exact.redirect_uri,
                        "EXACT_DIVISION": str(exact.division), "EXACT_BILL_STATE_URL": state_url,
                        "EXACT_BILL_VAULT_KEY": key}.items():
        monkeypatch.setenv(name, value)
    redirect = consent_redirect(exact_api(sandboxes, state_url, key))
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    result = CliRunner().invoke(main, ["auth", "exact"], input=f"{code}\n")
    assert result.exit_code == 0, result.output
    assert f"pinned to division {exact.division}, the current one" in result.output


def test_a_token_is_refreshed_inside_its_last_30_seconds_and_not_before(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    first = api.auth.access_token()

    sandboxes.clock.advance(565)
    api.me()
    assert api.auth.access_token() == first
    assert token_stats(sandboxes)["refreshes"] == 0

    sandboxes.clock.advance(6)  # 571 s after the token was received
    api.me()
    stats = token_stats(sandboxes)
    assert stats["refreshes"] == 1
    assert stats["too_early_refusals"] == 0
    assert api.auth.access_token() != first


def test_a_refresh_is_committed_before_use_so_another_process_reuses_it(sandboxes, state_url, key):
    one, two = exact_api(sandboxes, state_url, key), exact_api(sandboxes, state_url, key)
    onboard(one)
    sandboxes.clock.advance(580)
    one.me()
    two.me()  # reads the pair the first one stored instead of refreshing again
    assert token_stats(sandboxes)["refreshes"] == 1
    assert one.auth.refreshes == 1
    assert two.auth.refreshes == 0


def test_revoked_consent_is_one_clear_error_and_no_retry_loop(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    sandbox_post(sandboxes, "exact", "revoke-consent")
    calls_before = token_stats(sandboxes)["token_calls_today"]

    with pytest.raises(ReauthorizationRequired, match="exact-bill auth exact"):
        api.me()
    sandboxes.clock.advance(580)
    with pytest.raises(ReauthorizationRequired, match=r"exact-bill auth exact"):
        api.me()
    assert token_stats(sandboxes)["token_calls_today"] - calls_before == 1  # one refused refresh, no loop


def test_without_onboarding_the_error_says_what_to_run(sandboxes, state_url, key):
    with pytest.raises(ReauthorizationRequired, match=r"no Exact Online connection is stored yet.*exact-bill auth"):
        exact_api(sandboxes, state_url, key).me()


def test_a_rotated_away_refresh_token_gives_the_clear_error(sandboxes, state_url, key):
    api = exact_api(sandboxes, state_url, key)
    onboard(api)
    vault = Vault(StateStore(state_url), key)
    stale = vault.get(api.auth.name)
    sandboxes.clock.advance(580)
    api.me()  # refreshes: the stored refresh token rotates
    vault.put(api.auth.name, stale)  # as if a careless worker wrote back the old pair
    sandboxes.clock.advance(600)
    with pytest.raises(ReauthorizationRequired, match="Old refresh token used"):
        api.me()
