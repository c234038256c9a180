"""The project as a user meets it: lint-clean, pinned, its commands and code location load."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from exact_bill_pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_to_fix():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dagster_packages_are_pinned_to_one_release_line():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(re.fullmatch(r"([a-z-]+)==([\d.]+)", d).groups() for d in deps if d.startswith("dagster"))
    core = pins["dagster"].split(".")
    assert pins["dagster-webserver"] == pins["dagster"]
    # dagster 1.N.P goes with dagster-postgres 0.(N+16).P
    assert pins["dagster-postgres"] == f"0.{int(core[1]) + 16}.{core[2]}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in readme


def test_command_line_lists_its_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "sandbox" in result.output
    assert "demo" in result.output


def test_the_code_location_loads_with_the_lineage_of_the_design():
    import dagster as dg

    from exact_bill_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()

    def upstream(name: str) -> set[str]:
        return {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}

    assert upstream("account_mapping") == {"exact_gl_accounts", "exact_cost_centers"}
    assert upstream("exact_suppliers") == {"bill_vendors"}
    assert upstream("exact_purchase_entries") == {"bill_bills", "account_mapping", "exact_suppliers"}
    assert upstream("exact_payment_entries") == {"bill_payments", "exact_purchase_entries"}
    assert upstream("exact_purchase_orders") == set()
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"reference_sync", "payables_sync", "full_sync",
                                                              "replay_failures"}
    assert {s.name for s in defs.schedules} == {"reference_sync_schedule", "payables_schedule"}
    assert {s.name for s in defs.sensors} == {"replay_on_mapping_change", "polling_sweep", "inbox_sensor"}
    checks = {key.name for key in graph.asset_check_keys}
    assert checks == {"unmatched_bills", "bills_changed_after_posting", "posted_totals_match_bill",
                      "no_duplicate_postings", "payments_waiting", "reference_data_fresh"}


def test_secrets_from_the_environment_never_show_in_the_dagster_config(monkeypatch):
    import dagster as dg

    from exact_bill_pipeline.definitions import build_definitions

    monkeypatch.setenv("EXACT_CLIENT_SECRET", "real-secret-from-env")
    monkeypatch.setenv("BILL_PASSWORD", "real-password-from-env")
    defs = build_definitions()
    exact, bill = defs.resources["exact"], defs.resources["bill"]
    assert isinstance(exact.client_secret, dg.EnvVar)
    assert isinstance(bill.password, dg.EnvVar)
    assert "real-secret-from-env" not in repr(exact) + repr(bill)
