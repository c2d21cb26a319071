"""approvals: instances of approval chains, their tasks and the trail of actions

Revision ID: 0005_approvals
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_approvals"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("chain_key", sa.String(length=64), nullable=False),
        sa.Column("chain", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("locks_record", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_approval_instances_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_approval_instances_submitted_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_approval_instances"),
        sa.UniqueConstraint("tenant_id", "open_key", name="uq_approval_instances_tenant_id"),
    )
    op.create_index("ix_approval_instances_tenant_id", "approval_instances", ["tenant_id"])
    op.create_index("ix_approval_instances_record", "approval_instances",
                    ["tenant_id", "app_key", "entity_key", "record_id"])
    op.create_table(
        "approval_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delegated_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_approval_tasks_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["instance_id"], ["approval_instances.id"], ondelete="CASCADE",
                                name="fk_approval_tasks_instance_id_approval_instances"),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_approval_tasks_assignee_id_users"),
        sa.ForeignKeyConstraint(["delegated_from_id"], ["approval_tasks.id"],
                                ondelete="SET NULL",
                                name="fk_approval_tasks_delegated_from_id_approval_tasks"),
        sa.PrimaryKeyConstraint("id", name="pk_approval_tasks"),
    )
    op.create_index("ix_approval_tasks_tenant_id", "approval_tasks", ["tenant_id"])
    op.create_index("ix_approval_tasks_instance_id", "approval_tasks", ["instance_id"])
    op.create_index("ix_approval_tasks_assignee_status", "approval_tasks",
                    ["assignee_id", "status"])
    op.create_table(
        "approval_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("step_key", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_approval_actions_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["instance_id"], ["approval_instances.id"], ondelete="CASCADE",
                                name="fk_approval_actions_instance_id_approval_instances"),
        sa.ForeignKeyConstraint(["task_id"], ["approval_tasks.id"], ondelete="SET NULL",
                                name="fk_approval_actions_task_id_approval_tasks"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_approval_actions_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_approval_actions"),
    )
    op.create_index("ix_approval_actions_tenant_id", "approval_actions", ["tenant_id"])
    op.create_index("ix_approval_actions_instance_id", "approval_actions", ["instance_id"])


def downgrade() -> None:
    op.drop_table("approval_actions")
    op.drop_table("approval_tasks")
    op.drop_table("approval_instances")
