"""Fixtures for the asset-graph tests: sandboxes with Exact's limits raised, and the wired pipeline."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import dagster as dg
import pytest

from exact_bill_pipeline.sandbox.settings import ExactSandboxSettings, SandboxSettings
from exact_bill_pipeline.state.vault import VAULT_KEY_ENV, generate_key
from exact_bill_pipeline_tests.pipeline.pipeline_helpers import Pipeline, make_pipeline


def fast_settings(bills: int = 150, history_days: int = 40, *, ap_documents: bool = False,
                  **exact: object) -> SandboxSettings:
    """Exact's rate limits raised out of the way, and a short history, so a full sync takes seconds.

    Without the AP documents of issue 14 (vendor credits, EUR bills, VAT, a closed period...) unless asked: the
    tests that cover them turn them on."""
    return SandboxSettings(bills=bills, history_days=history_days, ap_documents=ap_documents, exact=dataclasses.replace(
        ExactSandboxSettings(), minutely_limit=10**6, daily_limit=10**7, **exact))


@pytest.fixture
def make_pipeline_for(make_sandboxes, state_url, monkeypatch) -> Callable[..., Pipeline]:
    key = generate_key()
    monkeypatch.setenv(VAULT_KEY_ENV, key)

    def make(settings: SandboxSettings | None = None, instance: dg.DagsterInstance | None = None,
             **accounting: object) -> Pipeline:
        running = make_sandboxes(settings or fast_settings())
        return make_pipeline(running, state_url, key, instance or dg.DagsterInstance.ephemeral(), **accounting)

    return make


@pytest.fixture
def pipeline(make_pipeline_for) -> Pipeline:
    return make_pipeline_for()
