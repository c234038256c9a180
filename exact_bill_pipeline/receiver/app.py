"""The receiver's ASGI app: verify the signature, store the event in the inbox, answer 200; nothing else."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_bill_pipeline.receiver.limits import SenderLimits
from exact_bill_pipeline.receiver.signatures import (
    PayloadInvalid,
    SignatureInvalid,
    parse_bill,
    verify_bill,
    verify_exact,
)
from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.webhook_keys import WebhookKeys

log = logging.getLogger(__name__)
JSON_TYPES = ("application/json", "text/json")
KEY_CACHE_SECONDS = 2.0


class Refused(Exception):
    """A delivery that is answered with ``status`` and not stored."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class ReceiverSettings:
    exact_webhook_secret: str = field(repr=False)
    exact_division: int | None = None
    prefix: str = "/webhooks"
    max_body_bytes: int = 256 * 1024
    body_seconds: float = 10.0  # a sender that stops halfway must not hold a connection open for ever

    def __post_init__(self) -> None:
        REDACTOR.register(self.exact_webhook_secret)


def create_receiver_app(settings: ReceiverSettings, inbox: Inbox, keys: WebhookKeys,
                        limits: SenderLimits | None = None) -> Starlette:
    limits = limits or SenderLimits()
    bill_keys = _CachedKeys(keys.valid_keys)
    prefix = "/" + settings.prefix.strip("/") if settings.prefix.strip("/") else ""

    async def exact(request: Request) -> Response:
        async def handle(raw: bytes) -> Response:
            if not raw:
                return JSONResponse({"status": "ok"})  # Exact probes a new subscription with an empty POST
            _require_json(request, raw)
            event = _exact_event(raw, settings.exact_webhook_secret)
            if settings.exact_division is not None and event.division not in (None, settings.exact_division):
                return JSONResponse({"status": "ignored", "reason": "another division"})
            new = await run_in_threadpool(inbox.add, "exact", event.event_id, f"{event.topic}.{event.action}",
                                          event.key, event.content)
            return JSONResponse({"status": "accepted" if new else "duplicate"})

        async def signed(raw: bytes) -> bool:
            return _signed_by_exact(raw, settings.exact_webhook_secret)

        return await _guarded(request, "exact", signed, handle)

    async def bill(request: Request) -> Response:
        async def handle(raw: bytes) -> Response:
            if not raw:
                raise Refused(400, "empty body")
            _require_json(request, raw)
            try:
                verify_bill(raw, request.headers.get("x-bill-sha-signature"), await run_in_threadpool(bill_keys))
                event = parse_bill(raw)
            except SignatureInvalid as exc:
                raise Refused(401, str(exc)) from None
            except PayloadInvalid as exc:
                raise Refused(400, str(exc)) from None
            new = await run_in_threadpool(inbox.add, "bill", event.event_id, event.event_type, event.key,
                                          event.payload)
            return JSONResponse({"status": "accepted" if new else "duplicate"})

        async def signed(raw: bytes) -> bool:
            return _signed_by_bill(raw, request.headers.get("x-bill-sha-signature"),
                                   await run_in_threadpool(bill_keys))

        return await _guarded(request, "bill", signed, handle)

    async def _guarded(request: Request, source: str, signed: Callable[[bytes], Awaitable[bool]],
                       handle: Callable[[bytes], Awaitable[Response]]) -> Response:
        """Sender limits keep forgers out, but never a delivery that is signed: the signature is checked first.

        A forger shares its address with real senders behind a proxy or on the sender's own network; refusing
        them all would let twenty forged requests stop real deliveries (BILL disables a subscription whose
        retries run out).
        """
        sender = request.client.host if request.client else "unknown"
        admitted = limits.admit(sender)
        try:
            raw = await _read_body(request, settings.max_body_bytes, settings.body_seconds)
            if not admitted and not await signed(raw):
                return _too_many(source, sender)
            return await handle(raw)
        except Refused as refused:
            if not admitted:
                return _too_many(source, sender)
            limits.refused(sender)
            log.warning("refused %s delivery from %s: %s (%s bytes)", source, sender, refused.reason,
                        request.headers.get("content-length", "?"))
            return JSONResponse({"error": refused.reason}, status_code=refused.status)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "blocked_senders": len(limits.blocked())})

    app = Starlette(routes=[
        Route(f"{prefix}/exact", exact, methods=["POST"]),
        Route(f"{prefix}/bill", bill, methods=["POST"]),
        Route(f"{prefix}/health", health, methods=["GET"]),
    ])
    app.router.redirect_slashes = False  # a path is right or it is not: no redirects to guess from
    return app


def _too_many(source: str, sender: str) -> Response:
    log.warning("refused %s delivery from %s: too many requests or refusals", source, sender)
    return JSONResponse({"error": "too many requests"}, status_code=429)


def _signed_by_exact(raw: bytes, secret: str) -> bool:
    try:
        verify_exact(raw, secret)
    except SignatureInvalid:
        return False
    except PayloadInvalid:
        return True  # signed with our secret; the handler refuses the payload itself
    return True


def _signed_by_bill(raw: bytes, header: str | None, keys: list[str]) -> bool:
    try:
        verify_bill(raw, header, keys)
    except SignatureInvalid:
        return False
    return True


def _exact_event(raw: bytes, secret: str):
    try:
        return verify_exact(raw, secret)
    except SignatureInvalid as exc:
        raise Refused(401, str(exc)) from None
    except PayloadInvalid as exc:
        raise Refused(400, str(exc)) from None


def _require_json(request: Request, raw: bytes) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise Refused(415, f"content type must be application/json, not {content_type or 'none'!r}")
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not valid JSON") from None


async def _read_body(request: Request, limit: int, seconds: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise Refused(413, f"body over {limit} bytes")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, f"body over {limit} bytes")
                chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(400, "the sender hung up before the body was complete") from None
    except TimeoutError:
        raise Refused(408, f"the body did not arrive within {seconds:.0f} s") from None
    return b"".join(chunks)


class _CachedKeys:
    """BILL's valid keys, re-read from the vault every few seconds rather than on every delivery."""

    def __init__(self, load: Callable[[], list[str]]) -> None:
        self.load = load
        self._keys: list[str] = []
        self._read_at = -KEY_CACHE_SECONDS

    def __call__(self) -> list[str]:
        now = time.monotonic()
        if now - self._read_at >= KEY_CACHE_SECONDS:
            self._keys, self._read_at = self.load(), now
        return self._keys
