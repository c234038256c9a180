"""Runs both sandboxes on uvicorn, in the foreground (the CLI) or on a background thread (tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from exact_bill_pipeline.sandbox.bill.app import create_app as create_bill_app
from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.exact_online.app import create_app as create_exact_app
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.sandbox.settings import SandboxSettings


@dataclass(frozen=True)
class RunningSandboxes:
    """Where the running sandboxes answer, and the settings they were started with."""

    exact_url: str
    bill_url: str
    settings: SandboxSettings
    clock: SandboxClock
    exact_app: Starlette
    bill_app: Starlette

    @property
    def bill_api_url(self) -> str:
        """BILL's API base, as gateway.stage.bill.com/connect is for the real service."""
        return f"{self.bill_url}/connect"

    @property
    def bill_events_url(self) -> str:
        """BILL's webhook-management base, as gateway.stage.bill.com/connect-events is."""
        return f"{self.bill_url}/connect-events"


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it every request after the first on a kept-alive
    # connection waits ~40 ms for Nagle's algorithm and delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}; pick another port") from exc
    sock.listen(2048)
    return sock


class SandboxServers:
    """Both sandboxes on one event loop in a background thread; a context manager that stops them."""

    def __init__(
        self, settings: SandboxSettings | None = None, host: str = "127.0.0.1", exact_port: int = 0, bill_port: int = 0
    ) -> None:
        self.settings = settings or SandboxSettings()
        self.host = host
        self.ports = (exact_port, bill_port)
        self.clock = SandboxClock()
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._apps: list[Starlette] = []
        self.running: RunningSandboxes | None = None

    def start(self) -> RunningSandboxes:
        firm = Firm(self.settings)
        self._apps = [
            create_exact_app(self.settings, self.clock, firm),
            create_bill_app(self.settings, self.clock, firm),
        ]
        sockets = [_bound_socket(self.host, port) for port in self.ports]
        self._servers = [
            uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                          timeout_keep_alive=30))
            for app in self._apps
        ]
        started = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            tasks = [
                asyncio.create_task(server.serve(sockets=[sock]))
                for server, sock in zip(self._servers, sockets, strict=True)
            ]
            while not all(s.started for s in self._servers):
                if any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.01)
            started.set()
            await asyncio.gather(*tasks)

        def run() -> None:
            try:
                asyncio.run(serve())
            except BaseException as exc:  # surfaced to the starting thread below
                failure.append(exc)
                started.set()

        self._thread = threading.Thread(target=run, name="sandbox-servers", daemon=True)
        self._thread.start()
        started.wait(timeout=30)
        if failure or not all(s.started for s in self._servers):
            self.stop()
            raise RuntimeError(f"the sandboxes did not start: {failure[0] if failure else 'timed out'}")
        exact_port, bill_port = (sock.getsockname()[1] for sock in sockets)
        self.running = RunningSandboxes(
            exact_url=f"http://{self.host}:{exact_port}",
            bill_url=f"http://{self.host}:{bill_port}",
            settings=self.settings,
            clock=self.clock,
            exact_app=self._apps[0],
            bill_app=self._apps[1],
        )
        return self.running

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        for app in self._apps:
            close = getattr(app.state, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def __enter__(self) -> RunningSandboxes:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
