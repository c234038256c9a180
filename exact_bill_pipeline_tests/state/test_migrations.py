"""The state schema: migrations create exactly the tables the code describes, idempotently."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from exact_bill_pipeline.state.db import StateStore, StateStoreError
from exact_bill_pipeline.state.schema import VERSION_TABLE, metadata


def test_migrations_bring_the_schema_to_head_and_match_the_code(state_url):
    store = StateStore(state_url)
    with store.transaction() as conn:
        assert StateStore.current_revision(conn) == StateStore.head_revision()
        diff = compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), metadata)
    assert diff == []


def test_the_revision_lives_in_a_table_of_its_own_beside_another_alembic_user(state_url):
    """Dagster's PostgreSQL storage keeps its revision in alembic_version; one database can hold both."""
    engine = sa.create_engine(state_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('6df03f4b1efb')"))
    assert StateStore(state_url).migrate() == StateStore.head_revision()
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
            "6df03f4b1efb"]
    engine.dispose()


def test_a_database_migrated_by_an_early_version_is_adopted_not_migrated_again(state_url):
    store = StateStore(state_url)
    with store.transaction() as conn:  # what an early version left: our revision in alembic's default table
        revision = StateStore.current_revision(conn)
        sa.Table(VERSION_TABLE, sa.MetaData(), autoload_with=conn).drop(conn)
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES (:rev)"), {"rev": revision})
    assert StateStore(state_url).migrate() == revision
    with store.transaction() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 0


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
