"""Running ASGI apps on uvicorn in a background thread: the sandboxes, and the receiver in tests and demos."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

import uvicorn

ASGIApp = Callable[..., object]


def bound_socket(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 = any free port), with the options the servers need."""
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


# On stop, a request still in flight (a sandbox fault holding an answer back for a minute) gets this long.
GRACEFUL_SHUTDOWN_SECONDS = 2


class BackgroundServers:
    """Some ASGI apps, each on its own port, on one event loop in a daemon thread."""

    def __init__(self, apps: Sequence[ASGIApp], host: str = "127.0.0.1", ports: Sequence[int] | None = None,
                 name: str = "servers", *, date_header: bool = True) -> None:
        self.apps = list(apps)
        self.date_header = date_header  # False for apps that send their own Date (the sandboxes, by their clock)
        self.host = host
        self.ports = list(ports or [0] * len(self.apps))
        self.name = name
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self.urls: list[str] = []

    def start(self) -> list[str]:
        """Starts every app and returns their base URLs, in order."""
        sockets = [bound_socket(self.host, port) for port in self.ports]
        self._servers = [uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                                       timeout_keep_alive=30, date_header=self.date_header,
                                                       timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS))
                         for app in self.apps]
        started = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            tasks = [asyncio.create_task(server.serve(sockets=[sock]))
                     for server, sock in zip(self._servers, sockets, strict=True)]
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

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        started.wait(timeout=30)
        if failure or not all(s.started for s in self._servers):
            self.stop()
            raise RuntimeError(f"the {self.name} did not start: {failure[0] if failure else 'timed out'}")
        self.urls = [f"http://{self.host}:{sock.getsockname()[1]}" for sock in sockets]
        return self.urls

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)

    def __enter__(self) -> list[str]:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
