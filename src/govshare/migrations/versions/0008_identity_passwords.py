"""identity: password change and reset, per-address login delays, two-person officer changes

- `app_user.must_change_password`: the password was chosen by someone else (account created by another
  person, reset by the security admin); the holder must change it before doing anything else.
- `app_user.is_seeded`: created by the demo seed with the documented demo password (never forced).
- `login_delay`: failed logins per (account, client address) and until when that pair waits, replacing
  the account-wide hard lock an outsider could trigger.
- `officer_proposal`: a change to a 三员 account, applied when an officer of another role confirms it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govshare.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("is_seeded", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("app_user") as batch:
        batch.alter_column("must_change_password", server_default=None)
        batch.alter_column("is_seeded", server_default=None)
    op.create_table(
        "login_delay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_addr", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_login_delay_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_delay")),
        sa.UniqueConstraint("user_id", "client_addr", name=op.f("uq_login_delay_user_id")),
    )
    with op.batch_alter_table("login_delay") as batch:
        batch.create_index(batch.f("ix_login_delay_user_id"), ["user_id"], unique=False)
    op.create_table(
        "officer_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposer_role", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", govshare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["app_user.id"],
            name=op.f("fk_officer_proposal_target_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_proposal")),
    )
    with op.batch_alter_table("officer_proposal") as batch:
        batch.create_index(batch.f("ix_officer_proposal_target_user_id"), ["target_user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("officer_proposal") as batch:
        batch.drop_index(batch.f("ix_officer_proposal_target_user_id"))
    op.drop_table("officer_proposal")
    with op.batch_alter_table("login_delay") as batch:
        batch.drop_index(batch.f("ix_login_delay_user_id"))
    op.drop_table("login_delay")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("is_seeded")
        batch.drop_column("must_change_password")
