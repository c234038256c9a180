"""The state schema: migrations create exactly the tables the code describes, idempotently."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from exact_bill_pipeline.state.db import StateStore, StateStoreError
from exact_bill_pipeline.state.schema import metadata


def test_migrations_bring_the_schema_to_head_and_match_the_code(state_url):
    store = StateStore(state_url)
    with store.transaction() as conn:
        assert StateStore.current_revision(conn) == StateStore.head_revision()
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(state_url):
    StateStore(state_url)
    assert StateStore(state_url).migrate() == StateStore.head_revision()


def test_an_unreachable_database_is_a_clear_error():
    with pytest.raises(StateStoreError, match=r"cannot open the state database at .*EXACT_BILL_STATE_URL") as err:
        StateStore("postgresql+psycopg2://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(err.value)


def test_a_malformed_url_is_a_clear_error():
    with pytest.raises(StateStoreError, match="EXACT_BILL_STATE_URL is not a database URL"):
        StateStore("not a url")
