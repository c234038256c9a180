"""Dagster's own runs and events on PostgreSQL, set up exactly as the README tells production users to."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from exact_bill_pipeline.defs.payables import exact_purchase_entries

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "dagster-postgres.yaml"


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
