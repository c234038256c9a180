"""Redaction: secrets are masked in URLs, headers, bodies and log records, by name and by value."""

from __future__ import annotations

import logging

from exact_bill_pipeline.transport.redaction import MASK, RedactingFilter, Redactor


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
