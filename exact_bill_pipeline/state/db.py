"""Opening the state database (SQLite file by default, PostgreSQL by URL) and migrating it to the newest schema."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from exact_bill_pipeline.redaction import REDACTOR
from exact_bill_pipeline.state.schema import VERSION_TABLE

STATE_URL_ENV = "EXACT_BILL_STATE_URL"
LEGACY_VERSION_TABLE = "alembic_version"
HOME_ENV = "EXACT_BILL_HOME"


def database_clock(dialect: str) -> sa.ColumnElement[float]:
    """The database server's clock, in epoch seconds, as SQL: leases and claims are timed by it, so callers on
    machines whose clocks disagree still agree. A SQLite file is only ever shared by one machine's processes."""
    if dialect == "postgresql":
        return sa.func.extract("epoch", sa.func.clock_timestamp())
    # 2440587.5 is the Julian day of 1970-01-01T00:00Z: julianday('now') in epoch seconds, to the millisecond.
    return (sa.func.julianday("now") - 2440587.5) * 86400.0


def database_now(conn: sa.Connection) -> datetime:
    """The database server's clock, read once."""
    seconds = conn.execute(sa.select(database_clock(conn.dialect.name))).scalar_one()
    return datetime.fromtimestamp(float(seconds), tz=UTC)


class StateStoreError(RuntimeError):
    """The state database cannot be opened or migrated; the message says which and what to do."""


def default_home() -> Path:
    """Where the embedded defaults live: $EXACT_BILL_HOME, else ~/.exact_bill."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".exact_bill")


def default_state_url() -> str:
    """$EXACT_BILL_STATE_URL, else a SQLite file in the home directory."""
    url = os.environ.get(STATE_URL_ENV)
    if url:
        return url
    home = default_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'state.sqlite'}"


def _configure_sqlite(engine: sa.Engine) -> None:
    """Lets SQLAlchemy's transactions be real SQLite transactions, IMMEDIATE when a lock is asked for.

    pysqlite starts transactions lazily and never with BEGIN IMMEDIATE; without this, two processes that
    both read a token and then write would both succeed (SQLAlchemy docs, "Serializable isolation").
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI objects
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("exclusive") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class StateStore:
    """The connector's database: an engine plus the transactions and locks the rest of the code uses."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_state_url()
        try:
            url_obj = sa.make_url(self.url)
        except sa.exc.ArgumentError as exc:
            raise StateStoreError(f"{STATE_URL_ENV} is not a database URL: {exc}") from exc
        REDACTOR.register(url_obj.password)
        self.dialect = url_obj.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = sa.create_engine(url_obj, connect_args={"timeout": 30})
            _configure_sqlite(self.engine)
        elif url_obj.get_driver_name() == "psycopg2":
            # An executemany UPDATE (a batch of ledger outcomes) is then one round trip per 100 rows, not
            # one per row; its rowcount is no longer the total, so no caller relies on that.
            self.engine = sa.create_engine(url_obj, pool_pre_ping=True, executemany_mode="values_plus_batch")
        else:
            self.engine = sa.create_engine(url_obj, pool_pre_ping=True)
        if migrate:
            self.migrate()

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """An ordinary transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[sa.Connection]:
        """A transaction that may lock rows: pair it with SELECT ... FOR UPDATE.

        On PostgreSQL the FOR UPDATE row lock does the work; SQLite has no row locks, so the transaction
        starts with BEGIN IMMEDIATE and holds the database's write lock until it ends.
        """
        with self.engine.connect().execution_options(exclusive=True) as conn, conn.begin():
            yield conn

    def migrate(self) -> str:
        """Brings the schema to the newest revision; safe to run from several processes at once."""
        try:
            with self.exclusive() as conn:
                if self.dialect == "postgresql":
                    # Serialises concurrent start-ups; released when the transaction ends.
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x45584143})
                config = _alembic_config(conn)
                _adopt_legacy_revision(conn, config)
                command.upgrade(config, "head")
                return self.current_revision(conn)
        except sa.exc.OperationalError as exc:
            reason = " ".join(str(exc.orig).split())
            raise StateStoreError(
                f"cannot open the state database at {self.safe_url}: {reason}. "
                f"Check {STATE_URL_ENV} and that the database server is running."
            ) from exc

    @staticmethod
    def current_revision(conn: sa.Connection) -> str:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision() or "none"

    @staticmethod
    def head_revision() -> str:
        return ScriptDirectory.from_config(_alembic_config(None)).get_current_head() or "none"

    def dispose(self) -> None:
        self.engine.dispose()


def _adopt_legacy_revision(conn: sa.Connection, config: Config) -> None:
    """Moves a revision of ours out of alembic's default table, where early versions kept it, into VERSION_TABLE."""
    inspector = sa.inspect(conn)
    if inspector.has_table(VERSION_TABLE) or not inspector.has_table(LEGACY_VERSION_TABLE):
        return
    ours = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    legacy = sa.table(LEGACY_VERSION_TABLE, sa.column("version_num"))
    found = [rev for rev in conn.execute(sa.select(legacy.c.version_num)).scalars() if rev in ours]
    if found:
        command.stamp(config, found[0])
        conn.execute(sa.delete(legacy).where(legacy.c.version_num.in_(found)))


def _alembic_config(conn: sa.Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("exact_bill_pipeline.state") / "migrations"))
    config.attributes["connection"] = conn
    return config
