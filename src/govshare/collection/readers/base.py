"""The contract every source reader keeps.

A reader turns one source (a file, a database table or query, a pushed batch) into chunks of text: Polars
DataFrames whose columns are the source's column names, every one `pl.String` (IDs, codes and phone numbers
must never pass through a number type: "0101" and "…123X" stay as written), plus `_ord`, the record's
1-based ordinal among the records the reader could parse, counted over the whole read.

Records that cannot be parsed at all (wrong column count, broken quoting, a line over the size limit, bytes
that are not in the file's encoding, invalid JSON) are not fatal: the reader keeps them as `Malformed`,
verbatim, and goes on. A source that cannot be read at all (not a text file, a truncated workbook, a missing
file, a database that refuses the connection, a header without the mapped columns) raises
`SourceUnreadable` before or while reading; the pipeline then fails the batch and changes nothing.

After `chunks()` is exhausted: `malformed` is complete, `checksum` is the SM3 of the bytes read (files)
or of a canonical text stream of the rows (databases, pushes), and `row_numbers` turns ordinals into the
row numbers a user sees in the source (file line for CSV, sheet row for Excel, record index otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

ORD = "_ord"
CHUNK_ROWS = 100_000
RAW_LIMIT = 4000  # characters of a malformed record kept verbatim (the rest is marked as cut)


class SourceUnreadable(Exception):
    """The source as a whole cannot be read. `message` is Chinese and names the file, sheet, column or
    connection; it never contains a password."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Malformed:
    """A record the reader could not parse, kept verbatim."""

    row: int | None  # the row number a user sees in the source (1-based, the header counts as a row)
    raw: str  # the record's original text, at most RAW_LIMIT characters
    rule: str  # csv.columns / csv.quote / csv.line_too_long / encoding / json.invalid / json.not_object
    message: str  # Chinese, e.g. "第12行：应有5列，实有6列"


@dataclass
class Progress:
    """What a running reader has done so far (read by the batch's heartbeat)."""

    bytes_total: int | None = None  # None when unknown (a query)
    bytes_done: int = 0
    records: int = 0


class SourceReader(Protocol):
    columns: list[str]  # the source's column names, in source order; known once chunks() has started
    encoding: str | None  # the encoding detected or given (files), else None
    malformed: list[Malformed]
    checksum: str | None  # SM3 hex; complete after chunks() is exhausted
    progress: Progress

    def chunks(self) -> Iterator[pl.DataFrame]: ...

    def row_numbers(self, ords: pl.Series) -> pl.Series:
        """The user-visible row number (Int64) of each ordinal in `ords`."""
        ...


@dataclass
class ReaderOptions:
    """What a mapping's `source:` section says about how to read (all optional)."""

    encoding: str | None = None  # None/"auto": detect (BOM, UTF-8, else GB18030, which contains GBK)
    delimiter: str | None = None  # CSV: "," by default, TSV: "\t"
    quote: str = '"'
    header_row: int | None = None  # 1-based; None: find it (first row holding the mapped columns)
    sheet: str | int | None = None  # Excel: name or 0-based index; None: the first sheet
    expected_columns: list[str] = field(default_factory=list)  # the mapped source columns (header search)
    chunk_rows: int = CHUNK_ROWS
    scratch_dir: Path | None = None  # where parsing spills (the node's work directory); None: the system's
    memory_mb: int = 1024  # the parser's memory limit before it spills
    quote_span_lines: int = 5  # CSV: a quoted field running over more lines than this is a stray quote
    quote_span_bytes: int = 4096  # … or over more bytes than this
