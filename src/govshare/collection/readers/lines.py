"""Row numbers: from record ordinals to the row a user sees in the source, without a per-row table.

A reader knows the good records only by their ordinal; what it records is the sparse set of places where
the source has something else: *skips* (a malformed record, a blank line or row, a line in the wrong
encoding; each takes `span` source rows and comes after `goods_before` good records) and *tall* records
(a good CSV record with embedded newlines takes `1 + extra` lines). Then

    row(k) = base + k + Σ extra of tall records before k + Σ span of skips before k

which is two binary searches over the sparse arrays (Polars `search_sorted`) for a whole chunk of ordinals.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

import polars as pl


def _prefix(keys: pl.Series, values: pl.Series, at: pl.Series) -> pl.Series:
    """Σ values[j] over keys[j] < at, for every element of `at` (keys sorted ascending)."""
    idx = keys.search_sorted(at, side="left").cast(pl.Int64)
    cumulative = pl.concat([pl.Series([0], dtype=pl.Int64), values.cast(pl.Int64).cum_sum()])
    return cumulative.gather(idx)


class RowMap:
    """Turns ordinals into source row numbers (see the module docstring)."""

    def __init__(
        self,
        base: int,
        skip_goods_before: list[int] | None = None,
        skip_spans: list[int] | None = None,
        tall_ords: list[int] | None = None,
        tall_extra: list[int] | None = None,
    ) -> None:
        self.base = base
        self._skip_keys = pl.Series(skip_goods_before or [], dtype=pl.Int64)
        self._skip_spans = pl.Series(skip_spans or [1] * len(self._skip_keys), dtype=pl.Int64)
        self._tall_keys = pl.Series(tall_ords or [], dtype=pl.Int64)
        self._tall_extra = pl.Series(tall_extra or [], dtype=pl.Int64)

    @classmethod
    def from_skipped_rows(cls, base: int, rows: list[int]) -> RowMap:
        """Skips given as sorted row numbers relative to `base` (1 = the first row after it), one row each."""
        return cls(base, [row - 1 - i for i, row in enumerate(rows)])

    def __call__(self, ords: pl.Series) -> pl.Series:
        k = ords.cast(pl.Int64)
        rows = k + self.base
        if len(self._tall_keys):
            rows = rows + _prefix(self._tall_keys, self._tall_extra, k)
        if len(self._skip_keys):
            rows = rows + _prefix(self._skip_keys, self._skip_spans, k)
        return rows.alias("row")

    def extra_before(self, ks: list[int]) -> list[int]:
        """Σ extra of tall records with ordinal < k, for each k (used while placing skips)."""
        if not len(self._tall_keys):
            return [0] * len(ks)
        return _prefix(self._tall_keys, self._tall_extra, pl.Series(ks, dtype=pl.Int64)).to_list()


def line_numbers(path: Path, blocks: list[tuple[int, int]], offsets: list[int]) -> list[int]:
    """The 1-based line of `path` that starts at (or contains) each byte offset; `offsets` ascending.

    `blocks` are (offset, lines before) checkpoints written while the file was produced, so only the
    blocks that hold an offset are read again. An offset that points at a "\\n" is taken as the start of
    the next line: DuckDB's reject positions are sometimes off by one after an over-long line, and no
    record starts with "\\n" (blank lines were replaced by marker lines).
    """
    if not blocks:
        return [1] * len(offsets)
    starts = [b[0] for b in blocks]
    result: list[int] = []
    current = -1
    data = b""
    counted_to, count = 0, 0
    with path.open("rb") as f:
        for offset in offsets:
            index = max(bisect_right(starts, offset) - 1, 0)
            if index != current:
                current = index
                f.seek(starts[index])
                end = starts[index + 1] if index + 1 < len(starts) else None
                data = f.read(end - starts[index]) if end is not None else f.read()
                counted_to, count = 0, blocks[index][1]
            rel = min(max(offset - starts[index], counted_to), len(data))
            count += data.count(b"\n", counted_to, rel)
            counted_to = rel
            at_newline = rel < len(data) and data[rel : rel + 1] == b"\n"
            result.append(count + 1 + (1 if at_newline else 0))
    return result
