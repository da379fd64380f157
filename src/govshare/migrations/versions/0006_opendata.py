"""opendata: usage of the public open-data portal and API per day and resource

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 07:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open_usage_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("page_views", sa.BigInteger(), nullable=False),
        sa.Column("downloads_csv", sa.BigInteger(), nullable=False),
        sa.Column("downloads_xlsx", sa.BigInteger(), nullable=False),
        sa.Column("downloads_json", sa.BigInteger(), nullable=False),
        sa.Column("api_calls", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_usage_daily")),
        sa.UniqueConstraint("day", "resource_id", name=op.f("uq_open_usage_daily_day")),
    )
    with op.batch_alter_table("open_usage_daily", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_usage_daily_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_usage_daily_resource_id"), ["resource_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("open_usage_daily", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_usage_daily_resource_id"))
        batch_op.drop_index(batch_op.f("ix_open_usage_daily_day"))
    op.drop_table("open_usage_daily")
