"""Pooled PostgreSQL connections: one the database dropped while it sat idle is replaced, not handed out."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from loopwise.storage import _db


def test_a_connection_dropped_while_idle_is_replaced(
    store_url: str, postgres_admin: Engine | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite connections are files, not sockets the database can drop")
    assert postgres_admin is not None
    engine = _db.make_engine(store_url)
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # The database ends the pooled connection (a restart, an idle timeout would do the same).
        with postgres_admin.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid}).scalar_one()
        monkeypatch.setattr(_db, "PING_AFTER_IDLE_S", 0.0)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != first_pid
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(store_url: str) -> None:
    """Checked out again right after use, the connection goes out without a ping (no extra round trip)."""
    if not store_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL engines ping")
    engine = _db.make_engine(store_url)
    pings: list[object] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(dbapi_connection) or original(dbapi_connection)  # type: ignore[method-assign]
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
    finally:
        engine.dispose()
