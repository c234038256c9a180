"""Encrypted credentials: Fernet under a key from the environment, MultiFernet for key rotation."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.schema import credentials

VAULT_KEY_ENV = "EXACT_BILL_VAULT_KEY"
# Everything the vault holds is secret except the URL a webhook key was registered for.
NOT_SECRET = frozenset({"url"})


class VaultError(RuntimeError):
    """The vault cannot do what was asked; the message says why and what to do."""


class VaultKeyMissing(VaultError):
    """No vault key is configured."""


class VaultKeyInvalid(VaultError):
    """The configured vault key is not a Fernet key."""


class VaultCannotDecrypt(VaultError):
    """A stored credential was encrypted under a key the vault was not given."""


def generate_key() -> str:
    """A new random Fernet key, for EXACT_BILL_VAULT_KEY."""
    return Fernet.generate_key().decode("ascii")


def load_keys(value: str | None) -> MultiFernet:
    """The keys in ``value``: comma-separated Fernet keys, the first one encrypts, all of them decrypt."""
    if not value or not value.strip():
        raise VaultKeyMissing(
            f"{VAULT_KEY_ENV} is not set, so stored credentials can be neither read nor written. "
            f"Create a key with `exact-bill keys generate` and export it as {VAULT_KEY_ENV}."
        )
    fernets = []
    REDACTOR.register(*(k.strip() for k in value.split(",")))
    for position, key in enumerate(k.strip() for k in value.split(",")):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise VaultKeyInvalid(
                f"key number {position + 1} in {VAULT_KEY_ENV} is not a Fernet key (32 url-safe base64-encoded "
                f"bytes). Create one with `exact-bill keys generate`."
            ) from None
    return MultiFernet(fernets)


class Vault:
    """Named secrets (JSON objects) stored encrypted in the state database's credentials table."""

    def __init__(self, store: StateStore, keys: str | None = None) -> None:
        self.store = store
        self._fernet = load_keys(keys if keys is not None else os.environ.get(VAULT_KEY_ENV))

    def encrypt(self, secret: dict[str, Any]) -> str:
        REDACTOR.register(*_secret_values(secret))
        return self._fernet.encrypt(json.dumps(secret, separators=(",", ":")).encode()).decode("ascii")

    def decrypt(self, name: str, ciphertext: str) -> dict[str, Any]:
        """The secret; each value in it is registered for masking, as this process may now log it by mistake."""
        try:
            secret = json.loads(self._fernet.decrypt(ciphertext.encode("ascii")))
        except InvalidToken:
            raise VaultCannotDecrypt(
                f"the stored credential {name!r} was encrypted with a key that is not in {VAULT_KEY_ENV}. "
                f"Set the key it was written with (during a rotation: 'new-key,old-key'), or store the "
                f"credential again (for Exact: `exact-bill auth exact`)."
            ) from None
        REDACTOR.register(*_secret_values(secret))
        return secret

    def get(self, name: str, conn: sa.Connection | None = None, *, lock: bool = False) -> dict[str, Any] | None:
        """The secret, or None. With ``lock`` inside ``store.exclusive()``, the row stays locked until commit."""
        query = sa.select(credentials.c.ciphertext).where(credentials.c.name == name)
        if lock:
            query = query.with_for_update()
        if conn is None:
            with self.store.transaction() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        return None if row is None else self.decrypt(name, row.ciphertext)

    def put(self, name: str, secret: dict[str, Any], conn: sa.Connection | None = None) -> None:
        """Stores (or replaces) the secret, encrypted with the newest key."""
        if conn is None:
            with self.store.transaction() as own:
                self._upsert(own, name, self.encrypt(secret))
        else:
            self._upsert(conn, name, self.encrypt(secret))

    def delete(self, name: str) -> bool:
        with self.store.transaction() as conn:
            return conn.execute(sa.delete(credentials).where(credentials.c.name == name)).rowcount > 0

    def names(self) -> list[str]:
        with self.store.transaction() as conn:
            return list(conn.execute(sa.select(credentials.c.name).order_by(credentials.c.name)).scalars())

    def rotate(self) -> int:
        """Re-encrypts every credential under the first key; returns how many were rewritten."""
        with self.store.exclusive() as conn:
            rows = conn.execute(sa.select(credentials.c.name, credentials.c.ciphertext).with_for_update()).all()
            for row in rows:
                try:
                    rotated = self._fernet.rotate(row.ciphertext.encode("ascii")).decode("ascii")
                except InvalidToken:
                    raise VaultCannotDecrypt(
                        f"cannot rotate: credential {row.name!r} was encrypted with a key that is not in "
                        f"{VAULT_KEY_ENV}. Put the new key first and every old key after it, comma-separated. "
                        f"Nothing was changed."
                    ) from None
                conn.execute(
                    sa.update(credentials)
                    .where(credentials.c.name == row.name)
                    .values(ciphertext=rotated, version=credentials.c.version + 1, updated_at=datetime.now(tz=UTC))
                )
            return len(rows)

    @staticmethod
    def _upsert(conn: sa.Connection, name: str, ciphertext: str) -> None:
        # Not rows.upsert: the version must count up on update and start at 1 on insert.
        now = datetime.now(tz=UTC)
        updated = conn.execute(
            sa.update(credentials)
            .where(credentials.c.name == name)
            .values(ciphertext=ciphertext, version=credentials.c.version + 1, updated_at=now)
        ).rowcount
        if not updated:
            conn.execute(sa.insert(credentials).values(name=name, ciphertext=ciphertext, version=1, updated_at=now))


def _secret_values(value: Any, key: str = "") -> Iterator[str]:
    """Every string in a stored secret (tokens, session IDs, keys), however deeply nested."""
    if key in NOT_SECRET:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner_key, inner in value.items():
            yield from _secret_values(inner, str(inner_key))
    elif isinstance(value, list):
        for inner in value:
            yield from _secret_values(inner, key)
