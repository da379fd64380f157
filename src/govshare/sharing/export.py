"""Streaming bulk export of granted records: CSV (UTF-8 with BOM, for Excel), NDJSON or Parquet.

The request counts, authorizes and audits the export (`data_service.prepare_export`); this module then
streams the same snapshot (records as of the request's time) from a read-only session, in chunks: each
chunk is masked as whole columns in Polars and written out, so memory stays flat whatever the size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import polars as pl
import pyarrow.parquet as pq

from govshare.collection.itemtypes import decimals_as_text, stored_polars_type
from govshare.core.csvsafe import neutralize_frame
from govshare.core.db import Database
from govshare.sharing import records as rec
from govshare.sharing.data_service import ExportPlan
from govshare.sharing.masking import mask_frame

CHUNK_ROWS = 50_000
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}


def _frames(db: Database, plan: ExportPlan, *, typed: bool = False) -> Iterator[pl.DataFrame]:
    """Masked chunks. Decimals (数值, 货币) become their exact text (`itemtypes.decimal_text`, as the JSON
    answers give them) before masking; with `typed` (Parquet) the unmasked ones stay Decimal."""
    table = plan.table
    statement = rec.streamed(table, plan.columns, plan.where, CHUNK_ROWS)
    stored = {c: stored_polars_type(table.c[c].type) for c in plan.columns}
    masked = {c for c in plan.columns if plan.rules.get(c, "none") != "none" and c not in plan.clear}
    with db.transaction(readonly=True) as session:
        result = session.execute(statement)
        for partition in result.partitions(CHUNK_ROWS):
            frame = pl.DataFrame([tuple(row) for row in partition], schema=stored, orient="row")
            frame = decimals_as_text(frame, masked if typed else None)
            yield mask_frame(frame, plan.rules, plan.clear)


def stream(db: Database, plan: ExportPlan) -> Iterator[bytes]:
    if plan.fmt == "csv":
        yield "\ufeff".encode()
        header = True
        any_rows = False
        for frame in _frames(db, plan):
            any_rows = True
            yield neutralize_frame(frame).write_csv(include_header=header).encode()  # no live formulas
            header = False
        if not any_rows:
            yield (",".join(plan.columns) + "\n").encode()
    elif plan.fmt == "ndjson":
        for frame in _frames(db, plan):
            yield frame.write_ndjson().encode()
    else:
        yield from _parquet(db, plan)


class _Sink(io.RawIOBase):
    """A write-only stream that hands out what was written so far; `tell` keeps counting from the start,
    as the Parquet writer records file offsets in the footer."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _parquet(db: Database, plan: ExportPlan) -> Iterator[bytes]:
    """One row group per chunk, handed out as soon as it is written."""
    sink = _Sink()
    schema = pl.Schema(_schema(plan)).to_arrow()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    for frame in _frames(db, plan, typed=True):
        writer.write_table(frame.to_arrow().cast(schema))
        yield sink.drain()
    writer.close()
    yield sink.drain()


def _schema(plan: ExportPlan) -> dict[str, pl.DataType]:
    """Column types of the export: masked columns are text, the rest keep the stored type."""
    types: dict[str, pl.DataType] = {}
    for name in plan.columns:
        masked = plan.rules.get(name, "none") != "none" and name not in plan.clear
        types[name] = pl.String() if masked else stored_polars_type(plan.table.c[name].type)
    return types
