"""The queue's hot transactions on SQLite, run on the driver's own connection.

A lease is three short statements and a label five; SQLAlchemy's work around each (an execution
context, parameter and result processing, events) cost more CPU than SQLite took to run them, on
every request of every annotator. These run the same prepared texts (_queue_sql) on the pooled
sqlite3 connection (checked out through the pool, so its connect and checkout settings apply:
WAL, foreign keys, synchronous=NORMAL, the busy timeout), in a BEGIN IMMEDIATE transaction, with
datetimes bound and read through the column type exactly as SQLAlchemy would. Only the
``execute(...).first()/.all()/.scalar_one()/.rowcount`` subset the queue uses is offered.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Engine, TextClause
from sqlalchemy.sql.selectable import TextualSelect


class RawResult:
    """The rows of one statement, with attribute access by column name, as SQLAlchemy's rows have."""

    def __init__(self, cursor: Any) -> None:
        self.rowcount = cursor.rowcount
        description = cursor.description
        if description is None:
            self._rows: list[Any] = []
            return
        row_type = _row_type(tuple(column[0] for column in description))
        self._rows = [row_type(*row) for row in cursor.fetchall()]

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return self._rows

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]


class RawSqlite:
    """One write transaction's statements on the sqlite3 connection: ``execute(text, params)``."""

    def __init__(self, connection: Any, bind_time: Any, read_time: Any) -> None:
        self._connection = connection
        self._bind_time = bind_time
        self._read_time = read_time

    def execute(self, statement: TextClause | TextualSelect, params: Mapping[str, Any] | None = None) -> RawResult:
        bound = {
            key: self._bind_time(value) if isinstance(value, datetime) else value for key, value in (params or {}).items()
        }
        cursor = self._connection.cursor()
        try:
            # A text() typed with .columns() wraps the clause; its SQL is the clause's.
            clause: Any = statement.element if isinstance(statement, TextualSelect) else statement
            sql = clause.text
            cursor.execute(sql, bound)
            return RawResult(cursor)
        finally:
            cursor.close()

    def read_time(self, value: Any) -> datetime:
        """A timestamp column's stored text as the datetime SQLAlchemy would have read."""
        return self._read_time(value)  # type: ignore[no-any-return]


@contextmanager
def raw_write(engine: Engine) -> Iterator[RawSqlite]:
    """BEGIN IMMEDIATE ... COMMIT on a pooled connection (ROLLBACK if the block raises); the caller serialises."""
    bind_time, read_time = _time_processors(engine.dialect)
    pooled = engine.raw_connection()
    try:
        connection: Any = pooled.driver_connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield RawSqlite(connection, bind_time, read_time)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        pooled.close()  # back to the pool


@functools.cache
def _time_processors(dialect: Dialect) -> tuple[Any, Any]:
    """How SQLAlchemy writes and reads a timestamp column on this dialect (SQLite: text)."""
    stamp = DateTime(timezone=True).dialect_impl(dialect)
    return stamp.bind_processor(dialect), stamp.result_processor(dialect, None)


_ROW_TYPES: dict[tuple[str, ...], Any] = {}


def _row_type(names: tuple[str, ...]) -> Any:
    found = _ROW_TYPES.get(names)
    if found is None:
        found = _ROW_TYPES[names] = namedtuple("Row", names, rename=True)  # type: ignore[misc]  # noqa: PYI024
    return found
