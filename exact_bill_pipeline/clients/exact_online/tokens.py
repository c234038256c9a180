"""Where the Exact token pair lives: the vault, in short retried writes, and a local file for a pair it refuses."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import backoff
import sqlalchemy as sa

from exact_bill_pipeline.state.vault import Vault, VaultError

log = logging.getLogger(__name__)
WRITE_TRIES = 4


@dataclass(frozen=True)
class TokenPair:
    """A pair, timed by Exact's clock (the Date header of the answer that issued it)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    issued_at: float
    expires_at: float
    # Set after Exact refused a refresh as too early: no process tries again before this (Exact's clock).
    refresh_after: float | None = None

    @classmethod
    def from_secret(cls, secret: dict[str, Any]) -> TokenPair:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in secret.items() if k in names})


class TokenStore:
    """The pair in the vault; a rotated pair must never be lost, so each write goes to a local file first.

    Exact's refresh tokens are single use: a refreshed pair the database does not take cannot be asked for
    again. The file (encrypted like the vault) is removed once the vault has the pair; if the database refuses
    the write, it stays, and the next process on this machine that reads the pair finds it there.
    """

    def __init__(self, vault: Vault, name: str, fallback_dir: Path) -> None:
        self.vault = vault
        self.name = name
        digest = hashlib.sha256(f"{vault.store.url}|{name}".encode()).hexdigest()[:24]
        self.fallback = fallback_dir / f"{digest}.pair"

    def stored(self) -> TokenPair | None:
        secret = self.vault.get(self.name)
        return None if secret is None else TokenPair.from_secret(secret)

    def kept(self) -> TokenPair | None:
        """The pair in the fallback file, if a write to the vault was refused (or cut short) since."""
        try:
            return TokenPair.from_secret(self.vault.decrypt(self.name, self.fallback.read_text(encoding="ascii")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, VaultError) as exc:  # unreadable, or under a vault key dropped since
            log.warning("ignoring the Exact token fallback file %s: %s", self.fallback, exc)
            return None

    def save(self, pair: TokenPair) -> bool:
        """Keeps the pair in the file, then writes it to the vault (retried); False if the vault refused it."""
        try:
            self._keep(pair)
        except OSError as exc:  # the vault write matters more than its safety net
            log.error("could not keep the Exact token pair in %s (%s); storing it in the database only",
                      self.fallback, exc)
        try:
            self._write(pair)
        except sa.exc.SQLAlchemyError as exc:
            log.error("the state database refused the Exact token pair after %d tries (%s); it is kept in %s "
                      "and stored as soon as the database takes it", WRITE_TRIES, type(exc).__name__,
                      self.fallback)
            return False
        self.forget_kept()
        return True

    def forget_kept(self) -> None:
        with contextlib.suppress(OSError):  # gone already, or there never was a place for it
            self.fallback.unlink()

    @backoff.on_exception(backoff.expo, sa.exc.SQLAlchemyError, max_tries=WRITE_TRIES, factor=0.25, logger=None)
    def _write(self, pair: TokenPair) -> None:
        self.vault.put(self.name, asdict(pair))  # a transaction of its own, nothing else in it

    def _keep(self, pair: TokenPair) -> None:
        self.fallback.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.fallback.parent, prefix=".pair-")
        try:
            with os.fdopen(handle, "w", encoding="ascii") as file:
                file.write(self.vault.encrypt(asdict(pair)))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.fallback)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
