"""assignment: user availability, rotation cursors, assignment log, backlog runs

Revision ID: 0007_assignment
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_assignment"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_available", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
    op.create_table(
        "assignment_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("last_user_id", sa.Integer(), nullable=True),
        sa.Column("turns", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_assignment_cursors_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_assignment_cursors"),
        sa.UniqueConstraint("tenant_id", "app_key", "rule_key", "scope",
                            name="uq_assignment_cursors_tenant_id"),
    )
    op.create_index("ix_assignment_cursors_tenant_id", "assignment_cursors", ["tenant_id"])
    op.create_table(
        "assignment_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=True),
        sa.Column("item_key", sa.String(length=64), nullable=True),
        sa.Column("strategy", sa.String(length=32), nullable=True),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_assignment_log_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_assignment_log"),
    )
    op.create_index("ix_assignment_log_record", "assignment_log",
                    ["tenant_id", "app_key", "entity_key", "record_id"])
    op.create_table(
        "assignment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("pending", sa.Integer(), server_default="0", nullable=False),
        sa.Column("assigned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unassigned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("per_user", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_assignment_runs_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_assignment_runs"),
    )
    op.create_index("ix_assignment_runs_tenant_id", "assignment_runs", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("assignment_runs")
    op.drop_table("assignment_log")
    op.drop_table("assignment_cursors")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_available")
