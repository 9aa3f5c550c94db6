"""Schema migrations, run from code with Alembic (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text

from loopwise.errors import StoreError

from ._db import writer

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Key of the PostgreSQL advisory lock that serialises migrations across processes ('lwmi').
_PG_MIGRATION_LOCK = 0x6C776D69


def alembic_config() -> Config:
    config = Config()
    # ConfigParser interpolation would read a '%' in the install path as a placeholder.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return _scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that no other migration of this database runs beside, on any backend."""
    # SQLite: BEGIN IMMEDIATE takes the write lock first (waiting for others). PostgreSQL: an advisory
    # lock held to commit, so a second process waits and then sees the first one's tables.
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        yield connection


def _config_on(connection: Connection) -> Config:
    config = alembic_config()
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision``, in one transaction."""
    with _migration_transaction(engine) as connection:
        command.upgrade(_config_on(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _migration_transaction(engine) as connection:
        command.downgrade(_config_on(connection), revision)


def ensure_current(engine: Engine) -> None:
    """Upgrade to head unless already there; at head (the common case) it only reads.

    A reader opening a store while a run writes to it must take no lock. Two processes opening a
    new or old store at once are serialised, and the second finds the work done.
    """
    head = head_revision()
    if current_revision(engine) == head:
        return
    with _migration_transaction(engine) as connection:
        # Read again under the lock: another process may have migrated since our first look.
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        if current is not None:
            try:
                _scripts().get_revision(current)
            except CommandError as exc:
                raise StoreError(
                    f"the store is at schema revision {current!r}, which this version of loopwise "
                    "does not know: it was written by a newer loopwise; upgrade loopwise to open it"
                ) from exc
        command.upgrade(_config_on(connection), "head")
