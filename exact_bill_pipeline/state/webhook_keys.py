"""BILL subscriptions' security keys, kept in the vault; during a rotation the old key stays valid a while."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from exact_bill_pipeline.state.vault import Vault

NAME = "bill:webhook-keys"


class WebhookKeys:
    """{subscription: [keys]} in one encrypted credential; each key valid until its (optional) deadline."""

    def __init__(self, vault: Vault, clock: Callable[[], float] = time.time) -> None:
        self.vault = vault
        self.clock = clock

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        return (self.vault.get(NAME) or {}).get("subscriptions", {})

    def _save(self, subscriptions: dict[str, list[dict[str, Any]]]) -> None:
        self.vault.put(NAME, {"subscriptions": subscriptions})

    def add(self, subscription_id: str, key: str, *, url: str = "") -> None:
        subscriptions = self._load()
        subscriptions[subscription_id] = [{"key": key, "valid_until": None, "url": url}]
        self._save(subscriptions)

    def rotate(self, subscription_id: str, new_key: str, *, overlap_seconds: float) -> None:
        """The new key is valid from now on; the old ones only for ``overlap_seconds`` more."""
        subscriptions = self._load()
        deadline = self.clock() + overlap_seconds
        old = [{**k, "valid_until": min(k["valid_until"] or deadline, deadline)}
               for k in subscriptions.get(subscription_id, [])]
        url = old[0].get("url", "") if old else ""
        subscriptions[subscription_id] = [{"key": new_key, "valid_until": None, "url": url}, *old]
        self._save(subscriptions)

    def remove(self, subscription_id: str) -> None:
        subscriptions = self._load()
        subscriptions.pop(subscription_id, None)
        self._save(subscriptions)

    def subscriptions(self) -> dict[str, str]:
        """subscription ID -> the URL it was registered for."""
        return {sid: (keys[0].get("url", "") if keys else "") for sid, keys in self._load().items()}

    def valid_keys(self) -> list[str]:
        now = self.clock()
        return [k["key"] for keys in self._load().values() for k in keys
                if k["valid_until"] is None or k["valid_until"] > now]
