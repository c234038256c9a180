"""Dagster's own runs and events, on the embedded SQLite instance and on PostgreSQL, set up as the README says."""

import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from exact_bill_pipeline.dagster_storage import EVENT_BATCH_SIZE_ENV, AssetEventBatches, BatchingInstance
from exact_bill_pipeline.defs.payables import exact_purchase_entries

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy" / "dagster-postgres.yaml"
EMBEDDED = PROJECT / "dagster.yaml"
SHIPPED = {"sqlite": EMBEDDED, "postgresql": DEPLOY}
# Dagster's own storage for each, as Dagster configures it without this project.
STOCK = {"sqlite": "telemetry:\n  enabled: false\n",
         "postgresql": "telemetry:\n  enabled: false\n"
                       "storage:\n  postgres:\n    postgres_url:\n      env: DAGSTER_PG_URL\n"}

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01")
RANGE = {"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-30"}
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def day_totals(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """A partitioned asset like the posting assets: one run covers a range of days."""
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[day_totals])
def day_report() -> None:
    """A second asset: the run's planned events for both assets and the check arrive as one batch."""


@dg.asset_check(asset=day_totals)
def day_totals_add_up() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def open_instance(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Callable[..., dg.DagsterInstance]:
    """Opens a Dagster instance in a home of its own name, from the shipped file or Dagster's stock settings.

    On PostgreSQL each home gets its own schema, as a DAGSTER_PG_URL.
    """
    kind = request.param
    pg_urls: dict[str, str] = {}

    def open_(home: str = "home", *, stock: bool = False) -> dg.DagsterInstance:
        path = tmp_path / home
        path.mkdir(exist_ok=True)
        if stock:
            (path / "dagster.yaml").write_text(STOCK[kind])
        else:
            shutil.copy(SHIPPED[kind], path / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_HOME", str(path))
        if kind == "postgresql":
            if home not in pg_urls:
                pg_urls[home] = request.getfixturevalue("make_postgres_url")()
            monkeypatch.setenv("DAGSTER_PG_URL", pg_urls[home])
        return dg.DagsterInstance.from_config(str(path))

    return open_


def materialize_range(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize([day_totals, day_report, day_totals_add_up], instance=instance, tags=RANGE,
                          run_config=QUIET)


def what_dagster_shows(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, object]:
    """What the UI reads back: partitions, per-partition records, the asset rows, planned runs and each run's log."""
    shown: dict[str, object] = {}
    for asset in (day_totals, day_report):
        records = instance.fetch_materializations(asset.key, limit=1000).records
        entry = instance.get_asset_records([asset.key])[0].asset_entry
        shown[asset.key.to_user_string()] = {
            "partitions": sorted(instance.get_materialized_partitions(asset.key)),
            "records": sorted((r.partition_key, run_ids.index(r.run_id)) for r in records),
            "by_partition_tag": len(instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=asset.key, asset_partitions=["2026-01-15"]), limit=10).records),
            "last_partition": entry.last_materialization.dagster_event.partition,
            "last_run": run_ids.index(entry.last_run_id),
            "planned_in_last_run": instance.get_latest_planned_materialization_info(asset.key).run_id == run_ids[-1],
        }
    shown["logs"] = [[e.dagster_event_type for e in instance.all_logs(run_id)] for run_id in run_ids]
    shown["check"] = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [day_totals_add_up.check_key])[day_totals_add_up.check_key].status
    return shown


def test_the_shipped_instance_shows_exactly_what_dagsters_stock_storage_shows(open_instance):
    """Batched writes change how many commits a range costs, not a single row the UI reads."""
    shown = {}
    for stock in (True, False):
        with open_instance("stock" if stock else "shipped", stock=stock) as instance:
            run_ids = [materialize_range(instance).run_id, materialize_range(instance).run_id]
            shown[stock] = what_dagster_shows(instance, run_ids)
            assert isinstance(instance.event_log_storage, AssetEventBatches) != stock

    assert shown[False] == shown[True]
    totals = shown[False]["day_totals"]
    assert len(totals["partitions"]) == 30
    assert totals["last_partition"] == "2026-01-30"
    assert totals["last_run"] == 1
    assert totals["by_partition_tag"] == 2


def index_connections_for_a_range(instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch) -> int:
    storage = instance.event_log_storage
    opened = 0
    index_connection = storage.index_connection

    def counting_index_connection():
        nonlocal opened
        opened += 1
        return index_connection()

    monkeypatch.setattr(storage, "index_connection", counting_index_connection)
    assert materialize_range(instance).success
    return opened


def test_a_range_costs_the_shipped_instance_a_few_commits_not_two_per_day(open_instance, monkeypatch):
    with open_instance() as instance:
        assert isinstance(instance, BatchingInstance)
        # 2 assets x 30 days of materializations and planned events; Dagster's stock instance opens at
        # least one per event (120), on SQLite four (240).
        assert index_connections_for_a_range(instance, monkeypatch) < 40


def test_dagster_event_batch_size_in_the_environment_still_wins(open_instance, monkeypatch):
    monkeypatch.setenv(EVENT_BATCH_SIZE_ENV, "0")
    with open_instance() as instance:
        assert index_connections_for_a_range(instance, monkeypatch) >= 120


def test_the_shipped_file_works_in_the_temporary_home_dagster_dev_makes_without_dagster_home(tmp_path, monkeypatch):
    """`dagster dev` in the project folder, DAGSTER_HOME unset: Dagster's own temporary-instance call."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    ref = InstanceRef.from_dir(str(tmp_path), config_dir=str(PROJECT))
    with dg.DagsterInstance.from_ref(ref) as instance:
        assert isinstance(instance, BatchingInstance)
        assert isinstance(instance.event_log_storage, AssetEventBatches)
        assert materialize_range(instance).success
        assert len(instance.get_materialized_partitions(day_totals.key)) == 30
    assert (tmp_path / "history" / "runs" / "index.db").exists()


def test_the_shipped_instance_keeps_the_history_of_dagsters_stock_storage(open_instance):
    """Switching an existing $DAGSTER_HOME to the project's file loses no run and no partition."""
    with open_instance(stock=True) as instance:
        before = materialize_range(instance).run_id
    with open_instance() as instance:
        assert isinstance(instance.event_log_storage, AssetEventBatches)
        assert instance.get_run_by_id(before) is not None
        assert len(instance.get_materialized_partitions(day_totals.key)) == 30
        after = materialize_range(instance).run_id
        assert instance.get_latest_materialization_event(day_totals.key).run_id == after
        assert len(instance.fetch_materializations(day_totals.key, limit=1000).records) == 60


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_the_production_instance_keeps_runs_and_partitions_in_postgresql(make_pipeline_for, state_url, tmp_path,
                                                                         monkeypatch):
    """One PostgreSQL database holds both Dagster's storage and the connector's state, as a small deployment would."""
    shutil.copy(DEPLOY, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", state_url)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert isinstance(instance.event_log_storage, AssetEventBatches)
        pipeline = make_pipeline_for(instance=instance)
        result = pipeline.sync_everything()
        assert result.success

        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        assert run.is_success
        first, last = pipeline.history()
        materialized = instance.get_materialized_partitions(exact_purchase_entries.key)
        assert {first, last} <= materialized
        latest = instance.get_latest_materialization_event(exact_purchase_entries.key)
        assert latest is not None
        assert latest.run_id == result.run_id
