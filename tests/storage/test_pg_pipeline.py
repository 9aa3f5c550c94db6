"""PostgreSQL pipeline mode (storage/_pg_pipeline.py): statements in order, one transaction, committed or not."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from loopwise.storage._db import make_engine
from loopwise.storage._pg_pipeline import pipelined

CREATE = text("CREATE TABLE pipe (n integer PRIMARY KEY)")
INSERT = text("INSERT INTO pipe (n) VALUES (:n)")
COUNT = text("SELECT count(*) AS n, max(n) AS top FROM pipe")


def _postgres(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("pipeline mode is PostgreSQL's")


def test_statements_run_in_order_and_commit(store_url: str) -> None:
    _postgres(store_url)
    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(CREATE)
        with engine.begin() as conn:
            first, second, counted = pipelined(conn, [(INSERT, {"n": 1}), (INSERT, {"n": 2}), (COUNT, {})], commit=True)
        assert (first.rowcount, second.rowcount) == (1, 1)
        assert counted.rows == [(2, 2)] and counted.rows[0].top == 2
        with engine.connect() as other:  # committed: another connection sees both rows
            assert other.execute(COUNT).one() == (2, 2)
    finally:
        engine.dispose()


def test_a_failing_statement_leaves_nothing_written(store_url: str) -> None:
    _postgres(store_url)
    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(CREATE)
        with pytest.raises(DBAPIError, match="duplicate key"), engine.begin() as conn:
            pipelined(conn, [(INSERT, {"n": 1}), (INSERT, {"n": 1})], commit=True)
        with engine.connect() as other:
            assert other.execute(COUNT).one() == (0, None)
        with engine.begin() as conn:  # without commit=True, the SQLAlchemy transaction commits as usual
            pipelined(conn, [(INSERT, {"n": 3})])
        with engine.connect() as other:
            assert other.execute(COUNT).one() == (1, 3)
    finally:
        engine.dispose()
