"""Fixtures shared by every test: running sandboxes, a webhook catcher and the PostgreSQL server."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from exact_bill_pipeline.sandbox.server import RunningSandboxes, SandboxServers
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, ExactSandboxSettings, SandboxSettings

POSTGRES_URL = os.environ.get("EXACT_BILL_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def sandbox_settings(
    exact: dict[str, Any] | None = None, bill: dict[str, Any] | None = None, **top: Any
) -> SandboxSettings:
    """Sandbox settings with some fields changed, e.g. sandbox_settings(exact={"minutely_limit": 5}, bills=50)."""
    return SandboxSettings(
        exact=dataclasses.replace(ExactSandboxSettings(), **(exact or {})),
        bill=dataclasses.replace(BillSandboxSettings(), **(bill or {})),
        **top,
    )


@pytest.fixture
def make_sandboxes() -> Iterator[Callable[..., RunningSandboxes]]:
    """Starts sandboxes with the given settings on free ports; all are stopped after the test."""
    started: list[SandboxServers] = []

    def make(settings: SandboxSettings | None = None, **kwargs: Any) -> RunningSandboxes:
        if settings is not None and kwargs:
            raise TypeError("pass either settings or sandbox_settings() keywords, not both")
        servers = SandboxServers(settings or sandbox_settings(**kwargs))
        started.append(servers)
        return servers.start()

    yield make
    for servers in started:
        servers.stop()


@pytest.fixture
def sandboxes(make_sandboxes: Callable[..., RunningSandboxes]) -> RunningSandboxes:
    """Both sandboxes with default settings (600 seeded bills), fresh for each test."""
    return make_sandboxes()


@dataclass
class CaughtRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass
class WebhookCatcher:
    """A local HTTP endpoint that records every request; ``status`` is what it answers with."""

    url: str
    requests: list[CaughtRequest] = field(default_factory=list)
    status: int = 200
    statuses: list[int] = field(default_factory=list)  # answered in order before falling back to status
    delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[CaughtRequest]:
        """Waits until at least ``count`` requests arrived; returns them all (generous: CI machines are loaded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"expected {count} webhook requests within {timeout}s, got {len(self.requests)}")


@pytest.fixture
def webhook_catcher() -> Iterator[WebhookCatcher]:
    catcher: WebhookCatcher

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with catcher._lock:
                catcher.requests.append(
                    CaughtRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                  time.monotonic())
                )
                status = catcher.statuses.pop(0) if catcher.statuses else catcher.status
            if catcher.delay:
                time.sleep(catcher.delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    catcher = WebhookCatcher(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield catcher
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test database; missing it skips the test, except under CI=true where it fails."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        message = f"PostgreSQL is not reachable at {engine.url.render_as_string(hide_password=True)}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def make_postgres_url(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Makes PostgreSQL URLs whose search_path is a new, empty schema each; all are dropped after the test."""
    import uuid

    import sqlalchemy as sa

    schemas: list[str] = []
    engine = sa.create_engine(postgres_url)

    def make() -> str:
        schemas.append(f"t_{uuid.uuid4().hex[:12]}")
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schemas[-1]}"'))
        return f"{postgres_url}?options=-csearch_path%3D{schemas[-1]}"

    yield make
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def fresh_postgres_url(make_postgres_url: Callable[[], str]) -> str:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped after the test."""
    return make_postgres_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each storage test runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture(autouse=True)
def exact_bill_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test runs writes to the user's ~/.exact_bill (the token fallback file lives there)."""
    monkeypatch.setenv("EXACT_BILL_HOME", str(tmp_path_factory.mktemp("exact-bill-home")))
