"""Dagster's own instance and storages (SQLite, PostgreSQL), writing a run's batch of asset events together."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any, Self

import yaml
from dagster import DagsterEventType, DagsterInstance, EventLogEntry
from dagster._core.events import ASSET_EVENTS, BATCH_WRITABLE_EVENTS
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy import Connection

# These classes override Dagster methods that are not public API (_get_event_batch_size) and call others
# (_store_asset_event_tags, _store_asset_event): Dagster is pinned in pyproject.toml, and the storage tests
# compare every row the UI reads with Dagster's stock instance, so an upgrade that changes them fails there.

# Dagster's own switch: an instance hands its event log a batch (the materializations of a partition range,
# the planned events of a run) only when it is above 0. BatchingInstance makes 1000 the default.
EVENT_BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = "1000"

_BATCHED_HERE = (BATCH_WRITABLE_EVENTS & ASSET_EVENTS) - {DagsterEventType.ASSET_FAILED_TO_MATERIALIZE}


class AssetEventBatches:
    """Writes each run of consecutive asset events in a batch together; other events keep their place.

    What is written is what `store_event` writes for each event in turn: the event row, its indexed tags
    and its asset's row. Dagster sends batches only from an instance that batches (BatchingInstance).
    """

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        for batched, group in groupby(events, key=_batched_here):
            if batched:
                self._store_asset_events(list(group))
            else:
                for event in group:
                    self.store_event(event)  # type: ignore[attr-defined]

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        raise NotImplementedError

    def _index_asset_events(self, conn: Connection, events: Sequence[EventLogEntry], event_ids: Sequence[int]) -> None:
        self._store_asset_event_tags(conn, events, event_ids)  # type: ignore[attr-defined]
        for index in _last_of_each_kind(events):
            self._store_asset_event(conn, events[index], event_ids[index])  # type: ignore[attr-defined]


class BatchingSqliteEventLogStorage(AssetEventBatches, SqliteEventLogStorage):
    """Dagster's per-run SQLite event log; a batch of asset events takes one run-shard and one index commit.

    As in `store_event`, the run shard and the index are two files, written one after the other. If a
    write fails part-way, Dagster stores the whole batch again event by event, so what was written before
    the failure shows twice (SQLite already waited 30 s for its lock by then).
    """

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        statements = [self.prepare_insert_event(event) for event in events]
        for run_id, pairs in groupby(zip(events, statements, strict=True), key=lambda pair: pair[0].run_id):
            with self.run_connection(run_id) as conn:
                for _, statement in pairs:
                    conn.execute(statement)
        with self.index_transaction() as conn:
            self._index_asset_events(conn, events, [conn.execute(s).inserted_primary_key[0] for s in statements])


class BatchingPostgresEventLogStorage(AssetEventBatches, PostgresEventLogStorage):
    """dagster-postgres's event log; a batch of asset events (planned ones too) takes one INSERT and one transaction."""

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        insert = self.prepare_insert_event_batch(events).returning(SqlEventLogStorageTable.c.id)
        with self.index_transaction() as conn:
            self._index_asset_events(conn, events, list(conn.execute(insert).scalars()))


def _batched_here(event: EventLogEntry) -> bool:
    return event.is_dagster_event and event.dagster_event_type in _BATCHED_HERE


def _last_of_each_kind(events: Sequence[EventLogEntry]) -> list[int]:
    """Positions of each asset's last event of each type, in order.

    An asset's row takes each event's values in turn, and every event type always sets the same columns,
    so applying only these leaves the row exactly as applying every event would.
    """
    last = {(event.get_dagster_event().asset_key, event.dagster_event_type): i for i, event in enumerate(events)}
    return sorted(last.values())


class BatchingInstance(DagsterInstance):
    """Dagster's instance, handing its event log batches; its default storage is BatchingSqliteStorage.

    Named in dagster.yaml as instance_class. The default storage lives where Dagster's would (under the
    instance's directory, also the temporary one `dagster dev` makes without DAGSTER_HOME); a storage
    named in dagster.yaml still wins, as does DAGSTER_EVENT_BATCH_SIZE in the environment.
    """

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}  # no settings of its own

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        config = yaml.safe_dump({"base_dir": base_dir})
        storage = ConfigurableClassData(__name__, BatchingSqliteStorage.__name__, config)
        return {**InstanceRef.config_defaults(base_dir), "storage": storage}

    def _get_event_batch_size(self) -> int:
        return int(os.getenv(EVENT_BATCH_SIZE_ENV, EVENT_BATCH_SIZE))


class BatchingSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (same files under base_dir) with the batching event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data)
        self._event_log_storage = BatchingSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls.from_local(inst_data=inst_data, **config_value)


class BatchingPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres's storage (same tables, same settings) with the batching event log."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: ConfigurableClassData | None = None, token_provider: Any = None) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self._event_log_storage = BatchingPostgresEventLogStorage(postgres_url, should_autocreate_tables,
                                                                  token_provider=token_provider)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, postgres_url=pg_url_from_config(config_value),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   token_provider=get_token_provider_from_config(config_value))
