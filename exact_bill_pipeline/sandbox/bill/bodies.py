"""Reading and checking JSON request bodies, collecting every problem into one BILL error array."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request

from exact_bill_pipeline.sandbox.bill.errors import invalid


async def read_json(request: Request) -> Any:
    """The request's JSON body; a 400 when it is not JSON."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    # UNCONFIRMED how BILL answers a body sent without Content-Type: application/json (which its docs
    # require); the stricter sandbox refuses it, so a client that posts form data notices.
    if media_type != "application/json":
        raise invalid("Content-Type must be application/json.")
    if not raw.strip():
        raise invalid("The request body is required.")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise invalid(f"The request body is not valid JSON: {exc}.") from exc


class Checks:
    """Collects problems with a body; ``raise_if_any`` turns them into one 400 with an entry each."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(self.prefix + message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise invalid(*self.problems)

    def object(self, value: Any, name: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(f"{name} must be a JSON object.")
            return None
        return value

    def known_fields(self, body: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        # UNCONFIRMED whether BILL ignores unknown fields; the stricter sandbox names them, so a misspelt
        # field does not silently do nothing.
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            self.fail(f"Unknown field(s) in {where}: {', '.join(unknown)}.")

    def text(self, body: Mapping[str, Any], name: str, *, required: bool, label: str | None = None) -> str | None:
        """A string field; required ones must have at least one non-blank character."""
        label = label or name
        value = body.get(name)
        if value is None:
            if required:
                self.fail(f"{label} is required.")
            return None
        if not isinstance(value, str):
            self.fail(f"{label} must be a string.")
            return None
        if required and not value.strip():
            self.fail(f"{label} must not be empty.")
            return None
        return value

    def flag(self, body: Mapping[str, Any], name: str, *, required: bool, label: str | None = None) -> bool | None:
        label = label or name
        value = body.get(name)
        if value is None:
            if required:
                self.fail(f"{label} is required.")
            return None
        if not isinstance(value, bool):
            self.fail(f"{label} must be true or false.")
            return None
        return value
