"""`open_file`: the reader for an uploaded or fetched file, by kind."""

from __future__ import annotations

from pathlib import Path

from govshare.collection.readers.base import ReaderOptions, SourceReader, SourceUnreadable
from govshare.collection.readers.csv_reader import CsvReader

FILE_KINDS = ("csv", "tsv", "xlsx", "xls", "json", "ndjson")


def open_file(path: Path, kind: str, options: ReaderOptions) -> SourceReader:
    """A reader for `path` read as `kind` (csv/tsv/xlsx/xls/json/ndjson).

    Cheap checks run now (the file exists, is text or a workbook, has a header); the file is parsed when
    `chunks()` is iterated. Raises SourceUnreadable with a Chinese message naming the file.
    """
    kind = kind.lower().lstrip(".")
    if not path.is_file():
        raise SourceUnreadable(f"文件 {path.name} 不存在")
    if kind in ("csv", "tsv"):
        return CsvReader(path, kind, options)
    if kind in ("xlsx", "xls"):
        from govshare.collection.readers.excel_reader import ExcelReader

        return ExcelReader(path, options)
    if kind in ("json", "ndjson"):
        from govshare.collection.readers.json_reader import open_json

        return open_json(path, kind, options)
    raise SourceUnreadable(f"不支持的文件类型“{kind}”（支持：{'、'.join(FILE_KINDS)}）")
