"""PostgreSQL pipeline mode for the queue: a transaction's statements sent in one network round trip.

Every queue transaction begins by locking the project's row; until it commits, every other writer
of the project waits. Sent one by one, each statement after the lock is a round trip with the lock
held, and between them the server thread may wait for a CPU and for the GIL (tens of milliseconds on
a busy machine). In pipeline mode (libpq's, through psycopg) BEGIN, the lock, the work and COMMIT go
out together and PostgreSQL runs them back to back: the lock is held for the time the database
takes, not the time our process takes. Each statement is still a statement of its own, so under
READ COMMITTED the ones after the lock see every write committed before the lock was granted, as
when they were sent one at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable


class Outcome(NamedTuple):
    """One statement's result: its rows (named tuples) and the number of rows it changed."""

    rows: list[Any]
    rowcount: int


_COMPILED: dict[int, tuple[Executable, str]] = {}


def _sql(conn: Connection, statement: Executable) -> str:
    # Compiled once per statement: the psycopg form of its ':name' parameters (%(name)s, with casts).
    found = _COMPILED.get(id(statement))
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        found = _COMPILED[id(statement)] = (statement, str(compiled))
    return found[1]


def pipelined(
    conn: Connection, statements: Sequence[tuple[Executable, Mapping[str, Any]]], *, commit: bool = False
) -> list[Outcome]:
    """Run ``statements`` on ``conn``'s transaction in one round trip (and commit it, if ``commit``).

    The statements are module-level constants (their compiled SQL is cached by identity). After a
    commit here, the SQLAlchemy transaction's own commit finds nothing to do; an error rolls it back.
    """
    import psycopg  # only here: a SQLite-only install (the base package) has no PostgreSQL driver
    from psycopg.rows import namedtuple_row

    raw = conn.connection.driver_connection
    assert raw is not None
    cursors = []
    sql = ""
    try:
        with raw.pipeline():
            for statement, params in statements:
                cursor = raw.cursor(row_factory=namedtuple_row)
                sql = _sql(conn, statement)
                cursor.execute(sql, dict(params))
                cursors.append(cursor)
            if commit:
                raw.commit()
    except psycopg.Error as exc:
        # As SQLAlchemy raises it for its own statements; a lost connection leaves the pool too.
        disconnected = conn.dialect.is_disconnect(exc, raw, None)  # type: ignore[arg-type]
        if disconnected:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, psycopg.Error, connection_invalidated=disconnected, dialect=conn.dialect
        ) from exc
    outcomes = []
    for cursor in cursors:
        rows = cursor.fetchall() if cursor.description is not None else []
        outcomes.append(Outcome(rows, cursor.rowcount))
        cursor.close()
    return outcomes
