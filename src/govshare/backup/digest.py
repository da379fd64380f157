"""The content digest: one SM3 over what a node holds, independent of how the engine lays it out on disk.

Every table of the database (the ORM tables, the `rs_*` record tables, `alembic_version`) is read with its
columns in name order and its rows in primary-key order (binary order for text keys on both databases:
PostgreSQL is asked for `COLLATE "C"`); each value is written canonically (timestamps as naive UTC with
microseconds, JSON with sorted keys, bytes in hex, decimals normalised, floats as Python writes them)
as one JSON line per row, and the lines are hashed with SM3. The node's digest is the SM3 of the list
`table, rows, table digest`.

Two nodes with the same digest hold the same rows, whatever their files, pages, WAL or TOAST look like:
`govshare backup digest` prints it for a live node, and a restore is checked against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from sqlalchemy import Connection, MetaData, String, Table, inspect, select

ROWS_PER_FETCH = 5_000


@dataclass(frozen=True)
class TableDigest:
    rows: int
    sm3: str


@dataclass(frozen=True)
class ContentDigest:
    value: str
    tables: dict[str, TableDigest] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "tables": {name: {"rows": t.rows, "sm3": t.sm3} for name, t in self.tables.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContentDigest:
        return cls(
            str(data["value"]),
            {str(name): TableDigest(int(t["rows"]), str(t["sm3"])) for name, t in data["tables"].items()},
        )

    def differences(self, other: ContentDigest) -> list[str]:
        """The tables whose rows differ (named, with their row counts), for a precise error message."""
        names = sorted(set(self.tables) | set(other.tables))
        out = []
        for name in names:
            mine, theirs = self.tables.get(name), other.tables.get(name)
            if mine != theirs:
                out.append(
                    f"{name}（{mine.rows if mine else '无此表'} / {theirs.rows if theirs else '无此表'} 行）"
                )
        return out


def _default(value: Any) -> Any:
    """The canonical form of what JSON has no type for (called by `json.dumps` for those values only)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return {"ts": value.isoformat(timespec="microseconds")}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, time):
        return {"t": value.isoformat(timespec="microseconds")}
    if isinstance(value, Decimal):
        return {"n": str(value.normalize())}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": bytes(value).hex()}
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot digest a value of type {type(value).__name__}")


_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default, allow_nan=True
).encode


def _table_digest(connection: Connection, table: Table) -> TableDigest:
    postgres = connection.dialect.name == "postgresql"
    columns = sorted(table.columns, key=lambda c: c.name)
    keys = list(table.primary_key.columns) or columns
    order = [c.collate("C") if postgres and isinstance(c.type, String) else c for c in keys]
    digest = hashes.Hash(hashes.SM3())
    rows = 0
    result = connection.execution_options(stream_results=True, max_row_buffer=ROWS_PER_FETCH).execute(
        select(*columns).order_by(*order)
    )
    for partition in result.partitions(ROWS_PER_FETCH):
        # One JSON array per row (floats as Python writes them: the same double gives the same text on
        # both databases; JSON values with their keys sorted), one line each.
        digest.update("".join(_encode(tuple(row)) + "\n" for row in partition).encode("utf-8"))
        rows += len(partition)
    return TableDigest(rows, digest.finalize().hex())


def table_names(connection: Connection) -> list[str]:
    return sorted(inspect(connection).get_table_names())


def content_digest(connection: Connection) -> ContentDigest:
    """The digest of everything the database on `connection` holds, read in the connection's transaction
    (on PostgreSQL the caller opens it REPEATABLE READ, so all tables are read in one snapshot)."""
    metadata = MetaData()
    names = table_names(connection)
    metadata.reflect(bind=connection, only=names)
    tables = {name: _table_digest(connection, metadata.tables[name]) for name in names}
    total = hashes.Hash(hashes.SM3())
    for name, table in tables.items():
        total.update(f"{name}\t{table.rows}\t{table.sm3}\n".encode())
    return ContentDigest(total.finalize().hex(), tables)
