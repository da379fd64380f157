"""Each resource's records in a real table (`rs_<resource id>`) with typed columns, a unique index on the key
of the current records and the history of every record.

A stored row is one version of a record: `_valid_from` (when the batch that wrote it committed) and
`_valid_to` (when a later batch replaced or deleted it; null while current), `_batch_id` and `_source_id`
(provenance). "As of" a time is `_valid_from <= t < coalesce(_valid_to, ∞)`.

A batch is applied set-based in one transaction: its deduplicated rows go to a temporary staging table
(PostgreSQL: COPY; SQLite: executemany), are matched to the current records on the key in one UPDATE …
FROM, and then one UPDATE closes the versions that change and one INSERT … SELECT writes the new ones. No
statement runs per record, and readers see the old data until the commit.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    and_,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from govshare.collection.itemtypes import ExactDecimal, column_type
from govshare.collection.transform import TOMB
from govshare.errors import Conflict
from govshare.models.collection import RECORD_TABLE_PREFIX, RecordTable

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores on SQLite


@dataclass(frozen=True)
class Field:
    name: str
    data_type: str
    length: int | None = None


def table_name(resource_id: int) -> str:
    return f"{RECORD_TABLE_PREFIX}{resource_id}"


def record_table(name: str, fields: Sequence[Field], key: Sequence[str]) -> Table:
    metadata = MetaData()
    columns: list[Any] = [Column("_sid", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)]
    columns += [Column(f.name, column_type(f.data_type, f.length)) for f in fields]
    columns += [
        Column("_valid_from", DateTime(), nullable=False),
        Column("_valid_to", DateTime()),
        Column("_batch_id", BigInteger(), nullable=False),
        Column("_source_id", Integer()),
    ]
    table = Table(name, metadata, *columns)
    key_columns = [table.c[k] for k in key]
    Index(
        f"ux_{name}_current",
        *key_columns,
        unique=True,
        sqlite_where=table.c._valid_to.is_(None),
        postgresql_where=table.c._valid_to.is_(None),
    )
    Index(f"ix_{name}_history", *key_columns, table.c._valid_from)
    Index(f"ix_{name}_batch", table.c._batch_id)
    return table


def ensure_table(session: Session, resource_id: int, fields: Sequence[Field], key: Sequence[str]) -> Table:
    """The resource's record table, created on first use and widened when the catalog adds items. A changed
    data type or key is refused: stored records would have to be migrated first."""
    registry = session.get(RecordTable, resource_id)
    name = table_name(resource_id)
    wanted = {f.name: f.data_type for f in fields}
    if registry is None:
        table = record_table(name, fields, key)
        table.create(session.connection())
        session.add(RecordTable(resource_id=resource_id, table_name=name, columns=wanted, key=list(key)))
        session.flush()
        return table
    if list(registry.key) != list(key):
        raise Conflict(
            f"该资源已归集数据的主键为 {'、'.join(registry.key)}，映射给出的是 {'、'.join(key)}；"
            "更换主键需先迁移已归集的数据"
        )
    stored: dict[str, str] = dict(registry.columns)
    for f in fields:
        if f.name in stored and stored[f.name] != f.data_type:
            raise Conflict(
                f"信息项 {f.name} 的数据类型已从 {stored[f.name]} 改为 {f.data_type}；已归集的数据需先迁移"
            )
    added = [f for f in fields if f.name not in stored]
    all_fields = [Field(n, t) for n, t in stored.items()] + added
    for f in added:
        column = Column(f.name, column_type(f.data_type, f.length))
        ddl = column.type.compile(dialect=session.get_bind().dialect)
        session.execute(text(f'ALTER TABLE {name} ADD COLUMN "{f.name}" {ddl}'))
    if added:
        registry.columns = stored | {f.name: f.data_type for f in added}
        session.flush()
    # keep the declared lengths of current items for the staging table
    lengths = {f.name: f.length for f in fields}
    return record_table(name, [Field(f.name, f.data_type, lengths.get(f.name)) for f in all_fields], key)


def existing_table(session: Session, resource_id: int) -> Table | None:
    registry = session.get(RecordTable, resource_id)
    if registry is None:
        return None
    fields = [Field(n, t) for n, t in registry.columns.items()]
    return record_table(registry.table_name, fields, registry.key)


@dataclass
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    removed: int = 0
    kept: int = 0  # full mode: current records not closed because their keys are on quarantined rows


class TooManyRemovals(Conflict):
    """A full load would close a larger share of the current records than the node allows."""


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _conform(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """The frame's decimal columns as the table's exact decimals (a float given for one is taken at the
    column's scale)."""
    casts = []
    for name, dtype in frame.schema.items():
        column = table.c.get(name)
        if column is not None and isinstance(column.type, ExactDecimal):
            wanted = pl.Decimal(column.type.precision, column.type.scale)
            if dtype != wanted:
                casts.append(pl.col(name).cast(wanted))
    return frame.with_columns(casts) if casts else frame


def _for_sqlite(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as SQLAlchemy stores them on SQLite (dates and times as text, booleans as 0/1, decimals as
    integer counts of their last digit, `ExactDecimal`)."""
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Decimal):
            casts.append((pl.col(name) * pl.lit(10 ** (dtype.scale or 0))).cast(pl.Int64))
        elif dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            casts.append(pl.col(name).dt.strftime(SQLITE_DATETIME))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Int8))
    return frame.with_columns(casts) if casts else frame


def _bulk_load(session: Session, target: str, chunks: Iterable[pl.DataFrame]) -> int:
    """Load frames into `target` (columns named as the frames'): PostgreSQL COPY, SQLite executemany."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    loaded = 0
    if _is_postgres(session):
        iterator = iter(chunks)
        first = next(iterator, None)
        if first is None:
            return 0
        columns = ", ".join(_quote(n) for n in first.columns)
        sql = f"COPY {target} ({columns}) FROM STDIN (FORMAT csv)"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for chunk in itertools.chain([first], iterator):
                buffer = io.BytesIO()
                chunk.write_csv(buffer, include_header=False, null_value="")
                copy.write(buffer.getvalue())
                loaded += chunk.height
        return loaded
    cursor = connection.cursor()
    try:
        for chunk in chunks:
            columns = ", ".join(_quote(n) for n in chunk.columns)
            placeholders = ", ".join("?" for _ in chunk.columns)
            cursor.executemany(
                f"INSERT INTO {target} ({columns}) VALUES ({placeholders})", _for_sqlite(chunk).iter_rows()
            )
            loaded += chunk.height
    finally:
        cursor.close()
    return loaded


def _stage(session: Session, table: Table, fields: list[str], chunks: Iterable[pl.DataFrame]) -> None:
    """Create the temporary staging table and load the batch's rows into it."""
    postgres = _is_postgres(session)
    columns = []
    for name in fields:
        ddl = table.c[name].type.compile(dialect=session.get_bind().dialect)
        columns.append(f"{_quote(name)} {ddl}")
    columns += [f"{TOMB} BOOLEAN NOT NULL", "_sid BIGINT", "_same BOOLEAN NOT NULL DEFAULT FALSE"]
    temp = "CREATE TEMP TABLE stage_rows ({}){}".format(
        ", ".join(columns), " ON COMMIT DROP" if postgres else ""
    )
    if not postgres:
        session.execute(text("DROP TABLE IF EXISTS stage_rows"))
    session.execute(text(temp))
    names = [*fields, TOMB]
    _bulk_load(session, "stage_rows", (_conform(chunk.select(names), table) for chunk in chunks))


def _first_load(
    session: Session,
    table: Table,
    fields: list[str],
    chunks: Iterable[pl.DataFrame],
    *,
    now: datetime,
    batch_id: int,
    source_id: int | None,
) -> MergeCounts:
    """Into an empty table: load straight into it with its indexes dropped, then build them (a btree
    present during the load made PostgreSQL's COPY 3.3 times slower; engineering notes). The rows are
    already one per key, so the unique index builds."""
    for index in table.indexes:
        session.execute(text(f"DROP INDEX IF EXISTS {_quote(str(index.name))}"))
    counts = MergeCounts()
    tombstones = 0

    def rows() -> Iterable[pl.DataFrame]:
        nonlocal tombstones
        for chunk in chunks:
            tombstones += int(chunk.get_column(TOMB).sum())
            yield (
                _conform(chunk.filter(~pl.col(TOMB)).select(fields), table).with_columns(
                    _valid_from=pl.lit(now, pl.Datetime("us")),
                    _batch_id=pl.lit(batch_id, pl.Int64),
                    _source_id=pl.lit(source_id, pl.Int64),
                )
            )

    counts.inserted = _bulk_load(session, _quote(table.name), rows())
    counts.unchanged = tombstones  # a tombstone for a key nobody has changes nothing
    for index in table.indexes:
        index.create(session.connection())
    return counts


def merge(
    session: Session,
    table: Table,
    fields: list[str],
    key: Sequence[str],
    chunks: Iterable[pl.DataFrame],
    *,
    now: datetime,
    batch_id: int,
    source_id: int | None,
    full: bool,
    cursor: str | None,
    kept_keys: Iterable[pl.DataFrame] = (),
    max_removal_share: float | None = None,
) -> MergeCounts:
    """Apply one batch's deduplicated rows (one per key) to the record table; see the module docstring.

    Full mode closes the current records whose keys the batch does not have, except those in `kept_keys`
    (keys the source has on rows that were quarantined: present, not absent). When that would close more
    than `max_removal_share` of the current records, TooManyRemovals is raised (the caller rolls back)."""
    postgres = _is_postgres(session)
    if session.execute(select(table.c._sid).limit(1)).first() is None:
        return _first_load(session, table, fields, chunks, now=now, batch_id=batch_id, source_id=source_id)
    _stage(session, table, fields, chunks)
    name = _quote(table.name)
    key_sql = ", ".join(_quote(k) for k in key)
    session.execute(text(f"CREATE INDEX stage_rows_key ON stage_rows ({key_sql})"))
    on_key = " AND ".join(f"t.{_quote(k)} = s.{_quote(k)}" for k in key)
    equal = "IS NOT DISTINCT FROM" if postgres else "IS"
    non_key = [f for f in fields if f not in key]
    same = " AND ".join(f"s.{_quote(f)} {equal} t.{_quote(f)}" for f in non_key) or "TRUE"
    stale = f" OR (s.{_quote(cursor)} < t.{_quote(cursor)})" if cursor and cursor not in key else ""
    # A tombstone is "the same" as nothing: it only changes something when a current record exists.
    session.execute(
        text(
            f"UPDATE stage_rows AS s SET _sid = t._sid, _same = ((NOT s.{TOMB} AND {same}){stale}) "
            f"FROM {name} AS t WHERE {on_key} AND t._valid_to IS NULL"
        )
    )
    counts = MergeCounts()
    row = session.execute(
        text(
            f"SELECT "
            f"SUM(CASE WHEN _sid IS NULL AND NOT {TOMB} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN _sid IS NOT NULL AND NOT _same AND NOT {TOMB} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN _same OR (_sid IS NULL AND {TOMB}) THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN _sid IS NOT NULL AND NOT _same AND {TOMB} THEN 1 ELSE 0 END) "
            f"FROM stage_rows"
        )
    ).one()
    counts.inserted, counts.updated, counts.unchanged, counts.deleted = (int(v or 0) for v in row)
    stamp: Any = now if postgres else now.strftime(SQLITE_DATETIME)
    session.execute(
        text(
            f"UPDATE {name} SET _valid_to = :now WHERE _valid_to IS NULL AND _sid IN "
            f"(SELECT _sid FROM stage_rows WHERE _sid IS NOT NULL AND NOT _same)"
        ),
        {"now": stamp},
    )
    if full:
        _full_removal(session, table, key, kept_keys, counts, stamp, batch_id, max_removal_share)
    field_sql = ", ".join(_quote(f) for f in fields)
    session.execute(
        text(
            f"INSERT INTO {name} ({field_sql}, _valid_from, _batch_id, _source_id) "
            f"SELECT {field_sql}, :now, :batch, :source FROM stage_rows WHERE NOT {TOMB} AND NOT _same"
        ),
        {"now": stamp, "batch": batch_id, "source": source_id},
    )
    session.execute(text("DROP TABLE stage_rows"))
    return counts


def _full_removal(
    session: Session,
    table: Table,
    key: Sequence[str],
    kept_keys: Iterable[pl.DataFrame],
    counts: MergeCounts,
    stamp: Any,
    batch_id: int,
    max_share: float | None,
) -> None:
    """Close the current records whose keys are neither in the batch (`stage_rows`) nor kept."""
    name = _quote(table.name)
    postgres = _is_postgres(session)
    columns = ", ".join(
        f"{_quote(k)} {table.c[k].type.compile(dialect=session.get_bind().dialect)}" for k in key
    )
    if not postgres:
        session.execute(text("DROP TABLE IF EXISTS stage_kept"))
    session.execute(text(f"CREATE TEMP TABLE stage_kept ({columns}){' ON COMMIT DROP' if postgres else ''}"))
    _bulk_load(session, "stage_kept", (_conform(chunk.select(list(key)), table) for chunk in kept_keys))
    session.execute(text(f"CREATE INDEX stage_kept_key ON stage_kept ({', '.join(_quote(k) for k in key)})"))
    in_stage = " AND ".join(f"s.{_quote(k)} = {name}.{_quote(k)}" for k in key)
    in_kept = " AND ".join(f"k.{_quote(k)} = {name}.{_quote(k)}" for k in key)
    kept_sql = f"EXISTS (SELECT 1 FROM stage_kept AS k WHERE {in_kept})"
    gone = (
        f"{name}._valid_to IS NULL AND {name}._batch_id <> :batch "
        f"AND NOT EXISTS (SELECT 1 FROM stage_rows AS s WHERE {in_stage})"
    )
    row = session.execute(
        text(
            f"SELECT SUM(CASE WHEN {kept_sql} THEN 1 ELSE 0 END), COUNT(*), "
            f"(SELECT COUNT(*) FROM {name} WHERE _valid_to IS NULL) FROM {name} WHERE {gone}"
        ),
        {"batch": batch_id},
    ).one()
    kept, absent, current = (int(v or 0) for v in row)
    counts.kept = kept
    removing = absent - kept
    before = current + counts.updated + counts.deleted  # the changed ones were closed just before
    if max_share is not None and before and removing > max_share * before:
        raise TooManyRemovals(
            f"全量归集将关闭现有 {before} 条记录中的 {removing} 条（{removing * 100 // before}%，"
            f"上限 {round(max_share * 100)}%）：数据源中没有这些记录的主键。"
            "若映射或资源选错，请更正后再运行；"
            "确属全量替换时，请允许移除后再运行（命令行 --allow-removals，门户勾选“允许大量移除”）"
        )
    if removing:
        result = session.execute(
            text(f"UPDATE {name} SET _valid_to = :now WHERE {gone} AND NOT {kept_sql}"),
            {"now": stamp, "batch": batch_id},
        )
        counts.removed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.execute(text("DROP TABLE stage_kept"))


def current(table: Table) -> ColumnElement[bool]:
    """The versions of the records in force now: not yet replaced or deleted."""
    return table.c._valid_to.is_(None)


def in_force_at(table: Table, moment: datetime) -> ColumnElement[bool]:
    """The versions in force at `moment` (as the columns store it: naive UTC), `_valid_from <= t <
    coalesce(_valid_to, ∞)`: the one definition of "as of" for every reader of the record tables."""
    return and_(table.c._valid_from <= moment, or_(table.c._valid_to.is_(None), table.c._valid_to > moment))


def records(
    session: Session,
    table: Table,
    *,
    where: dict[str, Any] | None = None,
    as_of: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Records (current, or as of a time) whose fields equal `where`; system columns included."""
    query = select(table)
    for field_name, value in (where or {}).items():
        query = query.where(table.c[field_name] == value)
    query = query.where(current(table) if as_of is None else in_force_at(table, as_of))
    query = query.order_by(table.c._sid)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r._mapping) for r in session.execute(query)]
