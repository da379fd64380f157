"""Helpers for the reader tests."""

from __future__ import annotations

import polars as pl

from govshare.collection.readers import ORD, SourceReader


def read_all(reader: SourceReader) -> pl.DataFrame:
    """Every chunk of `reader`, concatenated (an empty frame with the reader's columns if none)."""
    frames = list(reader.chunks())
    if not frames:
        return pl.DataFrame(schema={**dict.fromkeys(reader.columns, pl.String), ORD: pl.Int64})
    return pl.concat(frames)


def rows_of(reader: SourceReader, frame: pl.DataFrame) -> list[int]:
    return reader.row_numbers(frame[ORD]).to_list()
