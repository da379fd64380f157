"""Download files of an open dataset: CSV (UTF-8 with BOM, so Excel opens it), XLSX and JSON.

A file holds the current records, opened items only (`policies.withheld_reason`). It is generated once per
dataset version and last applied batch and kept under `<data dir>/opendata/`, so a popular dataset is read
from the database once per update, not once per download. Generation reads one SELECT of the opened
columns in chunks (`CHUNK_ROWS`) into Polars frames and writes each chunk out as a whole (CSV and JSON by
Polars, XLSX by openpyxl's write-only workbook): memory stays bounded whatever the size.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import Table
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import public_action
from govshare.collection.itemtypes import decimal_text, decimals_as_text, stored_polars_type
from govshare.core.csvsafe import neutralize_frame
from govshare.core.db import PRIVATE_FILE, private_directory
from govshare.core.node import node_config
from govshare.errors import InvalidInput, NotFound
from govshare.opendata import service
from govshare.opendata.repository import current_records
from govshare.opendata.service import FORMATS, OpenDataset

CHUNK_ROWS = 50_000
XLSX_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
FILE_REVISION = "exact-decimals"
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def cache_dir(session: Session) -> Path:
    """Per database (tests and tools open several on one data directory)."""
    database = hashlib.sha256(str(session.get_bind().engine.url).encode()).hexdigest()[:16]
    return node_config(session).work_dir.parent / "opendata" / database


def file_name(dataset: OpenDataset, fmt: str) -> str:
    """Named by the dataset version, the last batch and the opened columns: any change makes a new file."""
    # FILE_REVISION: files written before a change of how values are written are not served again
    columns = hashlib.sha256("|".join([FILE_REVISION, *dataset.fields]).encode()).hexdigest()[:12]
    return f"r{dataset.resource_id}-{dataset.data_version}-{columns}.{fmt}"


@public_action("open data is published to the public without login")
def download(session: Session, actor: Actor, code: str, fmt: str) -> tuple[OpenDataset, Path]:
    """The dataset's file in `fmt` (generated if not cached yet); the download is counted and audited."""
    if fmt not in FORMATS:
        raise InvalidInput.on("format", f"取值必须是 {'、'.join(FORMATS)} 之一")
    dataset = service.dataset(session, actor, code)
    table = service.record_table(session, dataset)
    if table is None:
        raise NotFound(f"开放数据集“{dataset.name}”尚未归集数据，暂无可下载的文件")
    if fmt == "xlsx" and dataset.record_count > XLSX_MAX_ROWS:
        raise InvalidInput.on("format", "记录数超过 Excel 工作表的行数上限，请下载 CSV 或 JSON 格式")
    folder = cache_dir(session)
    path = folder / file_name(dataset, fmt)
    if not path.exists():
        with _lock(str(path)):
            if not path.exists():
                _generate(session, dataset, table, fmt, path)
    service.record_download(session, actor, dataset, fmt)
    return dataset, path


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        if len(_LOCKS) > 1000:
            _LOCKS.clear()
        return _LOCKS.setdefault(key, threading.Lock())


def _generate(session: Session, dataset: OpenDataset, table: Table, fmt: str, path: Path) -> None:
    private_directory(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with os.fdopen(os.open(temporary, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, PRIVATE_FILE), "wb") as out:
            {"csv": _csv, "json": _json, "xlsx": _xlsx}[fmt](_frames(session, dataset, table), dataset, out)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    # files of older versions of this dataset are stale now
    for old in path.parent.glob(f"r{dataset.resource_id}-*.{fmt}"):
        if old != path:
            old.unlink(missing_ok=True)


def _frames(session: Session, dataset: OpenDataset, table: Table) -> Iterator[pl.DataFrame]:
    """The current records' opened columns, one Polars frame per chunk of one SELECT."""
    names = [f for f in dataset.fields if f in table.c]
    schema = {name: stored_polars_type(table.c[name].type) for name in names}
    statement = current_records(table, names, CHUNK_ROWS)
    result = session.execute(statement)
    empty = True
    for partition in result.partitions(CHUNK_ROWS):
        empty = False
        yield pl.DataFrame([tuple(row) for row in partition], schema=schema, orient="row")
    if empty:
        yield pl.DataFrame(schema=schema)


def _csv(frames: Iterator[pl.DataFrame], dataset: OpenDataset, out: BinaryIO) -> None:
    out.write("\ufeff".encode())
    header = True
    for frame in frames:
        if header or frame.height:
            out.write(neutralize_frame(decimals_as_text(frame)).write_csv(include_header=header).encode())
        header = False


def _json(frames: Iterator[pl.DataFrame], dataset: OpenDataset, out: BinaryIO) -> None:
    """One JSON array of objects (field name → value), written chunk by chunk."""
    out.write(b"[")
    first = True
    for frame in frames:
        if not frame.height:
            continue
        # the chunk's objects, without its brackets; decimals as exact text, as the API answers them
        body = decimals_as_text(frame).write_json().strip()[1:-1]
        if not first:
            out.write(b",\n")
        out.write(body.encode())
        first = False
    out.write(b"]\n")


def _xlsx(frames: Iterator[pl.DataFrame], dataset: OpenDataset, out: BinaryIO) -> None:
    """A write-only workbook: rows are streamed to a temporary file, not kept in memory. The first row has
    the item names, the second the field names (what the API and the other formats use)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    sheet.append([item.name for item in dataset.items])
    sheet.append(dataset.fields)
    for frame in frames:
        # text that looks like a formula stays text (a cell of collected data is never evaluated)
        risky = [
            name
            for name, dtype in frame.schema.items()
            if dtype == pl.String and bool(frame[name].str.starts_with("=").any())
        ]
        if not risky:
            for row in _exact_rows(frame):
                sheet.append(row)
            continue
        positions = [frame.columns.index(name) for name in risky]
        for row in _exact_rows(frame):
            cells: list[Any] = list(row)
            for position in positions:
                cell = WriteOnlyCell(sheet, value=cells[position])
                cell.data_type = "s"
                cells[position] = cell
            sheet.append(cells)
    book.save(out)


def _exact_rows(frame: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Rows for the sheet. A decimal is a number cell when Excel holds it exactly (openpyxl writes 16
    significant digits, Excel keeps 15), else a text cell with its exact digits."""
    positions = [i for i, dtype in enumerate(frame.dtypes) if isinstance(dtype, pl.Decimal)]
    if not positions:
        yield from frame.iter_rows()
        return
    for row in frame.iter_rows():
        cells = list(row)
        for i in positions:
            value = cells[i]
            if value is not None:
                shown = Decimal(format(float(value), ".16g"))  # what openpyxl writes for a number
                digits = len(value.normalize().as_tuple().digits)
                cells[i] = shown if digits <= 15 and shown == value else decimal_text(value)
        yield tuple(cells)
