"""sharing: a superseded grant names the grant that took its place (merge or replace on approval)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("share_grant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_share_grant_superseded_by_share_grant"),
            "share_grant",
            ["superseded_by"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("share_grant", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_share_grant_superseded_by_share_grant"), type_="foreignkey")
        batch_op.drop_column("superseded_by")
