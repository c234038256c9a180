"""ASGI middleware shared by both sandboxes: the Date header, counting calls, firing fault switches, latency."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from typing import Any

from starlette.responses import Response

from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.counters import Counters
from exact_bill_pipeline.sandbox.faults import FaultBook, FaultRule

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTROL_PREFIX = "/_sandbox"


class DroppedResponse(Exception):
    """Raised after a committed request to cut the connection mid-response (the lost-response fault)."""


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class ClockDateMiddleware:
    """The Date header of every answer, by the sandbox clock (uvicorn's own, by the machine's, is switched off).

    Every origin server with a clock sends Date (RFC 9110 section 6.6.1), Exact's included; clients read the
    server's time from it, so it must move when the sandbox clock moves. One-second resolution, as on the wire.
    """

    def __init__(self, app: ASGIApp, *, clock: SandboxClock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                date = formatdate(int(self.clock.now()), usegmt=True).encode("latin-1")
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        await self.app(scope, receive, dated_send)


class SandboxMiddleware:
    """Counts every API call by endpoint and status, and applies the fault switches before the app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: FaultBook,
        counters: Counters,
        endpoint_name: Callable[[str, str], str],
        error_response: Callable[[int], Response],
        rate_limited_response: Callable[[], Response],
    ) -> None:
        self.app = app
        self.faults = faults
        self.counters = counters
        self.endpoint_name = endpoint_name
        self.error_response = error_response
        self.rate_limited_response = rate_limited_response
        self._committing: set[asyncio.Future[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        endpoint = self.endpoint_name(scope["method"], scope["path"])

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counters.record(endpoint, message["status"])
            await send(message)

        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, counting_send)
        else:
            await self._with_fault(fault, scope, receive, counting_send)

    async def _with_fault(self, fault: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind == "error":
            response = self.error_response(fault.status)
            if fault.reason:
                response.headers["Reason"] = fault.reason
            await response(scope, receive, send)
        elif fault.kind == "rate_limit":
            await self.rate_limited_response()(scope, receive, send)
        elif fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif fault.kind == "slow_commit":
            await self._slow_commit(fault.seconds, scope, receive, send)
        else:
            messages: list[Message] = []

            async def buffer(message: Message) -> None:
                messages.append(message)

            await self.app(scope, receive, buffer)
            if fault.kind == "slow_response":
                await asyncio.sleep(fault.seconds)
                for message in messages:
                    await send(message)
                return
            # drop_response: the request is committed; announce the body, send part of it, then cut.
            start = next(m for m in messages if m["type"] == "http.response.start")
            body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
            await send(start)
            await send({"type": "http.response.body", "body": body[: max(len(body) // 2, 0)], "more_body": True})
            raise DroppedResponse("sandbox fault: response dropped after the request was committed")


    async def _slow_commit(self, seconds: float, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def commit_later() -> None:
            await asyncio.sleep(seconds)
            await self.app(scope, replay, send)  # the server ignores what is sent to a client that has gone

        task = asyncio.ensure_future(commit_later())
        self._committing.add(task)
        task.add_done_callback(self._committing.discard)
        # Shielded: the client hanging up (or timing out) does not stop the write, as on a real server.
        await asyncio.shield(task)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


class LatencyMiddleware:
    """Keeps each API request in flight a little longer, so concurrency limits and timeouts can bite."""

    def __init__(self, app: ASGIApp, *, latency_ms: int) -> None:
        self.app = app
        self.latency = latency_ms / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.latency and scope["type"] == "http" and not is_control_path(scope["path"]):
            await asyncio.sleep(self.latency)
        await self.app(scope, receive, send)
