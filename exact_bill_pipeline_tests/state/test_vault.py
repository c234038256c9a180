"""The credential vault: secrets are stored only encrypted, keys rotate, bad keys give clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.schema import credentials
from exact_bill_pipeline.state.vault import (
    Vault,
    VaultCannotDecrypt,
    VaultKeyInvalid,
    VaultKeyMissing,
    generate_key,
)

SECRET = {"refresh_token": "rt-PLAINTEXT-must-never-be-stored", "access_token": "at-PLAINTEXT-also-hidden"}


def raw_database_bytes(store: StateStore) -> bytes:
    """Everything the database holds for the credentials table, as stored."""
    if store.dialect == "sqlite":
        path = Path(sa.make_url(store.url).database)
        with store.transaction() as conn:  # push the WAL into the main file too
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with store.transaction() as conn:
        rows = conn.execute(sa.text("SELECT name, ciphertext, version, updated_at::text FROM credentials")).all()
    return repr(rows).encode()


def test_a_stored_secret_reads_back(state_url):
    vault = Vault(StateStore(state_url), generate_key())
    vault.put("exact:123456", SECRET)
    assert vault.get("exact:123456") == SECRET
    assert vault.get("missing") is None
    assert vault.names() == ["exact:123456"]


def test_nothing_secret_is_written_in_plaintext(state_url):
    store = StateStore(state_url)
    Vault(store, generate_key()).put("exact:123456", SECRET)
    raw = raw_database_bytes(store)
    assert b"exact:123456" in raw  # the name is not secret, and proves we read the right bytes
    for value in SECRET.values():
        assert value.encode() not in raw
        assert b"PLAINTEXT" not in raw


def test_rotation_reencrypts_everything_under_the_new_key(state_url):
    store = StateStore(state_url)
    old, new = generate_key(), generate_key()
    Vault(store, old).put("a", {"x": "1"})
    Vault(store, old).put("b", {"x": "2"})
    before = raw_database_bytes(store)

    assert Vault(store, f"{new},{old}").rotate() == 2

    assert Vault(store, new).get("a") == {"x": "1"}
    assert Vault(store, new).get("b") == {"x": "2"}
    with pytest.raises(VaultCannotDecrypt):
        Vault(store, old).get("a")
    assert raw_database_bytes(store) != before


def test_rotation_without_the_old_key_changes_nothing(state_url):
    store = StateStore(state_url)
    old = generate_key()
    Vault(store, old).put("a", {"x": "1"})
    with pytest.raises(VaultCannotDecrypt, match="Nothing was changed"):
        Vault(store, generate_key()).rotate()
    assert Vault(store, old).get("a") == {"x": "1"}


def test_a_missing_key_is_a_clear_error(monkeypatch, state_url):
    monkeypatch.delenv("EXACT_BILL_VAULT_KEY", raising=False)
    with pytest.raises(VaultKeyMissing, match=r"EXACT_BILL_VAULT_KEY is not set.*exact-bill keys generate"):
        Vault(StateStore(state_url))


def test_a_malformed_key_is_a_clear_error(state_url):
    with pytest.raises(VaultKeyInvalid, match=r"key number 2 .* is not a Fernet key"):
        Vault(StateStore(state_url), f"{generate_key()},not-a-key")


def test_a_wrong_key_is_a_clear_error_that_names_the_credential(state_url):
    store = StateStore(state_url)
    Vault(store, generate_key()).put("exact:123456", SECRET)
    with pytest.raises(VaultCannotDecrypt, match="'exact:123456' was encrypted with a key that is not in"):
        Vault(store, generate_key()).get("exact:123456")


def test_the_key_comes_from_the_environment(monkeypatch, state_url):
    key = generate_key()
    monkeypatch.setenv("EXACT_BILL_VAULT_KEY", key)
    store = StateStore(state_url)
    Vault(store).put("bill:session", {"sessionId": "s"})
    assert Vault(store, key).get("bill:session") == {"sessionId": "s"}


def test_credentials_table_has_one_row_per_name(state_url):
    store = StateStore(state_url)
    vault = Vault(store, generate_key())
    vault.put("a", {"v": 1})
    vault.put("a", {"v": 2})
    with store.transaction() as conn:
        rows = conn.execute(sa.select(credentials.c.name, credentials.c.version)).all()
    assert [(r.name, r.version) for r in rows] == [("a", 2)]
    assert vault.get("a") == {"v": 2}


def test_the_command_line_generates_keys_and_rotates_the_stored_credentials(monkeypatch, state_url):
    from click.testing import CliRunner

    from exact_bill_pipeline.cli import main

    runner = CliRunner()
    old = runner.invoke(main, ["keys", "generate"]).output.strip()
    new = runner.invoke(main, ["keys", "generate"]).output.strip()
    store = StateStore(state_url)
    Vault(store, old).put("exact:tokens:x", SECRET)
    monkeypatch.setenv("EXACT_BILL_STATE_URL", state_url)
    monkeypatch.setenv("EXACT_BILL_VAULT_KEY", f"{new},{old}")

    result = runner.invoke(main, ["keys", "rotate"])

    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 credential(s)" in result.output
    assert Vault(store, new).get("exact:tokens:x") == SECRET


def test_the_state_command_migrates_and_reports_the_revision(monkeypatch, state_url):
    from click.testing import CliRunner

    from exact_bill_pipeline.cli import main

    monkeypatch.setenv("EXACT_BILL_STATE_URL", state_url)
    result = CliRunner().invoke(main, ["state", "migrate"])
    assert result.exit_code == 0, result.output
    assert f"schema revision {StateStore.head_revision()}" in result.output


def test_the_command_line_reports_a_missing_key_in_one_clear_line(monkeypatch, state_url):
    from click.testing import CliRunner

    from exact_bill_pipeline.cli import main

    monkeypatch.setenv("EXACT_BILL_STATE_URL", state_url)
    monkeypatch.delenv("EXACT_BILL_VAULT_KEY", raising=False)
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: EXACT_BILL_VAULT_KEY is not set")
    assert "Traceback" not in result.output
