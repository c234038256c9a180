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


def test_code_location_loads():
    from exact_bill_pipeline.definitions import defs

    defs.resolve_all_job_defs()
