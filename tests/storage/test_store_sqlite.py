"""SQLite specifics: WAL and foreign keys on every connection, default locations, URL errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from loopwise.errors import ConfigError
from loopwise.storage import Store
from loopwise.storage._db import make_engine


def test_every_connection_has_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Store.open(url).close()
    engine = make_engine(url)
    try:
        # Two connections open at once: the pool had to make a second one, which got the pragmas too.
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            with engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO records (project_id, external_id) VALUES (42, 'orphan')")
                )
    finally:
        engine.dispose()


def test_default_url_is_loopwise_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open() as store:
        assert store.url == f"sqlite:///{tmp_path.resolve() / 'loopwise.db'}"
        assert store.artifacts_dir == tmp_path.resolve() / "loopwise.artifacts"
    assert (tmp_path / "loopwise.db").is_file()
    assert (tmp_path / "loopwise.artifacts").is_dir()


def test_relative_sqlite_path_is_pinned_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runs").mkdir()
    monkeypatch.chdir(tmp_path)
    with Store.open("sqlite:///runs/exp.db") as store:
        monkeypatch.chdir("/")
        store.get_or_create_project("p", "tabular", ["a", "b"])
        assert store.artifacts_dir == tmp_path.resolve() / "runs" / "exp.artifacts"
    assert (tmp_path / "runs" / "exp.db").is_file()


def test_in_memory_database_needs_and_accepts_an_artifact_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="artifacts_dir"):
        Store.open("sqlite://")
    with Store.open("sqlite://", artifacts_dir=tmp_path / "a") as store:
        project = store.get_or_create_project("p", "text", ["a", "b"])
        assert store.add_records(project.id, ["x"]) == 1
        assert store.counts()["records"] == 1


def test_non_sqlite_url_needs_an_artifact_folder() -> None:
    with pytest.raises(ConfigError, match="artifacts_dir is required"):
        Store.open("postgresql+psycopg://u:secret@127.0.0.1:1/none")


def test_unparseable_url_says_what_is_expected() -> None:
    with pytest.raises(ConfigError, match="expected an SQLAlchemy URL"):
        Store.open("loopwise.db")
