"""Redaction: secrets are masked in URLs, headers, bodies and log records, by name and by value."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from urllib.parse import quote, quote_plus

import pytest

from exact_bill_pipeline.config import EXACT_WEBHOOK_SECRET
from exact_bill_pipeline.demo import sandbox_environment
from exact_bill_pipeline.redaction import MASK, RedactingFilter, Redactor
from exact_bill_pipeline.state.db import STATE_URL_ENV, StateStore
from exact_bill_pipeline.state.vault import VAULT_KEY_ENV, Vault, generate_key
from exact_bill_pipeline.state.webhook_keys import WebhookKeys
from exact_bill_pipeline_tests.clients.client_helpers import bill_api, exact_api, onboard
from exact_bill_pipeline_tests.log_workers import CHILD_LOGGERS


def test_known_secret_values_are_masked_anywhere_in_text():
    redactor = Redactor()
    redactor.register("tok-abcdef123", None, "x")  # None and too-short values are ignored
    assert redactor.text("failed with tok-abcdef123 in it") == f"failed with {MASK} in it"
    assert redactor.text("x marks the spot") == "x marks the spot"


def test_secret_query_parameters_and_user_info_are_masked_in_urls():
    url = "https://user:pw@host/api/oauth2/token?code=abc123&state=s1&client_secret=zzz&$select=ID"
    redacted = Redactor().url(url)
    assert "abc123" not in redacted
    assert "zzz" not in redacted
    assert "pw" not in redacted
    assert "state=s1" in redacted
    assert "$select=ID" in redacted


def test_sensitive_headers_are_masked_whatever_their_case():
    headers = Redactor().headers({"Authorization": "Bearer abc", "devKey": "k", "SessionId": "s", "Accept": "x"})
    assert headers == {"Authorization": MASK, "devKey": MASK, "SessionId": MASK, "Accept": "x"}


def test_json_and_form_bodies_are_masked_by_field_name():
    redactor = Redactor()
    json_body = '{"username": "u@x", "password": "hunter22", "devKey": "dk-1", "nested": {"sessionId": "s-9"}}'
    masked = redactor.body(json_body)
    assert "hunter22" not in masked
    assert "dk-1" not in masked
    assert "s-9" not in masked
    assert "u@x" in masked
    form = "grant_type=refresh_token&refresh_token=rt-777&client_secret=cs-888"
    masked_form = redactor.text(form)
    assert "rt-777" not in masked_form
    assert "cs-888" not in masked_form
    assert "grant_type=refresh_token" in masked_form
    expected = f'{{"access_token": "{MASK}", "expires_in": "600"}}'
    assert redactor.body({"access_token": "at", "expires_in": "600"}) == expected


def test_bearer_tokens_are_masked_in_free_text():
    assert Redactor().text("header was Bearer eyJhbGciOi.abc-def") == f"header was Bearer {MASK}"


def test_long_bodies_are_cut_short():
    assert Redactor().body("a" * 5000, limit=100).endswith("(4900 more characters)")


def test_the_log_filter_masks_records_before_handlers_see_them(caplog):
    redactor = Redactor()
    redactor.register("session-secret-42")
    logger = logging.getLogger("redaction-test")
    logger.addFilter(RedactingFilter(redactor))
    with caplog.at_level(logging.INFO, logger="redaction-test"):
        logger.info("calling with %s and password=%s", "session-secret-42", "pw-1234")
    assert "session-secret-42" not in caplog.text
    assert "pw-1234" not in caplog.text


@pytest.fixture
def stored_secrets(sandboxes, tmp_path, monkeypatch) -> tuple[dict[str, str], dict[str, str]]:
    """Every kind of secret a process loads, stored as the connector stores it; and the environment to load it."""
    state_url, key = f"sqlite:///{tmp_path / 'state.sqlite'}", generate_key()
    env = {**os.environ, **sandbox_environment(sandboxes), STATE_URL_ENV: state_url, VAULT_KEY_ENV: key,
           EXACT_WEBHOOK_SECRET.env: "exact-webhook-secret-42"}
    onboard(exact_api(sandboxes, state_url, key))
    bill_api(sandboxes, state_url, key).vendors()
    vault = Vault(StateStore(state_url), key)
    WebhookKeys(vault).add("sub-1", "bill-security-key-42", url="https://hooks.example.com/webhooks/bill")
    tokens = vault.get(f"exact:tokens:{sandboxes.settings.exact.client_id}")
    [session] = [vault.get(name) for name in vault.names() if name.startswith("bill:session")]
    secrets = {"access token": tokens["access_token"], "refresh token": tokens["refresh_token"],
               "BILL session ID": session["sessionId"], "BILL webhook key": "bill-security-key-42",
               "vault key": key, "Exact client secret": sandboxes.settings.exact.client_secret,
               "Exact webhook secret": "exact-webhook-secret-42", "BILL password": sandboxes.settings.bill.password,
               "BILL developer key": sandboxes.settings.bill.dev_key}
    return secrets, env


@pytest.mark.parametrize("entry_point", ["cli", "dagster"])
def test_every_secret_the_process_loads_is_masked_in_child_loggers_and_urllib3(entry_point, stored_secrets,
                                                                              sandboxes):
    secrets, env = stored_secrets
    if entry_point == "dagster":
        del secrets["BILL webhook key"]  # only the receiver and `webhooks` commands load those
    given = json.dumps({"secrets": secrets, "exact_url": sandboxes.exact_url})
    done = subprocess.run([sys.executable, "-m", "exact_bill_pipeline_tests.log_workers", entry_point],
                          input=given, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    for name, value in secrets.items():
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            assert form not in output, f"the {name} leaked"
        assert output.count(f"the {name} is {MASK}") >= len(CHILD_LOGGERS)
    assert output.count(f"current/Me?x={MASK} ") == len(secrets)  # urllib3's request lines, masked
