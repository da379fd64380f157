"""sharing: data-call security needed no schema change (key prefix, filter digests and subject digests
go into the hashed audit detail); an empty revision, kept so that the chain 0009 → 0011 stays as released

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # nothing to change


def downgrade() -> None:
    pass
