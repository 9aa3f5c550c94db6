"""Alembic environment of the loopwise store: runs migrations on the connection the store hands over."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from loopwise.storage._db import DEFAULT_URL, make_engine
from loopwise.storage._models import Base

config = context.config
target_metadata = Base.metadata

# Only Alembic's command line reads alembic.ini; inside an application logging belongs to the application.
if config.attributes.get("connection") is None and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Alembic's command line takes the database as `-x url=...` (see alembic.ini next to this file).
_x_url = context.get_x_argument(as_dictionary=True).get("url")
if _x_url:
    config.set_main_option("sqlalchemy.url", _x_url.replace("%", "%%"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Store.open passes its own connection, so the SQLite pragmas and the transaction are the store's.
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or DEFAULT_URL)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
