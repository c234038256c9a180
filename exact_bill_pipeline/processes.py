"""Stopping a child process we started (Dagster's UI or daemon, a server in a benchmark) without leaving it behind."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:  # type: ignore[type-arg]
    """Asks the process to end (SIGTERM), and kills it if it has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
