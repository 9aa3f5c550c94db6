"""Engines for the store: URL handling, SQLite pragmas and transactions, sessions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from loopwise.errors import ConfigError

DEFAULT_URL = "sqlite:///loopwise.db"
# How long a SQLite writer waits for another one before giving up with 'database is locked'.
BUSY_TIMEOUT_S = 30.0
_WRITE_OPTION = "loopwise_write"
# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 10.0


def parse_url(url: str | None) -> URL:
    """Parse ``url`` (``None``: ``loopwise.db`` in the working directory); SQLite paths become absolute."""
    text = DEFAULT_URL if url is None else url
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise ConfigError(
            f"cannot parse the store URL {text!r}: expected an SQLAlchemy URL such as "
            "'sqlite:///path/to/loopwise.db' or 'postgresql+psycopg://user:password@host/db'"
        ) from exc
    try:
        # Load the dialect now: an unknown scheme is a setting to correct, not a crash inside create_engine.
        parsed.get_dialect()
    except NoSuchModuleError as exc:
        raise ConfigError(
            f"the store URL {text!r} names the database {parsed.drivername!r}, which SQLAlchemy does not know: "
            "use 'sqlite:///path/to/loopwise.db' or 'postgresql+psycopg://user:password@host/db'"
        ) from exc
    if is_sqlite_file(parsed):
        # Absolute, so the store and its artifact folder stay put if the process changes directory.
        parsed = parsed.set(database=str(Path(str(parsed.database)).expanduser().resolve()))
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_sqlite_file(url: URL) -> bool:
    database = url.database
    return (
        is_sqlite(url)
        and bool(database)
        and database != ":memory:"
        and not str(database).startswith("file:")
    )


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; on SQLite every connection gets WAL, foreign keys and real transactions."""
    parsed = make_url(url)
    if not is_sqlite(parsed):
        engine = create_engine(parsed)
        _ping_idle_connections(engine)
        return engine
    # The busy timeout is given to sqlite3.connect, so it holds from the very first statement (the
    # journal-mode check included); as a PRAGMA it only applied after statements that can need a lock.
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
    if not is_sqlite_file(parsed):
        # An in-memory database lives in one connection; every session must share it.
        kwargs = {
            "poolclass": StaticPool,
            "connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        }
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection on checkout only if it sat idle for ``PING_AFTER_IDLE_S``.

    A long-lived server would otherwise hand out connections the database dropped (a restart, an
    idle timeout). SQLAlchemy's pool_pre_ping pings on every checkout: a round trip before every
    transaction, a fifth of the server's CPU per queue request on PostgreSQL. A connection in
    steady use was just used; one that fails anyway is invalidated with the rest of the pool by
    SQLAlchemy's disconnect handling.
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["loopwise_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("loopwise_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the write lock when they begin.

    On SQLite a transaction that reads and then writes cannot wait for another writer: SQLite fails
    the upgrade from read to write at once ('database is locked'), busy timeout or not, whenever
    another connection holds the write lock or has committed since our read. BEGIN IMMEDIATE takes
    the lock first, waiting up to the busy timeout. Readers keep plain BEGIN and never wait (WAL).
    On PostgreSQL this changes nothing.
    """
    return engine.execution_options(**{_WRITE_OPTION: True})


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module opens transactions lazily, only before DML, so a read followed by a write
    # (check the loop index, then insert) would not be atomic. Take over and emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers (the annotation server, reports) do not block the writer, nor it them. The mode
        # is stored in the file, so it is set once, by whoever finds it unset; switching needs an
        # exclusive lock, which a reader must not try to take on every open while a run writes.
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores foreign keys unless told so, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(_WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker:  # type: ignore[type-arg]
    # expire_on_commit=False: rows are read into dataclasses inside the transaction anyway.
    return sessionmaker(engine, expire_on_commit=False)
