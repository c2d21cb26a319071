"""trails are append-only on PostgreSQL: triggers on approval actions, stage history and
every tenant's audit trail

Revision ID: 0018_trust
Revises: 0004_stages, 0005_approvals
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_trust"
down_revision = ("0004_stages", "0005_approvals")
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from builder.runtime.records.append_only import SHARED_TRAILS, install_function, protect

    install_function(conn)
    for table, closing in SHARED_TRAILS.items():
        protect(conn, f'"{table}"', closing)
    schemas = conn.execute(sa.text(
        "SELECT table_schema FROM information_schema.tables "
        "WHERE table_schema LIKE 'tenant\\_%' AND table_name = 'audit'")).scalars().all()
    for schema in schemas:
        protect(conn, f'"{schema}"."audit"')


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in ("approval_actions", "stage_history"):
        conn.execute(sa.text(f'DROP TRIGGER IF EXISTS builder_append_only ON "{table}"'))
    conn.execute(sa.text("DROP FUNCTION IF EXISTS builder_refuse_trail_change() CASCADE"))
