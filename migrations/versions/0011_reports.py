"""alerts and scheduled reports: alert firings, report runs and their messages

Revision ID: 0011_reports
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_reports"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("alert_key", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_alert_firings_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_firings"),
        sa.UniqueConstraint("tenant_id", "app_key", "alert_key", "subject", "period_start",
                            name="uq_alert_firings_tenant_id"),
    )
    op.create_index("ix_alert_firings_alert", "alert_firings",
                    ["tenant_id", "app_key", "alert_key", "id"])
    op.create_table(
        "report_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("report_key", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_report_runs_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_report_runs_decided_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_report_runs"),
        sa.UniqueConstraint("tenant_id", "app_key", "report_key", "period_start",
                            name="uq_report_runs_tenant_id"),
    )
    op.create_index("ix_report_runs_status", "report_runs", ["tenant_id", "app_key", "status"])
    op.create_table(
        "report_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("webhook", sa.JSON(), nullable=True),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("delivery_ids", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["report_runs.id"], ondelete="CASCADE",
                                name="fk_report_messages_run_id_report_runs"),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_report_messages_recipient_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_report_messages"),
    )
    op.create_index("ix_report_messages_run_id", "report_messages", ["run_id"])


def downgrade() -> None:
    op.drop_table("report_messages")
    op.drop_table("report_runs")
    op.drop_table("alert_firings")
