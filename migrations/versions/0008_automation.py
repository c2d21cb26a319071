"""automation: run log, record reads, inbound webhook secrets, SLA clocks

Revision ID: 0008_automation
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_automation"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                     autoincrement=True, nullable=False)


def _tenant(table: str) -> tuple[sa.Column, sa.ForeignKeyConstraint]:
    return (sa.Column("tenant_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                    name=f"fk_{table}_tenant_id_tenants"))


def upgrade() -> None:
    op.create_table(
        "automation_runs",
        _id(),
        *_tenant("automation_runs"),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("automation_key", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("trigger", sa.String(length=80), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_automation_runs"),
        sa.UniqueConstraint("tenant_id", "app_key", "kind", "automation_key", "dedup_key",
                            name="uq_automation_runs_dedup"),
    )
    op.create_index("ix_automation_runs_automation", "automation_runs",
                    ["tenant_id", "app_key", "automation_key"])
    op.create_index("ix_automation_runs_status", "automation_runs", ["status", "created_at"])
    op.create_table(
        "record_reads",
        _id(),
        *_tenant("record_reads"),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_record_reads"),
        sa.UniqueConstraint("tenant_id", "app_key", "entity_key", "record_id", "user_id",
                            name="uq_record_reads_reader"),
    )
    op.create_table(
        "automation_hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        *_tenant("automation_hooks"),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("automation_key", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_automation_hooks"),
        sa.UniqueConstraint("tenant_id", "app_key", "automation_key",
                            name="uq_automation_hooks_automation"),
        sa.UniqueConstraint("token_hash", name="uq_automation_hooks_token_hash"),
    )
    op.create_table(
        "sla_clocks",
        _id(),
        *_tenant("sla_clocks"),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sla_clocks"),
        sa.UniqueConstraint("tenant_id", "app_key", "policy_key", "record_id",
                            name="uq_sla_clocks_record"),
    )
    op.create_index("ix_sla_clocks_record", "sla_clocks",
                    ["tenant_id", "app_key", "entity_key", "record_id"])


def downgrade() -> None:
    op.drop_table("sla_clocks")
    op.drop_table("automation_hooks")
    op.drop_table("record_reads")
    op.drop_table("automation_runs")
