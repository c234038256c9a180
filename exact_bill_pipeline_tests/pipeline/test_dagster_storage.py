"""Dagster's own runs and events on its stock storages, SQLite and PostgreSQL, set up as the README says."""

import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import yaml

from exact_bill_pipeline.defs.payables import exact_purchase_entries

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy" / "dagster-postgres.yaml"
EMBEDDED = PROJECT / "dagster.yaml"
SHIPPED = {"sqlite": EMBEDDED, "postgresql": DEPLOY}
STOCK_EVENT_LOG = {"sqlite": "SqliteEventLogStorage", "postgresql": "PostgresEventLogStorage"}

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01")
RANGE = {"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-30"}
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), pool="exact_division_writes")
def day_totals(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """A partitioned asset like the posting assets: one run covers a range of days, in the posting pool."""
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset_check(asset=day_totals)
def day_totals_add_up() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def shipped_instance(request: pytest.FixtureRequest, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> Callable[[], dg.DagsterInstance]:
    """Opens a Dagster instance from the shipped file, as the README sets it up (PostgreSQL: a schema of its own)."""
    shutil.copy(SHIPPED[request.param], tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    if request.param == "postgresql":
        monkeypatch.setenv("DAGSTER_PG_URL", request.getfixturevalue("make_postgres_url")())
    return lambda: dg.DagsterInstance.from_config(str(tmp_path))


@pytest.mark.parametrize("path", [EMBEDDED, DEPLOY], ids=["embedded", "postgresql"])
def test_the_shipped_instance_files_use_dagsters_stock_instance_with_run_monitoring(path):
    settings = yaml.safe_load(path.read_text())
    assert "instance_class" not in settings
    assert all("module" not in (value or {}) for value in settings.values() if isinstance(value, dict))
    # A run that died is marked failed, and the pool slots of a finished run are freed by the daemon.
    assert settings["run_monitoring"]["enabled"] is True
    assert settings["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert settings["concurrency"]["pools"]["default_limit"] == 1


def test_a_range_run_records_each_day_on_the_stock_storage(shipped_instance, request):
    with shipped_instance() as instance:
        kind = request.node.callspec.params["shipped_instance"]
        assert type(instance.event_log_storage).__name__ == STOCK_EVENT_LOG[kind]
        runs = [dg.materialize([day_totals, day_totals_add_up], instance=instance, tags=RANGE, run_config=QUIET)
                for _ in range(2)]
        assert all(run.success for run in runs)

        assert len(instance.get_materialized_partitions(day_totals.key)) == 30
        assert len(instance.fetch_materializations(day_totals.key, limit=1000).records) == 60
        by_day = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=day_totals.key, asset_partitions=["2026-01-15"]), limit=10).records
        assert {record.run_id for record in by_day} == {run.run_id for run in runs}
        assert instance.get_latest_materialization_event(day_totals.key).run_id == runs[-1].run_id


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_the_production_instance_keeps_runs_and_partitions_in_postgresql(make_pipeline_for, state_url, tmp_path,
                                                                         monkeypatch):
    """One PostgreSQL database holds both Dagster's storage and the connector's state, as a small deployment would."""
    shutil.copy(DEPLOY, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", state_url)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
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
