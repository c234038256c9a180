"""The Dagster UI after `exact-bill demo --ui`, read through the webserver's GraphQL API as the browser reads it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from exact_bill_pipeline.processes import alive, descendants

CHECKS = """
{ assetNodes { assetKey { path } isPartitioned
    assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } }
"""
DAY = """
query ($day: String!) { assetNodeOrError(assetKey: {path: ["exact_purchase_entries"]}) { ... on AssetNode {
    partitionKeysByDimension { partitionKeys }
    assetMaterializations(partitions: [$day], limit: 1) { partition metadataEntries { label
        ... on IntMetadataEntry { intValue } ... on MarkdownMetadataEntry { mdStr } } } } } }
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str, **variables: object) -> dict:
    response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables},
                             timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def wait_for_ui(port: int, process: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise AssertionError("the Dagster UI did not come up")


@pytest.fixture
def demo_ui(tmp_path: Path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DAGSTER_", "EXACT_", "BILL_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "exact_bill_pipeline.cli", "demo", "--ui", "--home", str(tmp_path / "demo"),
         "--bills", "80", "--history-days", "20", "--ui-port", str(port)],
        env={**env, "EXACT_BILL_HOME": str(tmp_path)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_ui(port, process)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()


def test_after_the_demo_every_check_shows_a_result_each_day_its_own_and_ctrl_c_stops_everything(demo_ui):
    port, process = demo_ui
    time.sleep(20)  # the daemon's first ticks: the replay sensor runs its start-up replay

    nodes = graphql(port, CHECKS)["assetNodes"]
    statuses = {(node["assetKey"]["path"][-1], check["name"]):
                (check["executionForLatestMaterialization"] or {}).get("status")
                for node in nodes for check in node["assetChecksOrError"].get("checks", [])}
    assert statuses
    not_evaluated = [key for key, status in statuses.items() if status not in {"SUCCEEDED", "FAILED"}]
    assert not not_evaluated, statuses

    entries = graphql(port, DAY, day="2000-01-01")["assetNodeOrError"]
    days = entries["partitionKeysByDimension"][0]["partitionKeys"]
    assert len(days) <= 22  # the demo's own history, not hundreds of empty days
    for day in days[:-2]:
        shown = graphql(port, DAY, day=day)["assetNodeOrError"]["assetMaterializations"]
        if not shown:
            continue
        entries = {e["label"]: e.get("intValue", e.get("mdStr")) for e in shown[0]["metadataEntries"]}
        assert shown[0]["partition"] == day
        assert "bills_in_bill" in entries
        assert not any(label.startswith("run_") for label in entries)

    tree = [process.pid, *descendants(process.pid)]
    assert len(tree) > 3  # dagster dev, its webserver, daemon and code servers
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=15)
    assert time.monotonic() - started < 10
    time.sleep(0.5)
    assert [pid for pid in tree if alive(pid)] == []
