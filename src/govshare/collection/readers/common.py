"""Small pieces every reader shares: its public state, column naming, `_ord`, raw-text cutting."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from govshare.collection.readers.base import ORD, RAW_LIMIT, Malformed, Progress
from govshare.collection.readers.lines import RowMap


def cut_raw(text: str) -> str:
    """A malformed record's text as kept verbatim: at most RAW_LIMIT characters."""
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + "…(截断)"


def clean_names(cells: list[str | None]) -> list[str]:
    """Header cells as column names: BOM and surrounding whitespace stripped, blanks named `列N`,
    duplicates suffixed (`名称`, `名称_2`)."""
    names: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        base = (cell or "").replace("\ufeff", "").strip() or f"列{i + 1}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


HEADER_SEARCH_ROWS = 30


def pick_header(candidates: list[list[str | None]], expected: list[str]) -> int:
    """Index of the header among the first non-blank rows: the first holding the most of `expected`
    (at least one), else the first row. A header missing some expected columns is not an error here:
    the mapping layer reports which ones are missing."""
    wanted = {name.strip() for name in expected}
    best, best_score = 0, 0
    for index, cells in enumerate(candidates[:HEADER_SEARCH_ROWS]):
        score = len(wanted.intersection((cell or "").replace("\ufeff", "").strip() for cell in cells))
        if score > best_score:
            best, best_score = index, score
    return best


@dataclass
class ReaderState:
    """The SourceReader attributes; readers inherit them and fill them in as they go."""

    columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    malformed: list[Malformed] = field(default_factory=list)
    checksum: str | None = None
    progress: Progress = field(default_factory=Progress)
    rows: RowMap = field(default_factory=lambda: RowMap(0))
    produced: int = 0  # good records handed out so far (the last `_ord`)
    recovered: int = 0  # lines a stray quote would have swallowed, read on their own (CSV, see `quotes`)

    def row_numbers(self, ords: pl.Series) -> pl.Series:
        return self.rows(ords)

    def emit(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Name the columns, make every one String, add `_ord`, and count progress."""
        frame = frame.rename(dict(zip(frame.columns, self.columns, strict=True))).with_columns(
            pl.all().cast(pl.String)
        )
        frame = frame.with_columns(
            pl.int_range(self.produced + 1, self.produced + 1 + frame.height, dtype=pl.Int64).alias(ORD)
        )
        self.produced += frame.height
        self.progress.records = self.produced
        return frame
