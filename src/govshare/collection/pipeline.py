"""Running one batch: read the source in chunks, transform each chunk, keep good rows and quarantine entries
in the batch's scratch space, then apply everything to the node's database in one transaction.

Transactions: the batch row is created (and authorized) by `service.start_batch`; while reading, only the
batch's heartbeat and progress are written, each in its own short transaction; the records, the quarantine,
the counts and the batch's success are written together in one final transaction. A batch killed at any
point leaves no partial data: before the final commit nothing of it is visible, and a later run marks it
failed (`service.detect_dead_batches`). A failure is recorded on the batch with its message."""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.collection import store
from govshare.collection.readers.base import ORD, Malformed, SourceReader, SourceUnreadable
from govshare.collection.repository import CollectionRepository
from govshare.collection.scratch import Scratch
from govshare.collection.transform import ChunkResult, Plan, transform
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.models import Batch, Source

log = logging.getLogger(__name__)
ROW_NUMBER_COLUMN = "行号"
TRANSFORM_THREADS = 2  # carried by quarantine exports and reprocessed rows: the original row


@dataclass(frozen=True)
class PreparedBatch:
    """What `service.start_batch` resolved, for the run."""

    batch_id: int
    resource_id: int
    source_id: int | None
    plan: Plan
    fields: tuple[store.Field, ...]  # the items the mapping fills
    table_fields: tuple[store.Field, ...]  # every item of the published version (the table's columns)
    full: bool
    parent_id: int | None = None
    allow_removals: bool = False  # a full load may close more than GOVSHARE_COLLECTION_MAX_REMOVAL_SHARE


@dataclass
class Tally:
    read: int = 0
    empty: int = 0
    rejected: int = 0
    warnings: int = 0


def host_name() -> str:
    return socket.gethostname()[:200]


def _heartbeat(db: Database, batch_id: int, reader: SourceReader, tally: Tally, phase: str) -> None:
    """Progress as the summary will count it: the records read so far plus the lines the reader could not
    parse (a CSV reader knows all of those before its first chunk), so the last progress line and the
    summary show the same number."""
    malformed = len(reader.malformed) if phase == "reading" else 0
    with db.transaction() as session:
        CollectionRepository(session).update_running(
            batch_id,
            heartbeat_at=utcnow(),
            phase=phase,
            read=tally.read + malformed,
            rejected=tally.rejected + malformed,
            empty=tally.empty,
            warnings=tally.warnings,
            bytes_done=reader.progress.bytes_done,
            bytes_total=reader.progress.bytes_total,
            encoding=reader.encoding,
        )


def _missing_columns(reader: SourceReader, plan: Plan) -> None:
    missing = [c for c in plan.source_columns if c not in reader.columns]
    if missing:
        by_item = {i.source: i.field for i in plan.items}
        named = "、".join(f"“{c}”（信息项 {by_item[c]}）" if c in by_item else f"“{c}”" for c in missing)
        found = "、".join(reader.columns[:30]) or "（无）"
        hint = (
            f"（按 {reader.encoding} 编码读取；列名若是乱码，请检查映射的 source.encoding）"
            if reader.encoding
            else ""
        )
        raise SourceUnreadable(f"数据源缺少映射的列：{named}；数据源的列为：{found}{hint}")


def _malformed_frame(items: list[Malformed]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_no": [m.row for m in items],
            "severity": ["error"] * len(items),
            "column": [None] * len(items),
            "rule": [m.rule for m in items],
            "message": [m.message for m in items],
            "raw": [m.raw for m in items],
        },
        schema={
            "row_no": pl.Int64,
            "severity": pl.String,
            "column": pl.String,
            "rule": pl.String,
            "message": pl.String,
            "raw": pl.String,
        },
    )


def _cursor_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_quarantine(
    session: Session, batch_id: int, scratch: Scratch, reader: SourceReader, chunk_rows: int
) -> None:
    malformed = _malformed_frame(reader.malformed)
    if malformed.height:
        rows = malformed.with_columns(batch_id=pl.lit(batch_id), raw_is_line=pl.lit(True)).to_dicts()
        CollectionRepository(session).add_quarantine_rows(rows)
    for chunk in scratch.quarantine(chunk_rows):
        numbered = chunk.with_columns(row_no=reader.row_numbers(chunk.get_column(ORD)))
        rows = (
            numbered.drop(ORD).with_columns(batch_id=pl.lit(batch_id), raw_is_line=pl.lit(False)).to_dicts()
        )
        CollectionRepository(session).add_quarantine_rows(rows)


def _resolve_parent(session: Session, prepared: PreparedBatch, loaded_rows: set[int]) -> None:
    """Mark the parent batch's quarantined rows that this reprocessing loaded."""
    if prepared.parent_id is None or not loaded_rows:
        return
    CollectionRepository(session).resolve_quarantined(
        prepared.parent_id, sorted(loaded_rows), prepared.batch_id
    )


def _transformed(reader: SourceReader, plan: Plan) -> Iterator[tuple[pl.DataFrame, ChunkResult]]:
    """Chunks with their transform, in source order. Two chunks are transformed at a time on worker
    threads (Polars releases the GIL), while this thread reads the next chunk and stores the last."""
    with ThreadPoolExecutor(max_workers=TRANSFORM_THREADS, thread_name_prefix="transform") as pool:
        pending: deque[tuple[pl.DataFrame, Future[ChunkResult]]] = deque()
        checked = False
        for chunk in reader.chunks():
            if not checked:
                _missing_columns(reader, plan)
                checked = True
            columns = [c for c in reader.columns if c in chunk.columns]
            pending.append((chunk, pool.submit(transform, chunk, plan, columns)))
            if len(pending) > TRANSFORM_THREADS:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def execute(
    db: Database,
    actor: Actor,
    prepared: PreparedBatch,
    reader: SourceReader,
    *,
    on_progress: Callable[[Batch], None] | None = None,
) -> Batch:
    """Run the batch to success or failure; return the finished batch row."""
    config = db.config
    tally = Tally()
    plan = prepared.plan
    origin_rows: dict[int, int] = {}
    try:
        memory = max(config.collection_memory_mb // 2, 64)  # the other half is the reader's
        with Scratch(config.work_dir, prepared.batch_id, memory_mb=memory) as scratch:
            if reader.columns:  # known once the reader is open (files): check before reading the data
                _missing_columns(reader, plan)
            any_chunk = False
            for chunk, result in _transformed(reader, plan):
                any_chunk = True
                if prepared.full and result.rejected.height:
                    scratch.add_kept_keys(_keys_of(chunk, result.rejected, plan, reader.columns))
                if prepared.parent_id is not None and ROW_NUMBER_COLUMN in chunk.columns:
                    pairs = chunk.select(ORD, pl.col(ROW_NUMBER_COLUMN).cast(pl.Int64, strict=False))
                    origin_rows.update(dict(pairs.drop_nulls().iter_rows()))
                scratch.add_good(result.good)
                scratch.add_quarantine(result.rejected, "error")
                scratch.add_quarantine(result.warnings, "warning")
                tally.read += chunk.height
                tally.empty += result.empty
                tally.rejected += result.rejected.height
                tally.warnings += result.warned_rows
                _heartbeat(db, prepared.batch_id, reader, tally, "reading")
                if on_progress is not None:
                    on_progress(_batch(db, prepared.batch_id))
            if not any_chunk:
                _missing_columns(reader, plan)  # an empty source still needs the right header
            tally.read += len(reader.malformed)
            tally.rejected += len(reader.malformed)
            if prepared.full and reader.malformed:
                scratch.add_kept_keys(_malformed_keys(reader, plan))
            good = scratch.good_count()
            loaded_ords = scratch.good_ords() if origin_rows else set()
            unique = scratch.dedupe(plan.key, plan.cursor)
            cursor_to = _cursor_text(scratch.max_of(plan.cursor)) if plan.cursor else None
            _heartbeat(db, prepared.batch_id, reader, tally, "merging")
            if on_progress is not None:
                on_progress(_batch(db, prepared.batch_id))  # the final count, as the summary shows it
            loaded_rows = {row for o, row in origin_rows.items() if o in loaded_ords}
            with db.transaction() as session:
                now = utcnow().replace(tzinfo=None)
                share = None if prepared.allow_removals else config.collection_max_removal_share
                table = store.ensure_table(session, prepared.resource_id, prepared.table_fields, plan.key)
                counts = store.merge(
                    session,
                    table,
                    [f.name for f in prepared.fields],
                    plan.key,
                    scratch.unique_rows(config.collection_chunk_rows),
                    now=now,
                    batch_id=prepared.batch_id,
                    source_id=prepared.source_id,
                    full=prepared.full,
                    cursor=plan.cursor,
                    kept_keys=scratch.kept_keys(config.collection_chunk_rows),
                    max_removal_share=share,
                )
                _write_quarantine(session, prepared.batch_id, scratch, reader, config.collection_chunk_rows)
                _resolve_parent(session, prepared, loaded_rows)
                batch = session.get_one(Batch, prepared.batch_id)
                if batch.status != "running":
                    raise SourceUnreadable("批次已被判定为中断，本次结果不予提交")
                values = {
                    "read": tally.read,
                    "inserted": counts.inserted,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "deleted": counts.deleted,
                    "superseded": good - unique,
                    "empty": tally.empty,
                    "rejected": tally.rejected,
                    "warnings": tally.warnings,
                    "removed": counts.removed,
                    "kept": counts.kept,
                    "recovered": reader_figure(reader, "recovered") or 0,
                }
                for name, value in values.items():
                    setattr(batch, name, value)
                batch.status, batch.phase, batch.finished_at = "succeeded", "done", utcnow()
                batch.applied_at = now.replace(tzinfo=UTC)
                batch.checksum, batch.encoding = reader.checksum, reader.encoding
                batch.bytes_done, batch.bytes_total = reader.progress.bytes_done, reader.progress.bytes_total
                batch.cursor_to = cursor_to
                batch.header_row = reader_figure(reader, "header_row")
                previous = CollectionRepository(session).last_succeeded(prepared.resource_id, batch.id)
                if previous is not None and reader.checksum and previous.checksum == reader.checksum:
                    batch.same_input_as = previous.id
                if prepared.source_id is not None:
                    source = session.get_one(Source, prepared.source_id)
                    source.last_success_at = batch.finished_at
                    if cursor_to is not None:
                        source.cursor_value = cursor_to
                audit.record(
                    session,
                    actor,
                    "collection.batch",
                    target_type="batch",
                    target_id=str(batch.id),
                    detail={"resource_id": prepared.resource_id, "checksum": reader.checksum, **values},
                )
                session.flush()
            return _batch(db, prepared.batch_id)
    except (SourceUnreadable, store.TooManyRemovals) as exc:
        return fail(db, prepared.batch_id, exc.message)
    except Exception as exc:
        log.exception("batch %s failed", prepared.batch_id)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        fail(db, prepared.batch_id, f"归集失败：{message}"[:2000])
        raise


def reader_figure(reader: SourceReader, name: str) -> int | None:
    """A figure only some readers have (`header_row`, `recovered`; see readers.common.ReaderState)."""
    value = getattr(reader, name, None)
    return value if isinstance(value, int) else None


def _key_plan(plan: Plan) -> Plan:
    return Plan(items=tuple(i for i in plan.items if i.field in plan.key), key=plan.key)


def _keys_of(chunk: pl.DataFrame, rejected: pl.DataFrame, plan: Plan, columns: list[str]) -> pl.DataFrame:
    """The valid keys (typed as stored) of a chunk's rejected rows: present in the source, so a full load
    must not take them for absent."""
    rows = chunk.filter(pl.col(ORD).is_in(rejected.get_column(ORD).implode()))
    present = [c for c in columns if c in rows.columns]
    return transform(rows, _key_plan(plan), present).good.select(list(plan.key))


def _malformed_keys(reader: SourceReader, plan: Plan) -> pl.DataFrame:
    """The keys of CSV lines the reader could not parse, where the line still splits into the right number
    of columns once its quotes are dropped (a stray quote, a line in another encoding)."""
    delimiter, quote = getattr(reader, "delimiter", None), getattr(reader, "quote", "")
    if not isinstance(delimiter, str) or not reader.columns:
        return pl.DataFrame()
    rows = []
    for item in reader.malformed:
        if "\n" in item.raw:
            continue
        text = item.raw.replace(quote, "") if isinstance(quote, str) and quote else item.raw
        cells = text.split(delimiter)
        if len(cells) == len(reader.columns):
            rows.append(cells)
    if not rows:
        return pl.DataFrame()
    frame = pl.DataFrame(rows, schema=dict.fromkeys(reader.columns, pl.String), orient="row")
    frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ORD))
    return transform(frame, _key_plan(plan), reader.columns).good.select(list(plan.key))


def fail(db: Database, batch_id: int, message: str) -> Batch:
    with db.transaction() as session:
        CollectionRepository(session).update_running(
            batch_id, status="failed", phase="done", error=message, finished_at=utcnow()
        )
    return _batch(db, batch_id)


def _batch(db: Database, batch_id: int) -> Batch:
    with db.transaction(readonly=True) as session:
        return session.get_one(Batch, batch_id)


def process_identity() -> tuple[str, int]:
    return host_name(), os.getpid()
