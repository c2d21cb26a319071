"""apps: definitions, versions, and the storage metadata of entity tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("draft_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft_updated_by", sa.Integer(), nullable=True),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("live_revision", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_apps_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_apps"),
        sa.UniqueConstraint("tenant_id", "key", name="uq_apps_tenant_id"),
    )
    op.create_index("ix_apps_tenant_id", "apps", ["tenant_id"])
    op.create_table(
        "app_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_app_versions_app_id_apps"),
        sa.PrimaryKeyConstraint("id", name="pk_app_versions"),
        sa.UniqueConstraint("app_id", "number", name="uq_app_versions_app_id"),
    )
    op.create_index("ix_app_versions_app_id", "app_versions", ["app_id"])
    op.create_table(
        "entity_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_entity_tables_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_entity_tables_app_id_apps"),
        sa.PrimaryKeyConstraint("id", name="pk_entity_tables"),
        sa.UniqueConstraint("app_id", "entity_key", name="uq_entity_tables_app_id"),
    )
    op.create_index("ix_entity_tables_tenant_id", "entity_tables", ["tenant_id"])
    op.create_index("ix_entity_tables_app_id", "entity_tables", ["app_id"])
    op.create_table(
        "field_columns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_table_id", sa.Integer(), nullable=False),
        sa.Column("field_key", sa.String(length=64), nullable=False),
        sa.Column("field_type", sa.String(length=32), nullable=False),
        sa.Column("field_def", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entity_table_id"], ["entity_tables.id"],
                                name="fk_field_columns_entity_table_id_entity_tables"),
        sa.PrimaryKeyConstraint("id", name="pk_field_columns"),
    )
    op.create_index("ix_field_columns_entity_table_id", "field_columns", ["entity_table_id"])


def downgrade() -> None:
    op.drop_table("field_columns")
    op.drop_table("entity_tables")
    op.drop_table("app_versions")
    op.drop_table("apps")
