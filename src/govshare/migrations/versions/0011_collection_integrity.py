"""collection: batch integrity figures (header row, stray-quote recovery, kept records, same input)

`collection_batch` gains `header_row` (the header's row in the source file), `recovered` (CSV lines a stray
quote would have swallowed, read on their own), `kept` (current records a full load did not close because
their keys are in the source, on quarantined rows) and `same_input_as` (an earlier batch whose input had the
same SM3).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collection_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header_row", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recovered", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("kept", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("same_input_as", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_batch", schema=None) as batch_op:
        batch_op.drop_column("same_input_as")
        batch_op.drop_column("kept")
        batch_op.drop_column("recovered")
        batch_op.drop_column("header_row")
