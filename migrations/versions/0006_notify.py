"""notifications and intake: deliveries, public form and webhook endpoints

Revision ID: 0006_notify
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_notify"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.JSON(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_notify_deliveries_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_notify_deliveries_recipient_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_notify_deliveries"),
    )
    op.create_index("ix_notify_deliveries_due", "notify_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_notify_deliveries_inbox", "notify_deliveries",
                    ["recipient_id", "channel", "read_at"])
    op.create_index("ix_notify_deliveries_tenant_status", "notify_deliveries",
                    ["tenant_id", "status"])

    op.create_table(
        "intake_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_intake_endpoints_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_intake_endpoints"),
        sa.UniqueConstraint("tenant_id", "app_key", "kind", "key",
                            name="uq_intake_endpoints_tenant_id"),
        sa.UniqueConstraint("token", name="uq_intake_endpoints_token"),
    )
    op.create_table(
        "intake_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["intake_endpoints.id"], ondelete="CASCADE",
                                name="fk_intake_submissions_endpoint_id_intake_endpoints"),
        sa.PrimaryKeyConstraint("id", name="pk_intake_submissions"),
        sa.UniqueConstraint("endpoint_id", "nonce", name="uq_intake_submissions_endpoint_id"),
    )
    op.create_index("ix_intake_submissions_digest", "intake_submissions",
                    ["endpoint_id", "digest"])
    op.create_table(
        "intake_external_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["intake_endpoints.id"], ondelete="CASCADE",
                                name="fk_intake_external_ids_endpoint_id_intake_endpoints"),
        sa.PrimaryKeyConstraint("id", name="pk_intake_external_ids"),
        sa.UniqueConstraint("endpoint_id", "external_id",
                            name="uq_intake_external_ids_endpoint_id"),
    )
    op.create_table(
        "intake_hook_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["intake_endpoints.id"], ondelete="CASCADE",
                                name="fk_intake_hook_calls_endpoint_id_intake_endpoints"),
        sa.PrimaryKeyConstraint("id", name="pk_intake_hook_calls"),
    )
    op.create_index("ix_intake_hook_calls_endpoint", "intake_hook_calls", ["endpoint_id", "id"])
    op.create_table(
        "intake_rate_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_rate_counters"),
        sa.UniqueConstraint("bucket", "window_start", name="uq_intake_rate_counters_bucket"),
    )


def downgrade() -> None:
    op.drop_table("intake_rate_counters")
    op.drop_table("intake_hook_calls")
    op.drop_table("intake_external_ids")
    op.drop_table("intake_submissions")
    op.drop_table("intake_endpoints")
    op.drop_table("notify_deliveries")
