"""Bring the platform's own tables up to date with Alembic, from code or ``builder migrate``.

The scripts live in ``migrations/`` at the repository root (the package is installed in
editable mode). Tenant tables are not migrated here: the schema editor manages them.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from builder.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Taken for the whole upgrade on PostgreSQL, so web nodes starting together migrate once.
_ADVISORY_LOCK = 7_230_001


def alembic_config() -> AlembicConfig:
    if not (MIGRATIONS_DIR / "env.py").exists():
        raise RuntimeError(f"migration scripts not found in {MIGRATIONS_DIR}")
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(app: Flask, revision: str = "heads") -> None:
    """Run ``alembic upgrade`` on the app's database, in one transaction.

    Each part of the platform keeps its own line of migrations branching from the shared
    base, so the default target is every head."""
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _ADVISORY_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(app: Flask) -> str | None:
    """The database's revisions, comma-separated (one per migration line), or ``None``."""
    with app.app_context(), db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision() -> str | None:
    """The scripts' heads, in the form of ``current_revision``."""
    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads())) or None
