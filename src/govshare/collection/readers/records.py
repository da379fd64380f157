"""Pushed JSON batches: records the API has already parsed.

Columns are the keys of all the objects (in order of first appearance) plus the mapping's expected
columns; values become text as described in `values` (numbers as Python parsed them: 1 -> "1", 1.5 ->
"1.5"; true -> "true"; nested values -> compact JSON). An element that is not an object is kept as
`Malformed(rule="json.not_object")`; rows are element index + 1. The checksum is the SM3 of the
canonical JSON of the whole list (sorted keys, non-ASCII kept, no spaces), hashed record by record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import polars as pl
from cryptography.hazmat.primitives import hashes

from govshare.collection.readers.base import Malformed, ReaderOptions
from govshare.collection.readers.common import ReaderState, cut_raw
from govshare.collection.readers.lines import RowMap
from govshare.collection.readers.values import column_text

_KINDS = {list: "数组", str: "字符串", bool: "布尔值", type(None): "null"}


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class RecordsReader(ReaderState):
    def __init__(self, records: list[object], options: ReaderOptions) -> None:
        super().__init__()
        self.records, self.options = records, options
        keys: dict[str, None] = {}
        skipped: list[int] = []
        for index, record in enumerate(records):
            if isinstance(record, dict):
                keys.update(dict.fromkeys(map(str, record)))
            else:
                skipped.append(index + 1)
                kind = _KINDS.get(type(record), "数字")
                self.malformed.append(
                    Malformed(
                        index + 1,
                        cut_raw(_canonical(record)),
                        "json.not_object",
                        f"第{index + 1}条：不是 JSON 对象（是{kind}）",
                    )
                )
        keys.update(dict.fromkeys(k for k in options.expected_columns if k not in keys))
        self.columns = list(keys)
        self.rows = RowMap.from_skipped_rows(0, skipped)

    def chunks(self) -> Iterator[pl.DataFrame]:
        digest = hashes.Hash(hashes.SM3())
        digest.update(b"[")
        batch: list[dict[str, object]] = []
        for index, record in enumerate(self.records):
            text = (("," if index else "") + _canonical(record)).encode()
            digest.update(text)
            self.progress.bytes_done += len(text)
            if isinstance(record, dict):
                batch.append({str(k): v for k, v in record.items()})
                if len(batch) >= self.options.chunk_rows:
                    yield self._frame(batch)
                    batch = []
        digest.update(b"]")
        self.checksum = digest.finalize().hex()
        if batch:
            yield self._frame(batch)

    def _frame(self, batch: list[dict[str, object]]) -> pl.DataFrame:
        data = {c: column_text([r.get(c) for r in batch], booleans="word") for c in self.columns}
        return self.emit(pl.DataFrame(data, schema=dict.fromkeys(self.columns, pl.String)))


def open_records(records: list[object], options: ReaderOptions) -> RecordsReader:
    """A reader over a pushed batch of already-parsed JSON values (see the module docstring)."""
    return RecordsReader(records, options)
