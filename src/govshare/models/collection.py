"""数据归集: sources bound to catalog resources, batches (one per run) with their counts, quarantined rows,
and the registry of each resource's record table.

The records themselves live in one table per resource (`rs_<resource id>`), with typed columns made from
the catalog items; those tables are created by `govshare.collection.store`, not by migrations, because
their columns follow the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govshare.core.clock import utcnow
from govshare.models.base import Base

RECORD_TABLE_PREFIX = "rs_"


class SourceConnection(Base):
    """A database connection (数据源连接) registered by the platform administrator for one department: the
    only way a mapping reaches a database (`source.connection: <name>`). `reference` says where the URL is
    read (`env:NAME` or `file:/path`; a SQLite connection's file path, inside GOVSHARE_SOURCE_DIRS): the URL
    itself is never stored, returned or shown. `allowed_tables` lists the `table`, `schema.table` or
    `schema.*` that mappings may read through it (docs/collection.md)."""

    __tablename__ = "collection_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # postgresql / mysql / sqlite
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    reference: Mapped[str] = mapped_column(String(500))
    allowed_tables: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Source(Base):
    """A department's data source (数据源) bound to one resource: a file location, a database table or
    query, or a push endpoint, with its mapping."""

    __tablename__ = "collection_source"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="RESTRICT"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    mapping: Mapped[str] = mapped_column(Text)  # the mapping YAML; database URLs as ${ENV} references
    mode: Mapped[str] = mapped_column(String(16), default="full")
    update_cycle: Mapped[str | None] = mapped_column(String(16))  # None: the resource's own cycle
    enabled: Mapped[bool] = mapped_column(default=True)
    cursor_value: Mapped[str | None] = mapped_column(String(100))  # the saved cursor (incremental)
    last_success_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Batch(Base):
    """One run of the pipeline. read = inserted + updated + unchanged + superseded + deleted + empty +
    rejected; warnings count records loaded with a consistency warning; removed counts records a full
    load closed because the source no longer has them (kept: those it did not close because their keys
    are in the source, on quarantined rows)."""

    __tablename__ = "collection_batch"
    __table_args__ = (Index("ix_collection_batch_status", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="RESTRICT"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_source.id", ondelete="SET NULL"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="run")  # run / push / reprocess
    origin: Mapped[str] = mapped_column(String(500))  # the file name, table or query label (no secrets)
    mapping: Mapped[str] = mapped_column(Text)  # the mapping YAML as run
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running / succeeded / failed
    error: Mapped[str | None] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(String(64))  # SM3 of the input
    encoding: Mapped[str | None] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # the time stamped on the records this batch wrote and closed (_valid_from / _valid_to): the data API's
    # change feed finds a batch's deletions by it
    applied_at: Mapped[datetime | None]
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int | None]
    phase: Mapped[str] = mapped_column(String(16), default="reading")  # reading / merging / done
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    read: Mapped[int] = mapped_column(BigInteger, default=0)
    inserted: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[int] = mapped_column(BigInteger, default=0)
    unchanged: Mapped[int] = mapped_column(BigInteger, default=0)
    superseded: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    empty: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    warnings: Mapped[int] = mapped_column(BigInteger, default=0)
    removed: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_from: Mapped[str | None] = mapped_column(String(100))
    cursor_to: Mapped[str | None] = mapped_column(String(100))
    # the header's row in the source file (CSV line, Excel sheet row), as found or given
    header_row: Mapped[int | None]
    # CSV lines after a stray (unclosed) quote that it would have swallowed, read on their own
    recovered: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # full mode: current records kept although the rows of their keys were quarantined (not absent)
    kept: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # an earlier succeeded batch of the same resource whose input had the same SM3 (a warning)
    same_input_as: Mapped[int | None] = mapped_column(BigInteger)


class QuarantineRow(Base):
    """A record that was not loaded (severity error) or was loaded with a warning, kept verbatim."""

    __tablename__ = "collection_quarantine"
    __table_args__ = (Index("ix_collection_quarantine_batch", "batch_id", "severity", "row_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("collection_batch.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(8))  # error / warning
    row_no: Mapped[int | None] = mapped_column(BigInteger)  # as the user sees it in the source
    column: Mapped[str | None] = mapped_column(String(200))  # the first failing item (field), if any
    rule: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # JSON object of the source columns, or the raw line
    raw_is_line: Mapped[bool] = mapped_column(default=False)  # raw is a line that could not be parsed
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id", ondelete="SET NULL"))


class RecordTable(Base):
    """Which table holds a resource's records and with which columns (field → data type letter)."""

    __tablename__ = "collection_table"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="RESTRICT"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(String(63), unique=True)
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    key: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
