"""The trails are append-only in the database too (PostgreSQL): triggers refuse to change
or delete rows of the audit trail, the approval actions and the stage history.

The product only ever adds to them; the one change allowed is closing a stage visit
(``left_at`` set once, nothing else touched). Rows removed or emptied by the database
itself because a row they hang on went away (``ON DELETE CASCADE / SET NULL``, trigger
depth above one) stay possible, so deleting a tenant still works. Dropping a tenant's
schema and ``TRUNCATE`` in tests are not row changes and are not affected. The one
deliberate exception is a purged uninstall, which erases an app for good with everything
about it: it runs inside ``erasing_app()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from builder.extensions import db

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION builder_refuse_trail_change() RETURNS trigger AS $$
BEGIN
    IF pg_trigger_depth() > 1 OR current_setting('builder.erasing', true) = 'app' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_NARGS > 0 THEN
        IF (to_jsonb(OLD) ->> TG_ARGV[0]) IS NULL
                AND to_jsonb(NEW) - TG_ARGV[0] = to_jsonb(OLD) - TG_ARGV[0] THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

#: shared tables and the one column a row may still get (once), if any
SHARED_TRAILS = {"approval_actions": None, "stage_history": "left_at"}


def install_function(conn: Connection) -> None:
    conn.execute(sa.text(REFUSE_FUNCTION))


def protect(conn: Connection, qualified: str, closing_column: str | None = None) -> None:
    """Add the refusing trigger to a table (``"schema"."name"`` or ``"name"``)."""
    argument = f"'{closing_column}'" if closing_column else ""
    conn.execute(sa.text(f"DROP TRIGGER IF EXISTS builder_append_only ON {qualified}"))
    conn.execute(sa.text(
        f"CREATE TRIGGER builder_append_only BEFORE UPDATE OR DELETE ON {qualified} "
        f"FOR EACH ROW EXECUTE FUNCTION builder_refuse_trail_change({argument})"))


def protect_tenant_audit(conn: Connection, schema: str, audit_name: str) -> None:
    """The audit trail of a new tenant namespace (``tenancy.create_namespace``)."""
    install_function(conn)
    protect(conn, f'"{schema}"."{audit_name}"')


@contextmanager
def erasing_app() -> Iterator[None]:
    """Let the statements inside delete trail rows (of the app being purged), for the
    current transaction only."""
    conn = db.session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(sa.text("SELECT set_config('builder.erasing', 'app', true)"))
    try:
        yield
    finally:
        if postgres:
            conn.execute(sa.text("SELECT set_config('builder.erasing', '', true)"))
