"""The project as a user meets it: lint-clean, on public APIs, its dependencies declared, its commands loading."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from exact_bill_pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_to_fix():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _declared() -> dict[str, str]:
    """The project's dependencies: normalised distribution name -> version specifier."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pairs = (re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", d).groups() for d in deps)
    return {re.sub(r"[-_.]+", "-", name).lower(): spec for name, spec in pairs}


def test_dagster_packages_stay_on_one_release_line_and_take_its_patches():
    specs = _declared()
    ranges = {name: re.fullmatch(r"~=(\d+)\.(\d+)\.(\d+)", specs[name]) for name in
              ("dagster", "dagster-webserver", "dagster-postgres")}
    assert all(ranges.values()), f"each Dagster package is a ~= range on one release line: {specs}"
    core = ranges["dagster"].groups()
    assert ranges["dagster-webserver"].groups() == core
    # dagster 1.N.P goes with dagster-postgres 0.(N+16).P
    assert ranges["dagster-postgres"].groups() == ("0", str(int(core[1]) + 16), core[2])


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every absolute module named by an import statement in a file, with its line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno
            yield from ((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)


def _python_files() -> list[Path]:
    return [p for folder in ("exact_bill_pipeline", "exact_bill_pipeline_tests", "benchmarks")
            for p in sorted((ROOT / folder).rglob("*.py"))]


def _private(module: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in module.split("."))


def test_only_public_modules_of_any_dependency_are_imported():
    """No dagster._core and the like: a user must be able to take a dependency's patch release."""
    found = [f"{path.relative_to(ROOT)}:{line} {module}" for path in _python_files()
             for module, line in _imports(path) if _private(module)]
    instance_files = [ROOT / "dagster.yaml", *sorted((ROOT / "deploy").glob("*.yaml"))]
    found += [f"{path.relative_to(ROOT)} {module}" for path in instance_files
              for module in re.findall(r"module:\s*([\w.]+)", path.read_text()) if _private(module)]
    assert not found, "private modules imported:\n" + "\n".join(found)


def test_the_private_import_check_catches_what_it_is_for(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from dagster._core.events import ASSET_EVENTS\nimport dagster._serdes\n"
                       "from dagster import _check\nfrom __future__ import annotations\n")
    assert [m for m, _ in _imports(planted) if _private(m)] == [
        "dagster._core.events", "dagster._core.events.ASSET_EVENTS", "dagster._serdes", "dagster._check"]


def test_every_package_the_project_imports_is_declared():
    """A direct import of a package that only arrives through Dagster breaks when Dagster drops it."""
    distributions = importlib.metadata.packages_distributions()
    declared = set(_declared())
    package_files = [p for p in _python_files() if p.is_relative_to(ROOT / "exact_bill_pipeline")]
    missing: dict[str, str] = {}
    for path in package_files:
        for module, line in _imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "exact_bill_pipeline":
                continue
            owners = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(top, [top])}
            if not owners & declared:
                missing.setdefault(top, f"{path.relative_to(ROOT)}:{line}")
    assert not missing, f"imported but not declared in pyproject.toml (first import): {missing}"


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
    assert upstream("exact_purchase_credit_notes") == {"bill_vendor_credits", "account_mapping", "exact_suppliers"}
    assert upstream("exact_payment_entries") == {"bill_payments", "exact_purchase_entries",
                                                 "exact_purchase_credit_notes"}
    assert upstream("exact_purchase_orders") == set()
    assert upstream("failure_queue") == {"exact_purchase_entries", "exact_purchase_credit_notes",
                                         "exact_payment_entries", "exact_suppliers"}
    assert upstream("exact_reconciliation") == {"bill_bills", "bill_payments", "exact_purchase_entries",
                                                "exact_payment_entries"}
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"reference_sync", "payables_sync", "full_sync",
                                                              "replay_failures", "reconciliation"}
    assert {s.name for s in defs.schedules} == {"reference_sync_schedule", "payables_schedule"}
    assert {s.name for s in defs.sensors} == {"replay_on_mapping_change", "polling_sweep", "inbox_sensor",
                                                  "dead_run_sweep", "failure_queue_automation",
                                                  "alert_on_run_failure", "alert_on_queue_growth"}
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert checks == {
        # What waits for a person is checked on the queue, which every posting job materializes.
        ("failure_queue", "unmatched_bills"), ("failure_queue", "bills_changed_after_posting"),
        ("failure_queue", "payments_waiting"), ("exact_gl_accounts", "reference_data_fresh"),
        # What Exact really holds is checked on the asset that reads it, never on the connector's own ledger.
        *(("exact_reconciliation", name) for name in (
            "duplicates_in_exact", "missing_in_exact", "differences_in_exact", "deleted_in_exact",
            "exact_totals_per_day_match_bill", "exact_totals_per_vendor_match_bill"))}


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
