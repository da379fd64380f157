"""catalog and information-system inventory

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govshare.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_code_sequence",
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_catalog_code_sequence")),
    )
    op.create_table(
        "catalog_resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_published_at", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_catalog_resource_department_id_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_resource")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_resource_code")),
    )
    with op.batch_alter_table("catalog_resource", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_resource_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_catalog_resource_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "info_system",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("function", sa.Text(), nullable=False),
        sa.Column("usage_range", sa.String(length=24), nullable=False),
        sa.Column("usage_frequency", sa.String(length=16), nullable=False),
        sa.Column("build_year", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("funding", sa.String(length=16), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_info_system_department_id_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_info_system")),
        sa.UniqueConstraint("code", name=op.f("uq_info_system_code")),
    )
    with op.batch_alter_table("info_system", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_info_system_department_id"), ["department_id"], unique=False)

    op.create_table(
        "catalog_search_doc",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.String(length=40), nullable=False),
        sa.Column("share_type", sa.String(length=16), nullable=False),
        sa.Column("open_to_public", sa.Boolean(), nullable=False),
        sa.Column("update_cycle", sa.String(length=16), nullable=False),
        sa.Column("security_grade", sa.String(length=16), nullable=False),
        sa.Column("published_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resource.id"],
            name=op.f("fk_catalog_search_doc_resource_id_catalog_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_catalog_search_doc")),
    )
    with op.batch_alter_table("catalog_search_doc", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_search_doc_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "catalog_search_token",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resource.id"],
            name=op.f("fk_catalog_search_token_resource_id_catalog_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "token", name=op.f("pk_catalog_search_token")),
    )
    with op.batch_alter_table("catalog_search_token", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_search_token_token", ["token", "resource_id", "weight"], unique=False
        )

    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("base_kind", sa.String(length=16), nullable=True),
        sa.Column("theme", sa.String(length=16), nullable=True),
        sa.Column("class_code", sa.String(length=1), nullable=False),
        sa.Column("item_code", sa.String(length=2), nullable=False),
        sa.Column("catalog_code", sa.String(length=3), nullable=False),
        sa.Column("detail_code", sa.String(length=8), nullable=True),
        sa.Column("format_category", sa.String(length=24), nullable=False),
        sa.Column("format_type", sa.String(length=50), nullable=False),
        sa.Column("share_type", sa.String(length=16), nullable=False),
        sa.Column("share_condition", sa.Text(), nullable=False),
        sa.Column("share_methods", sa.JSON(), nullable=False),
        sa.Column("open_to_public", sa.Boolean(), nullable=False),
        sa.Column("open_condition", sa.Text(), nullable=False),
        sa.Column("update_cycle", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("security_grade", sa.String(length=16), nullable=False),
        sa.Column("related_codes", sa.JSON(), nullable=False),
        sa.Column("system_code", sa.String(length=64), nullable=True),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=True),
        sa.Column("submitted_at", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("published_at", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resource.id"],
            name=op.f("fk_catalog_version_resource_id_catalog_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
        sa.UniqueConstraint("resource_id", "number", name=op.f("uq_catalog_version_resource_id")),
    )
    with op.batch_alter_table("catalog_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_version_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index("ix_catalog_version_state", ["state"], unique=False)

    op.create_table(
        "catalog_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("data_type", sa.String(length=1), nullable=False),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("nullable", sa.Boolean(), nullable=False),
        sa.Column("is_key", sa.Boolean(), nullable=False),
        sa.Column("is_base", sa.Boolean(), nullable=False),
        sa.Column("share_type", sa.String(length=16), nullable=True),
        sa.Column("standard_ref", sa.String(length=100), nullable=True),
        sa.Column("security_grade", sa.String(length=16), nullable=False),
        sa.Column("mask_rule", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["catalog_version.id"],
            name=op.f("fk_catalog_item_version_id_catalog_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_item")),
        sa.UniqueConstraint("version_id", "field_name", name=op.f("uq_catalog_item_version_id")),
    )
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_item_version_id"), ["version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_item_version_id"))

    op.drop_table("catalog_item")
    with op.batch_alter_table("catalog_version", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_version_state")
        batch_op.drop_index(batch_op.f("ix_catalog_version_resource_id"))

    op.drop_table("catalog_version")
    with op.batch_alter_table("catalog_search_token", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_search_token_token")

    op.drop_table("catalog_search_token")
    with op.batch_alter_table("catalog_search_doc", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_search_doc_department_id"))

    op.drop_table("catalog_search_doc")
    with op.batch_alter_table("info_system", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_info_system_department_id"))

    op.drop_table("info_system")
    with op.batch_alter_table("catalog_resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_resource_updated_at"))
        batch_op.drop_index(batch_op.f("ix_catalog_resource_department_id"))

    op.drop_table("catalog_resource")
    op.drop_table("catalog_code_sequence")
