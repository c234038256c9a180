"""Stopping a child process we started (Dagster's UI or daemon, a server in a benchmark) without leaving it behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:  # type: ignore[type-arg]
    """Asks the process to end (SIGTERM), and kills it if it has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_process_tree(process: subprocess.Popen, grace: float = 5.0) -> None:  # type: ignore[type-arg]
    """Asks a process and everything it started to end, and kills what is left after ``grace`` seconds.

    `dagster dev` starts a webserver, a daemon and code servers, and the code servers start their own gRPC
    processes; on SIGTERM some of them wait a minute or more for work in flight. The whole tree is found first
    (children outlive a parent that ends early), then signalled, then killed.
    """
    tree = [process.pid, *descendants(process.pid)]
    _signal(tree, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in tree):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.1)
    _signal([pid for pid in [*tree, *descendants(process.pid)] if alive(pid)], signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc (Linux); none where /proc is not there."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        # A zombie has ended: it only waits for its parent to read its exit status.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
