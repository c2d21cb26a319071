"""Tenants are separated structurally: a schema each on PostgreSQL, a table prefix on SQLite.

Every physical name of a tenant comes from here, so no other module builds one by hand.
Per tenant there are a few system tables next to the entity tables: the audit trail, the
autonumber counters and the uploaded files.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from builder.extensions import db


def _dialect(conn: Connection | None = None) -> str:
    return (conn or db.session.connection()).dialect.name


def schema_name(tenant_id: int) -> str:
    return f"tenant_{int(tenant_id)}"


def table_location(tenant_id: int, local_name: str,
                   dialect: str | None = None) -> tuple[str | None, str]:
    """(schema, table name) of a tenant's table called ``local_name`` (e.g. ``e12``)."""
    dialect = dialect or _dialect()
    if dialect == "postgresql":
        return schema_name(tenant_id), local_name
    return None, f"t{int(tenant_id)}_{local_name}"


@lru_cache(maxsize=4096)
def system_tables(tenant_id: int, dialect: str) -> tuple[sa.Table, sa.Table, sa.Table]:
    """The tenant's audit trail, counters and files tables, on their own metadata.

    Their shape never changes, so they are built once per tenant and process.
    """
    md = sa.MetaData()
    schema, audit_name = table_location(tenant_id, "audit", dialect)
    _, counters_name = table_location(tenant_id, "counters", dialect)
    _, files_name = table_location(tenant_id, "files", dialect)
    audit = sa.Table(
        audit_name, md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("app_key", sa.String(64), nullable=False),
        sa.Column("entity_key", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("changes", sa.JSON, nullable=True),
        sa.Index(f"ix_{audit_name}_record", "app_key", "entity_key", "record_id"),
        schema=schema,
    )
    counters = sa.Table(
        counters_name, md,
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False, server_default="0"),
        schema=schema,
    )
    files = sa.Table(
        files_name, md,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Integer, nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    return audit, counters, files


def create_namespace(tenant_id: int, conn: Connection | None = None) -> None:
    """Create the tenant's schema (PostgreSQL) and its system tables, in the current transaction."""
    conn = conn or db.session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(tenant_id)}"'))
    tables = system_tables(tenant_id, dialect)
    for table in tables:
        table.create(conn, checkfirst=True)
    if dialect == "postgresql":
        from builder.runtime.records.append_only import protect_tenant_audit

        protect_tenant_audit(conn, schema_name(tenant_id), tables[0].name)


def drop_namespace(tenant_id: int, conn: Connection | None = None) -> None:
    """Remove every table of the tenant. Used when a tenant is deleted, and by tests."""
    conn = conn or db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name(tenant_id)}" CASCADE'))
        return
    prefix = f"t{int(tenant_id)}\\_%"
    names = conn.execute(
        sa.text("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE :p ESCAPE '\\'"),
        {"p": prefix},
    ).scalars().all()
    for name in names:
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
