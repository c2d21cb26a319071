"""market: installed packages, and apps marked uninstalled

Revision ID: 0010_market
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_market"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_installs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("record_keys", sa.JSON(), nullable=False),
        sa.Column("demo_data", sa.Boolean(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("installed_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_market_installs_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["installed_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_market_installs_installed_by_users"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_market_installs_updated_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_market_installs"),
        sa.UniqueConstraint("tenant_id", "package", name="uq_market_installs_tenant_id"),
    )
    op.create_index("ix_market_installs_tenant_id", "market_installs", ["tenant_id"])
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("uninstalled_at")
    op.drop_index("ix_market_installs_tenant_id", table_name="market_installs")
    op.drop_table("market_installs")
