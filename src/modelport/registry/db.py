"""The metadata database: engine set-up, schema migrations and transactions.

SQLite is opened in WAL mode with a busy timeout, and write transactions start with ``BEGIN IMMEDIATE`` so that two
processes writing at once queue up instead of failing on a lock upgrade. PostgreSQL needs no such care: row locks
serialize the version counters. Migrations run under a lock (an immediate transaction on SQLite, an advisory lock on
PostgreSQL), so two processes opening a new workspace at once create the schema once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, MissingDependencyError, UnavailableError

logger = logging.getLogger(__name__)

# The newest migration. Opening a workspace compares the database's revision with this constant and runs Alembic
# only when they differ; a test checks that it equals the head of the migration scripts.
SCHEMA_HEAD = "0003"
_MIGRATION_LOCK_KEY = 7_415_820_117  # pg_advisory_xact_lock key, any constant unique to modelport


def normalize_url(url: str) -> str:
    """``postgresql://`` (and ``postgres://``) mean psycopg 3, the driver of the ``postgres`` extra."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def create_db_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError(f"the database URL is not a valid SQLAlchemy URL: {exc}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 60})
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError as exc:
        raise InvalidInputError(f"unsupported database URL {redact_url(url)!r}: {exc}") from exc
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "a database driver", "postgres", "this database URL") from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _enable_wal(cursor: Any, timeout: float = 60) -> None:
    """Switch to WAL, waiting while another process holds a lock. SQLite answers "database is locked" at once here,
    without waiting in its busy handler, when another connection is creating or migrating a new database file."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction is committed on success and rolled back on any error."""
    session = Session(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)
    with session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def ensure_schema(engine: Engine) -> None:
    """Create or upgrade the schema to ``SCHEMA_HEAD``; cheap when it is already there."""
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
            conn.rollback()
    except OperationalError as exc:
        raise UnavailableError(f"cannot open the workspace database {redact_url(str(engine.url))}: {exc.orig}") from exc
    if revision == SCHEMA_HEAD:
        return
    _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("modelport.registry") / "migrations"))
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        before = current_revision(conn)
        if before == SCHEMA_HEAD:
            return  # another process migrated while we waited for the lock
        logger.info("upgrading workspace schema from %s to %s", before or "empty", SCHEMA_HEAD)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
