"""A private DuckDB database on disk where a file reader parks what DuckDB parsed.

DuckDB parses the whole file in one statement (`CREATE TABLE s AS SELECT … FROM read_csv(…)`); then the
reader knows every reject (and so every row number) before it hands out the first chunk, and reads the
table back in slices of `chunk_rows` by `rowid` (insertion order; a range filter on rowid is cheap).
The database lives in a temporary directory, so memory stays bounded by DuckDB's buffer manager rather
than by the file size; the directory is removed when the reader is done or dropped.

Results cross into Polars as an Arrow table (`pl.from_arrow`); `pl.DataFrame(relation)` over the Arrow C
stream works too but makes DuckDB 2.0 print reference-leak warnings at interpreter exit.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl


def sql_str(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class Stage:
    def __init__(self, scratch_dir: Path | None = None, memory_mb: int = 1024) -> None:
        if scratch_dir is not None:
            scratch_dir.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="govshare-read-", dir=scratch_dir))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.dir, ignore_errors=True)
        self.con = duckdb.connect(
            str(self.dir / "stage.duckdb"),
            config={
                "threads": 2,
                "memory_limit": f"{int(memory_mb)}MB",
                "temp_directory": str(self.dir / "spill"),
                "preserve_insertion_order": True,
                "autoinstall_known_extensions": False,
            },
        )

    def path(self, name: str) -> Path:
        return self.dir / name

    def frame(self, sql: str, params: list[object] | None = None) -> pl.DataFrame:
        frame = pl.from_arrow(self.con.sql(sql, params=params).to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def run(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Execute a statement and fetch its result to the end (DuckDB 2.0 refuses new work on a
        connection whose last result was not exhausted)."""
        return self.con.execute(sql, params or []).fetchall()

    def count(self, sql: str, params: list[object] | None = None) -> int:
        rows = self.run(sql, params)
        return int(str(rows[0][0])) if rows and rows[0][0] is not None else 0

    def slices(
        self, select: str, table: str, total_rowids: int, chunk_rows: int, where: str = "TRUE"
    ) -> Iterator[pl.DataFrame]:
        """`SELECT {select} FROM {table}` in rowid ranges of `chunk_rows`, in order; empty slices skipped."""
        for start in range(0, total_rowids, chunk_rows):
            frame = self.frame(
                f"SELECT {select} FROM {table} "  # noqa: S608 - callers pass their own column expressions
                f"WHERE rowid >= {start} AND rowid < {start + chunk_rows} "
                f"AND ({where}) ORDER BY rowid"
            )
            if frame.height:
                yield frame

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._cleanup()
