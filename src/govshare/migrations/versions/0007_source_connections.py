"""collection: registered source connections (collection_connection)

A database source is reached only through a connection the platform administrator registered for a
department: its name, kind, where its URL is read (a reference, never the URL), the tables mappings may read
through it, and whether it is enabled.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govshare.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=False),
        sa.Column("allowed_tables", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_collection_connection_department_id_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_connection")),
        sa.UniqueConstraint("name", name=op.f("uq_collection_connection_name")),
    )
    with op.batch_alter_table("collection_connection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_connection_department_id"), ["department_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("collection_connection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_connection_department_id"))
    op.drop_table("collection_connection")
