"""The live stack: the receiver, registered subscriptions and the Dagster daemon, next to running sandboxes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from exact_bill_pipeline.processes import stop_process
from exact_bill_pipeline.sandbox.seed import Firm
from exact_bill_pipeline.sandbox.server import RunningSandboxes
from exact_bill_pipeline.serving import BackgroundServers

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Sensors tick every few seconds in a demo; in production the defaults (30 s, 15 min) apply.
LIVE_ENVIRONMENT = {"EXACT_BILL_INBOX_SECONDS": "5", "EXACT_BILL_REPLAY_SECONDS": "5",
                    "EXACT_BILL_POLL_SECONDS": "3600"}


@dataclass
class LiveStack:
    running: RunningSandboxes
    receiver_url: str
    daemon: subprocess.Popen[bytes]

    def create_bill(self, account_number: str, invoice: str, amount: float = 250.0,
                    department: str | None = "100") -> dict[str, Any]:
        """A new bill in the BILL sandbox (which sends bill.created to the receiver)."""
        firm = Firm(self.running.settings)
        vendor = next(v for v in firm.vendors if v.match_kind == "tax_id")
        account = next(a for a in firm.chart_of_accounts if a.number == account_number and not a.archived)
        classes: dict[str, str] = {"chartOfAccountId": account.id}
        if department is not None:
            classes["departmentId"] = next(d.id for d in firm.departments if d.short_name == department)
        response = requests.post(f"{self.running.bill_url}/_sandbox/bills", timeout=30, json={
            "vendorId": vendor.id, "invoice": {"invoiceNumber": invoice,
                                               "invoiceDate": self.running.clock.now_datetime().date().isoformat()},
            "billLineItems": [{"amount": amount, "description": invoice, "classifications": classes}]})
        response.raise_for_status()
        return response.json()

    def entry_for(self, bill_id: str) -> dict[str, Any] | None:
        """Exact's purchase entry for a bill, once it is there."""
        entries = requests.get(f"{self.running.exact_url}/_sandbox/entries", params={"kind": "purchase"},
                               timeout=30).json()["purchase"]
        return next((e for e in entries if f"BILL {bill_id}" in (e.get("Description") or "")), None)

    def wait(self, condition: Callable[[], Any], timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (value := condition()) is not None and value is not False:
                return value
            if self.daemon.poll() is not None:
                raise RuntimeError("the Dagster daemon stopped; see daemon.log in the demo home")
            time.sleep(0.25)
        raise TimeoutError(f"nothing happened within {timeout:.0f} s; see daemon.log in the demo home")


@contextmanager
def live_stack(running: RunningSandboxes, env: dict[str, str], home: Path,
               say: Callable[[str], None]) -> Iterator[LiveStack]:
    """Starts the receiver, registers both systems' subscriptions, and runs the daemon until the end."""
    from exact_bill_pipeline.cli.context import Operator
    from exact_bill_pipeline.cli.webhooks import build_app
    from exact_bill_pipeline.services import subscriptions
    from exact_bill_pipeline.state.vault import Vault
    from exact_bill_pipeline.state.webhook_keys import WebhookKeys

    with BackgroundServers([build_app("/webhooks")], name="receiver") as (receiver_url,):
        operator = Operator()
        report = subscriptions.register(operator.exact, operator.bill, WebhookKeys(Vault(operator.store)),
                                        public_url=receiver_url, prefix="/webhooks")
        say(f"Receiver at {receiver_url}/webhooks; subscriptions: {len(report.created)} created, "
            f"{len(report.kept)} kept.")
        daemon_bin = Path(sys.executable).with_name("dagster-daemon")
        log = (home / "daemon.log").open("ab")
        daemon = subprocess.Popen(  # noqa: S603 - our own daemon and workspace
            [str(daemon_bin), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")], env=env, cwd=PROJECT_ROOT,
            stdout=log, stderr=subprocess.STDOUT)
        say("Dagster daemon started (sensors tick every 5 s).")
        try:
            yield LiveStack(running, receiver_url, daemon)
        finally:
            stop_process(daemon)
            log.close()
