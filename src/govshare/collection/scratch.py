"""A batch's scratch space: a DuckDB database in the node's work directory, holding the batch's good rows
and quarantine entries while the source is read. It spills to disk past its memory limit, so a source
larger than RAM still loads; the node's database is not touched (nor locked) until the batch is complete.
Deduplication by key (the latest by cursor, then by position in the source) is one window query here."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from govshare.collection.readers.base import ORD
from govshare.collection.transform import QUARANTINE_SCHEMA


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Scratch:
    def __init__(self, work_dir: Path, *, memory_mb: int) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="batch-", dir=work_dir))
        self.con = duckdb.connect(str(self.directory / "scratch.duckdb"))
        self.con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
        spill = str(self.directory / "spill").replace("'", "''")
        self.con.execute(f"SET temp_directory = '{spill}'")
        self.con.execute("SET preserve_insertion_order = false")
        self._good_created = False
        self.con.execute(
            "CREATE TABLE quarantine (_ord BIGINT, severity VARCHAR, "
            '"column" VARCHAR, rule VARCHAR, message VARCHAR, raw VARCHAR)'
        )

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_good(self, frame: pl.DataFrame) -> None:
        arrow = frame.to_arrow()  # noqa: F841 - DuckDB reads the local variable by name
        if not self._good_created:
            self.con.execute("CREATE TABLE good AS SELECT * FROM arrow LIMIT 0")
            self._good_created = True
        if frame.height:
            self.con.execute("INSERT INTO good SELECT * FROM arrow")

    def add_quarantine(self, frame: pl.DataFrame, severity: str) -> None:
        if not frame.height:
            return
        arrow = frame.select(list(QUARANTINE_SCHEMA)).to_arrow()  # noqa: F841
        self.con.execute(
            f"INSERT INTO quarantine SELECT _ord, '{severity}', \"column\", rule, message, raw FROM arrow"
        )

    def good_count(self) -> int:
        if not self._good_created:
            return 0
        row = self.con.execute("SELECT count(*) FROM good").fetchone()
        return int(row[0]) if row else 0

    def dedupe(self, key: Sequence[str], cursor: str | None) -> int:
        """Keep one row per key (latest by cursor, then by source position); the number of unique keys."""
        if not self._good_created:
            return 0
        partition = ", ".join(_quote(k) for k in key)
        order = (f"{_quote(cursor)} DESC NULLS LAST, " if cursor else "") + f"{ORD} DESC"
        self.con.execute(
            f"CREATE TABLE unique_rows AS SELECT * FROM good "
            f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {order}) = 1"
        )
        self.con.execute("DROP TABLE good")
        row = self.con.execute("SELECT count(*) FROM unique_rows").fetchone()
        return int(row[0]) if row else 0

    def max_of(self, column: str) -> Any:
        if not self._good_created:
            return None
        row = self.con.execute(f"SELECT max({_quote(column)}) FROM unique_rows").fetchone()
        return row[0] if row else None

    def unique_rows(self, chunk_rows: int) -> Iterator[pl.DataFrame]:
        if not self._good_created:
            return
        for batch in self.con.sql("SELECT * FROM unique_rows").fetch_record_batch(chunk_rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame

    def quarantine(self, chunk_rows: int) -> Iterator[pl.DataFrame]:
        query = f"SELECT * FROM quarantine ORDER BY {ORD}, severity"
        for batch in self.con.sql(query).fetch_record_batch(chunk_rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame
