"""Database fixtures: ``store_url`` and ``store`` on SQLite and on a real PostgreSQL.

Use them from any test folder's conftest.py::

    from tests.dbfixtures import store, store_url  # noqa: F401  (pytest fixtures)

or for the whole suite, in tests/conftest.py: ``pytest_plugins = ["tests.dbfixtures"]``.

PostgreSQL comes from ``LOOPWISE_TEST_POSTGRES_URL`` (``.ci/postgres.sh`` prints it). Without it the
PostgreSQL cases are skipped, except under CI (env var ``CI`` set), where they fail: CI must run them.
Each PostgreSQL test gets a fresh schema of its own (dropped afterwards), so tests and parallel
test runs sharing one database never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url

from loopwise.storage import Store

POSTGRES_URL_ENV = "LOOPWISE_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | None]:
    """An engine on the test PostgreSQL database, or None when none is configured outside CI."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        yield None
        return
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | None
) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'loopwise.db'}"
        return
    if postgres_admin is None:
        message = (
            f"{POSTGRES_URL_ENV} is not set; run `eval \"$(.ci/postgres.sh)\"` (as root, Debian) "
            "to start a PostgreSQL and set it"
        )
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests: {message}", pytrace=False)
        pytest.skip(message)
    schema = f"lw_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    # search_path makes every unqualified name (tables, alembic_version, trigger function) land in
    # the test's own schema.
    url = make_url(postgres_admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.begin() as connection:
            # A connection a test forgot to close must not hang the run.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """An open, migrated, empty store on each backend, its artifacts under tmp_path."""
    opened = Store.open(store_url, artifacts_dir=tmp_path / "artifacts")
    try:
        yield opened
    finally:
        opened.close()
