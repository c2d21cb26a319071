"""Alembic environment: the platform's tables, from ``builder.models``.

``builder.migrate.upgrade`` hands in an open connection; the ``alembic`` command line
(with ``alembic.ini`` at the repository root) builds the app from the environment.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

import builder.models  # noqa: F401  (registers every table on the metadata)
from builder.extensions import db

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = db.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from builder.config import Config

    context.configure(url=Config.from_env().database_url, target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    from builder.app import create_app

    app = create_app()
    with app.app_context(), db.engine.begin() as connection:
        run_with(connection)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
