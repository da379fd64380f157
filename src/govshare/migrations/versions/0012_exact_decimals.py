"""collection: exact decimals in record tables

数值 (N) and 货币 (Y) items of the record tables (`rs_<id>`, listed in `collection_table`) were binary
floats (FLOAT / double precision), so 39,775,968 元 kept in 万元 read back as 3977.5968000000003. They become
exact decimals, as `govshare.collection.itemtypes.ExactDecimal` creates them now: NUMERIC(18, 6) on
PostgreSQL (`USING round(col::numeric, 6)`), and on SQLite, which has no exact decimal type, INTEGER counts
of 10⁻⁶ (the table is rebuilt with its indexes, since SQLite cannot change a column's type). A stored value
of 10¹² or more does not fit and stops the migration with the table and column named. Columns already
converted are left alone, so the migration can be re-run after fixing such a value.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRECISION, SCALE = 18, 6
DECIMAL_TYPES = ("N", "Y")
FLOAT_TYPES = ("real", "double precision", "float", "double", "float4", "float8")
_ANY_TYPE = r"(?:DOUBLE PRECISION|DOUBLE|FLOAT|REAL|NUMERIC|DECIMAL|BIGINT)(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _decimal_columns(bind: sa.Connection) -> list[tuple[str, list[str]]]:
    found = []
    for name, columns in bind.execute(sa.text("SELECT table_name, columns FROM collection_table")):
        types: dict[str, Any] = json.loads(columns) if isinstance(columns, str) else dict(columns)
        wanted = [field for field, data_type in types.items() if data_type in DECIMAL_TYPES]
        if wanted:
            found.append((str(name), wanted))
    return found


def _declared(bind: sa.Connection, table: str) -> dict[str, str]:
    """Column name → declared type, lower case."""
    if bind.dialect.name == "sqlite":
        rows = bind.execute(sa.text(f"PRAGMA table_info({_quote(table)})"))
        return {str(r[1]): str(r[2]).lower() for r in rows}
    rows = bind.execute(
        sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :t"
        ),
        {"t": table},
    )
    return {str(r[0]): str(r[1]).lower() for r in rows}


def _refuse_out_of_range(bind: sa.Connection, table: str, columns: list[str]) -> None:
    limit = 10 ** (PRECISION - SCALE)
    for column in columns:
        count = bind.scalar(
            sa.text(f"SELECT COUNT(*) FROM {_quote(table)} WHERE abs({_quote(column)}) >= {limit}")  # noqa: S608
        )
        if count:
            raise RuntimeError(
                f"记录表 {table} 的信息项 {column} 有 {count} 个值的整数部分超过 {PRECISION - SCALE} 位，"
                "无法转为精确小数；请先更正这些记录"
            )


def _rebuild_sqlite(bind: sa.Connection, table: str, columns: list[str], new_type: str, value: str) -> None:
    """Recreate `table` with `columns` declared `new_type`, copying each through `value` (a format with
    {c} for the quoted column), then its indexes."""
    create = bind.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    )
    indexes = [
        str(sql)
        for (sql,) in bind.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
            ),
            {"t": table},
        )
    ]
    temporary = f"{table}__0012"
    ddl = re.sub(
        rf"^(\s*CREATE\s+TABLE\s+)(?:\"{re.escape(table)}\"|{re.escape(table)})",
        lambda m: m.group(1) + _quote(temporary),
        str(create),
        count=1,
        flags=re.IGNORECASE,
    )
    for column in columns:
        replacement = f"{_quote(column)} {new_type}".replace("\\", "\\\\")
        ddl = re.sub(
            rf"([(,]\s*)(\"?){re.escape(column)}\2\s+{_ANY_TYPE}",
            rf"\g<1>{replacement}",
            ddl,
            count=1,
            flags=re.IGNORECASE,
        )
    bind.execute(sa.text(ddl))
    names = list(_declared(bind, table))
    targets = ", ".join(_quote(n) for n in names)
    sources = ", ".join(value.format(c=_quote(n)) if n in columns else _quote(n) for n in names)
    bind.execute(
        sa.text(f"INSERT INTO {_quote(temporary)} ({targets}) SELECT {sources} FROM {_quote(table)}")  # noqa: S608
    )
    bind.execute(sa.text(f"DROP TABLE {_quote(table)}"))
    bind.execute(sa.text(f"ALTER TABLE {_quote(temporary)} RENAME TO {_quote(table)}"))
    for sql in indexes:
        bind.execute(sa.text(sql))


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, wanted in _decimal_columns(bind):
        declared = _declared(bind, table)
        floats = [c for c in wanted if declared.get(c, "") in FLOAT_TYPES]
        if not floats:
            continue
        _refuse_out_of_range(bind, table, floats)
        if sqlite:
            cast = f"CAST(round({{c}} * {10**SCALE}) AS INTEGER)"
            _rebuild_sqlite(bind, table, floats, "BIGINT", cast)
            continue
        for column in floats:
            name = _quote(column)
            bind.execute(
                sa.text(
                    f"ALTER TABLE {_quote(table)} ALTER COLUMN {name} TYPE NUMERIC({PRECISION}, {SCALE}) "
                    f"USING round({name}::numeric, {SCALE})"
                )
            )


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, wanted in _decimal_columns(bind):
        declared = _declared(bind, table)
        exact = [c for c in wanted if declared.get(c, "") in ("bigint", "numeric")]
        if not exact:
            continue
        if sqlite:
            _rebuild_sqlite(bind, table, exact, "FLOAT", f"{{c}} / {float(10**SCALE)!r}")
            continue
        for column in exact:
            name = _quote(column)
            bind.execute(
                sa.text(
                    f"ALTER TABLE {_quote(table)} ALTER COLUMN {name} TYPE DOUBLE PRECISION "
                    f"USING {name}::double precision"
                )
            )
