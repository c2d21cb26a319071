"""The migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import builder.models  # noqa: F401  (every table on db.metadata)
from builder.extensions import db


def test_migrated_database_matches_the_models(app):
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, db.metadata)
    db.session.rollback()
    assert differences == []
