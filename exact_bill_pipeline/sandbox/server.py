"""Runs both sandboxes on uvicorn in a background thread, for the CLI, the demo and the tests."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import TracebackType

from starlette.applications import Starlette

from exact_bill_pipeline.sandbox.bill.app import create_app as create_bill_app
from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.exact_online.app import create_app as create_exact_app
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.sandbox.settings import SandboxSettings
from exact_bill_pipeline.serving import BackgroundServers


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


class SandboxServers:
    """Both sandboxes on one event loop in a background thread; a context manager that stops them."""

    def __init__(
        self, settings: SandboxSettings | None = None, host: str = "127.0.0.1", exact_port: int = 0, bill_port: int = 0
    ) -> None:
        self.settings = settings or SandboxSettings()
        self.host = host
        self.ports = (exact_port, bill_port)
        self.clock = SandboxClock()
        self._servers: BackgroundServers | None = None
        self._apps: list[Starlette] = []
        self.running: RunningSandboxes | None = None

    def start(self) -> RunningSandboxes:
        firm = Firm(self.settings)
        self._apps = [
            create_exact_app(self.settings, self.clock, firm),
            create_bill_app(self.settings, self.clock, firm),
        ]
        self._servers = BackgroundServers(self._apps, self.host, self.ports, name="sandboxes", date_header=False)
        exact_url, bill_url = self._servers.start()
        self.running = RunningSandboxes(exact_url=exact_url, bill_url=bill_url, settings=self.settings,
                                        clock=self.clock, exact_app=self._apps[0], bill_app=self._apps[1])
        return self.running

    def stop(self) -> None:
        if self._servers is not None:
            self._servers.stop()
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
