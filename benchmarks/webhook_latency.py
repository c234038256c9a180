"""Prints the webhook-to-journal latency: a bill created in BILL until its entry is in Exact, p50 and p95.

The whole path runs for real: the BILL sandbox sends a signed bill.created, the receiver stores it, the
Dagster daemon's inbox sensor (every EXACT_BILL_INBOX_SECONDS, 5 s as in the demo) starts a run, and the
run posts the entry. Bills are created one every --interval seconds, so that bursts share runs.

Usage: .venv/bin/python benchmarks/webhook_latency.py [--bills 50] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from exact_bill_pipeline.cli.demo import demo_settings
from exact_bill_pipeline.demo import consent_in_sandbox, environment, prepare_home, run_pipeline, sandbox_environment
from exact_bill_pipeline.live import LIVE_ENVIRONMENT, live_stack
from exact_bill_pipeline.sandbox.server import SandboxServers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bills", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two new bills")
    args = parser.parse_args()
    import dagster as dg

    with tempfile.TemporaryDirectory() as tmp, SandboxServers(demo_settings(120, 20)) as running:
        home = Path(tmp)
        env = prepare_home(home) | LIVE_ENVIRONMENT | sandbox_environment(running)
        with environment(env):
            consent_in_sandbox()
            run_pipeline(running, dg.DagsterInstance.from_config(env["DAGSTER_HOME"]), lambda _line: None)
            with live_stack(running, env, home, print) as stack:
                warm = stack.create_bill("4640", "WARM-UP")
                stack.wait(lambda: stack.entry_for(warm["id"]), timeout=180)
                created: dict[str, float] = {}
                arrived: dict[str, float] = {}
                next_at = time.monotonic()
                while len(arrived) < args.bills:
                    now = time.monotonic()
                    if len(created) < args.bills and now >= next_at:
                        bill = stack.create_bill("4640", f"LAT-{len(created):03d}")
                        created[bill["id"]] = now
                        next_at = now + args.interval
                    for bill_id in [b for b in created if b not in arrived]:
                        if stack.entry_for(bill_id):
                            arrived[bill_id] = time.monotonic()
                    if now - min(created.values(), default=now) > 600:
                        raise TimeoutError(f"only {len(arrived)} of {len(created)} bills arrived in 10 minutes")
                    time.sleep(0.2)
    latencies = sorted(arrived[b] - created[b] for b in arrived)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"webhook-to-journal latency over {len(latencies)} bills (one every {args.interval:.1f} s): "
          f"p50 {statistics.median(latencies):.1f} s, p95 {p95:.1f} s, max {latencies[-1]:.1f} s, "
          f"min {latencies[0]:.1f} s")


if __name__ == "__main__":
    main()
