"""Migrations build the whole schema on SQLite and PostgreSQL, and match the ORM models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from loopwise.errors import StoreError
from loopwise.storage import Store
from loopwise.storage import _migrate
from loopwise.storage._annotation_models import ANNOTATION_TABLES
from loopwise.storage._db import make_engine
from loopwise.storage._models import Base

TABLES = {
    "projects",
    "records",
    "runs",
    "loops",
    "labels",
    "model_versions",
    "annotators",
    "assignments",
}


def test_open_creates_every_table_at_head(store_url: str, tmp_path: Path) -> None:
    with Store.open(store_url, artifacts_dir=tmp_path / "a") as store:
        engine = create_engine(store.url)
        try:
            annotation = {table.__tablename__ for table in ANNOTATION_TABLES}
            assert set(inspect(engine).get_table_names()) == TABLES | annotation | {"alembic_version"}
            assert _migrate.current_revision(engine) == _migrate.head_revision()
        finally:
            engine.dispose()
        assert store.counts() == dict.fromkeys(TABLES, 0)


def test_migration_matches_the_orm_models(store_url: str, tmp_path: Path) -> None:
    Store.open(store_url, artifacts_dir=tmp_path / "a").close()
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_removes_everything_and_upgrade_rebuilds(store_url: str, tmp_path: Path) -> None:
    Store.open(store_url, artifacts_dir=tmp_path / "a").close()
    engine = make_engine(store_url)
    try:
        _migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        _migrate.upgrade(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_reopening_keeps_the_data(store_url: str, tmp_path: Path) -> None:
    with Store.open(store_url, artifacts_dir=tmp_path / "a") as store:
        project = store.get_or_create_project("p", "text", ["a", "b"])
        store.add_records(project.id, ["x", "y"])
    with Store.open(store_url, artifacts_dir=tmp_path / "a") as store:
        assert store.counts()["records"] == 2


def test_a_newer_schema_is_refused(store_url: str, tmp_path: Path) -> None:
    Store.open(store_url, artifacts_dir=tmp_path / "a").close()
    engine = make_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="newer loopwise"):
        Store.open(store_url, artifacts_dir=tmp_path / "a")


def test_an_unreachable_database_is_a_store_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://loopwise:s3cret@127.0.0.1:1/nowhere?connect_timeout=2"
    with pytest.raises(StoreError, match="cannot open the store at") as raised:
        Store.open(url, artifacts_dir=tmp_path / "a")
    assert "s3cret" not in str(raised.value)
