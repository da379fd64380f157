"""audit: keyed head (audit_head.mac) for truncation detection with signed checkpoints

The head's MAC is HMAC-SM3 under a key derived from GOVSHARE_AUDIT_KEY, which the migration does not
hold: existing heads stay NULL and are keyed by the node's next audit entry (audit/service.py `record`).
Checkpoints live outside the database (GOVSHARE_AUDIT_CHECKPOINT_DIR) and need no table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("mac")
