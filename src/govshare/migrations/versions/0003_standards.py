"""standards: code sets, codes and data elements, with the shipped code sets

Seeds GB/T 2261.1, GB/T 2261.2, GB 3304 and GB/T 2260 from the data files of this revision
(govshare/standards/data/builtin-code-sets.json and gb2260-2025.csv.gz). Shipped data files are never
edited: a later revision of a standard comes as a new file and a new migration.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

import govshare.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "std_code_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("standard", sa.String(length=100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_builtin", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_std_code_set")),
        sa.UniqueConstraint("code", name=op.f("uq_std_code_set_code")),
    )
    op.create_table(
        "std_code_set_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_set_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("code_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_set_id"],
            ["std_code_set.id"],
            name=op.f("fk_std_code_set_version_code_set_id_std_code_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_std_code_set_version")),
        sa.UniqueConstraint("code_set_id", "version", name=op.f("uq_std_code_set_version_code_set_id")),
    )
    with op.batch_alter_table("std_code_set_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_std_code_set_version_code_set_id"), ["code_set_id"], unique=False
        )

    op.create_table(
        "std_data_element",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("data_type", sa.String(length=1), nullable=False),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("code_set_id", sa.Integer(), nullable=True),
        sa.Column("code_set_version", sa.String(length=32), nullable=True),
        sa.Column("validator", sa.String(length=32), nullable=True),
        sa.Column("standard_source", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_set_id"],
            ["std_code_set.id"],
            name=op.f("fk_std_data_element_code_set_id_std_code_set"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_std_data_element")),
        sa.UniqueConstraint("identifier", name=op.f("uq_std_data_element_identifier")),
    )
    with op.batch_alter_table("std_data_element", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_std_data_element_code_set_id"), ["code_set_id"], unique=False)

    op.create_table(
        "std_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["std_code_set_version.id"],
            name=op.f("fk_std_code_version_id_std_code_set_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_std_code")),
    )
    with op.batch_alter_table("std_code", schema=None) as batch_op:
        batch_op.create_index("ix_std_code_version_code", ["version_id", "code"], unique=False)

    _seed()


def downgrade() -> None:
    with op.batch_alter_table("std_code", schema=None) as batch_op:
        batch_op.drop_index("ix_std_code_version_code")

    op.drop_table("std_code")
    with op.batch_alter_table("std_data_element", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_std_data_element_code_set_id"))

    op.drop_table("std_data_element")
    with op.batch_alter_table("std_code_set_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_std_code_set_version_code_set_id"))

    op.drop_table("std_code_set_version")
    op.drop_table("std_code_set")


DATA_DIR = Path(__file__).resolve().parents[2] / "standards" / "data"
SEEDED_BY = "system:migration-0003"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _gb2260_rows(name: str) -> list[dict[str, Any]]:
    with gzip.open(DATA_DIR / name, "rb") as handle:
        reader = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8"))
        return [
            {
                "code": row["code"],
                "label": row["label"],
                "parent_code": row["parent_code"] or None,
                "valid_from": _date(row["valid_from"]),
                "valid_to": _date(row["valid_to"]),
                "attributes": {},
            }
            for row in reader
        ]


def _seed() -> None:
    now = datetime.now(UTC)
    code_set = sa.table(
        "std_code_set",
        sa.column("id", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("standard", sa.String()),
        sa.column("source", sa.Text()),
        sa.column("description", sa.Text()),
        sa.column("is_builtin", sa.Boolean()),
        sa.column("created_by", sa.String()),
        sa.column("created_at", govshare.models.base.UTCDateTime()),
        sa.column("updated_at", govshare.models.base.UTCDateTime()),
    )
    version = sa.table(
        "std_code_set_version",
        sa.column("id", sa.Integer()),
        sa.column("code_set_id", sa.Integer()),
        sa.column("version", sa.String()),
        sa.column("valid_from", sa.Date()),
        sa.column("valid_to", sa.Date()),
        sa.column("note", sa.Text()),
        sa.column("code_count", sa.Integer()),
        sa.column("created_by", sa.String()),
        sa.column("created_at", govshare.models.base.UTCDateTime()),
    )
    code = sa.table(
        "std_code",
        sa.column("version_id", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("label", sa.String()),
        sa.column("position", sa.Integer()),
        sa.column("parent_code", sa.String()),
        sa.column("valid_from", sa.Date()),
        sa.column("valid_to", sa.Date()),
        sa.column("attributes", sa.JSON()),
    )
    bind = op.get_bind()
    manifest = json.loads((DATA_DIR / "builtin-code-sets.json").read_text(encoding="utf-8"))
    for spec in manifest["code_sets"]:
        if "file" in spec:
            rows = _gb2260_rows(spec["file"])
        else:
            rows = [
                {
                    "code": item["code"],
                    "label": item["label"],
                    "parent_code": item.get("parent_code"),
                    "valid_from": None,
                    "valid_to": None,
                    "attributes": item.get("attributes", {}),
                }
                for item in spec["codes"]
            ]
        bind.execute(
            code_set.insert().values(
                code=spec["code"],
                name=spec["name"],
                standard=spec["standard"],
                source=spec["source"],
                description="",
                is_builtin=True,
                created_by=SEEDED_BY,
                created_at=now,
                updated_at=now,
            )
        )
        set_id = bind.execute(sa.select(code_set.c.id).where(code_set.c.code == spec["code"])).scalar_one()
        bind.execute(
            version.insert().values(
                code_set_id=set_id,
                version=spec["version"],
                valid_from=_date(spec.get("valid_from")),
                valid_to=None,
                note=spec["source"],
                code_count=len(rows),
                created_by=SEEDED_BY,
                created_at=now,
            )
        )
        version_id = bind.execute(
            sa.select(version.c.id).where(
                version.c.code_set_id == set_id, version.c.version == spec["version"]
            )
        ).scalar_one()
        op.bulk_insert(
            code, [{**row, "version_id": version_id, "position": i + 1} for i, row in enumerate(rows)]
        )
