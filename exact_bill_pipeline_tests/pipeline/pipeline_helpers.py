"""Running the real asset graph against the sandboxes: resources, onboarding and partition ranges."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg
import requests

from exact_bill_pipeline.clients.exact_online.api import ExactApi
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient
from exact_bill_pipeline.definitions import ASSETS, CHECKS, build_definitions
from exact_bill_pipeline.defs.resources import AccountingSettings, StateDatabase
from exact_bill_pipeline.sandbox.server import RunningSandboxes
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline_tests.clients.client_helpers import bill_client, exact_client

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class Pipeline:
    """The graph wired to running sandboxes and one state database, plus what tests need to drive it."""

    running: RunningSandboxes
    state_url: str
    resources: dict[str, Any]
    instance: dg.DagsterInstance

    @property
    def store(self) -> StateStore:
        return self.resources["state"].store()

    def history(self) -> tuple[str, str]:
        """The first and last day of the seeded history."""
        settings = self.running.settings
        first = settings.anchor - timedelta(days=settings.history_days)
        return first.isoformat(), (settings.anchor - timedelta(days=1)).isoformat()

    def run(self, selection: list[Any] | None = None, *, days: tuple[str, str] | None = None,
            partition: str | None = None, run_config: dict[str, Any] | None = None,
            raise_on_error: bool = True, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
        """Materializes ``selection`` (default: the whole graph and its checks) in one run."""
        tags = {RANGE_START: days[0], RANGE_END: days[1]} if days else None
        run_config = {**QUIET, **(run_config or {})}
        chosen = None
        if selection is not None:
            checks = [s for s in selection if isinstance(s, dg.AssetChecksDefinition)]
            assets = [s for s in selection if not isinstance(s, dg.AssetChecksDefinition)]
            chosen = dg.AssetSelection.assets(*assets) | dg.AssetSelection.checks(*checks)
        return dg.materialize([*ASSETS, *CHECKS], selection=chosen, resources=self.resources,
                              instance=instance or self.instance, tags=tags, partition_key=partition,
                              run_config=run_config,
                              raise_on_error=raise_on_error)

    def sync_everything(self) -> dg.ExecuteInProcessResult:
        return self.run(days=self.history())

    def definitions(self) -> dg.Definitions:
        return build_definitions(**self.resources)


def make_pipeline(running: RunningSandboxes, state_url: str, key: str, instance: dg.DagsterInstance,
                  **accounting: Any) -> Pipeline:
    exact = exact_client(running, state_url, minutely_call_limit=10**6, daily_call_limit=10**6)
    bill = bill_client(running, state_url)
    # Doubts settle in a second (Exact's real window is minutes): tests that are about the window set their own.
    doubt = {"doubt_settle_seconds": 1.0, "doubt_wait_seconds": 5.0}
    resources = {"exact": exact, "bill": bill, "state": StateDatabase(url=state_url),
                 "accounting": AccountingSettings(**{**doubt, **accounting})}
    api = exact.build_api(store=StateStore(state_url), vault_key=key)
    consent = requests.get(api.auth.authorize_url("p"), allow_redirects=False, timeout=10)
    api.auth.exchange(consent.headers["Location"])
    return Pipeline(running, state_url, resources, instance)


def sandbox_entries(running: RunningSandboxes, kind: str = "purchase") -> list[dict[str, Any]]:
    response = requests.get(f"{running.exact_url}/_sandbox/entries", params={"kind": kind}, timeout=30)
    response.raise_for_status()
    return response.json()[kind]


def bill_id_of(entry: dict[str, Any]) -> str | None:
    """The BILL bill (or payment) an Exact entry was posted for, from its description."""
    text = entry.get("Description") or (entry.get("Lines") or [{}])[0].get("Description") or ""
    parts = text.split()
    return parts[1] if len(parts) > 1 and parts[0] == "BILL" else None


def control(running: RunningSandboxes, system: str, method: str, path: str, body: Any = None) -> Any:
    base = running.exact_url if system == "exact" else running.bill_url
    response = requests.request(method, f"{base}/_sandbox/{path}", json=body, timeout=30)
    assert response.ok, response.text
    return response.json() if response.content else None


def posts(running: RunningSandboxes, system: str) -> int:
    """How many writes (POST, PATCH, PUT, DELETE) a sandbox has served."""
    calls = requests.get(f"{running.exact_url if system == 'exact' else running.bill_url}/_sandbox/counters",
                         timeout=10).json()["calls"]
    return sum(n for name, n in calls.items() if name.split()[0] in {"POST", "PATCH", "PUT", "DELETE"}
               and "login" not in name and "oauth2" not in name)


def exact_reader(pipeline: Pipeline) -> ExactApi:
    """An ExactApi on the pipeline's connection and out of its call budget: how a test reads what Exact holds."""
    return ExactOnlineClient(**{**pipeline.resources["exact"].model_dump(), "budget_enabled": False}).api()


def entries_in_exact(pipeline: Pipeline, journal: str = "60") -> dict[str, list[dict[str, Any]]]:
    """Per BILL ID, the entries Exact holds for it in a journal, read through Exact's API (the sync endpoint).

    Each entry is its lines: what Exact booked, not what the connector's ledger says it posted.
    """
    by_entry: dict[str, list[Any]] = defaultdict(list)
    for line in exact_reader(pipeline).sync_transaction_lines(1):
        if line.journal_code == journal and line.entry_id is not None:
            by_entry[str(line.entry_id)].append(line)
    entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry_id, lines in by_entry.items():
        source = next((bill_id_of({"Description": line.description}) for line in lines
                       if bill_id_of({"Description": line.description})), None)
        if source:
            entries[source].append({"entry_id": entry_id, "entry_number": lines[0].entry_number,
                                    "your_ref": lines[0].your_ref, "lines": lines})
    return dict(entries)


def postings_per_source(pipeline: Pipeline, journal: str = "60") -> Counter[str]:
    """How many entries Exact holds for each BILL bill (journal 60) or payment (journal 20)."""
    return Counter({source: len(entries) for source, entries in entries_in_exact(pipeline, journal).items()})


def run_figures(result: dg.ExecuteInProcessResult, node: str) -> dict[str, Any]:
    """What one asset's step reported for the whole run (a range run prefixes its own figures with run_)."""
    metadata = result.asset_materializations_for_node(node)[0].metadata
    return {name.removeprefix("run_"): value.value for name, value in metadata.items()}
