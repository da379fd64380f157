"""XLSX and XLS workbooks through fastexcel (calamine, to Arrow, to Polars without pyarrow).

The sheet is loaded with `header_row=None, skip_rows=0` and every column as string, so frame row i is
sheet row i + 1 and no value passes through a number type we chose: calamine writes integral numbers
without ".0" and large ones without exponent (1e20 reads as "100000000000000000000"). An 18-digit ID
stored as a *number* has already lost its last digits in the workbook itself (Excel keeps 15 significant
digits); IDs must be stored as text, and then they read exactly.

Dates: calamine renders date cells as "yyyy-mm-dd HH:MM:SS"; a midnight value becomes "yyyy-mm-dd" and a
time-only value (Excel day 0) becomes "HH:MM:SS". Fully blank rows are skipped; row numbers stay the
sheet's own (1-based, as Excel shows them).

Memory: calamine loads a whole sheet at once. That is acceptable: a sheet holds at most 1,048,576 rows
(65,536 in XLS), chunks are then cut from the loaded frame, and `core.archives.check_workbook` has
refused, before calamine opens it, a workbook that unpacks past GOVSHARE_XLSX_MAX_UNPACKED_MB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fastexcel
import polars as pl
from cryptography.hazmat.primitives import hashes

from govshare.collection.readers.base import ReaderOptions, SourceUnreadable
from govshare.collection.readers.common import HEADER_SEARCH_ROWS, ReaderState, clean_names, pick_header
from govshare.collection.readers.lines import RowMap
from govshare.core.archives import WorkbookRefused, check_workbook


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class ExcelReader(ReaderState):
    def __init__(self, path: Path, options: ReaderOptions) -> None:
        super().__init__()
        self.path, self.display, self.options = path, path.name, options
        try:
            check_workbook(path)  # a zip bomb is refused here, before calamine unpacks anything
        except WorkbookRefused as exc:
            if exc.damaged:
                raise SourceUnreadable(
                    f"工作簿 {self.display} 已损坏或不是有效的 Excel 文件：压缩包无法完整解开"
                ) from None
            raise SourceUnreadable(exc.message) from None
        try:
            self.book = fastexcel.read_excel(path)
        except fastexcel.FastExcelError as exc:
            raise SourceUnreadable(
                f"工作簿 {self.display} 已损坏或不是有效的 Excel 文件：{_first_line(exc)}"
            ) from None
        names = list(self.book.sheet_names)
        sheet = options.sheet if options.sheet is not None else 0
        existing = "、".join(names) or "无"
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SourceUnreadable(f"工作簿 {self.display} 没有第{sheet + 1}个工作表（现有：{existing}）")
            self.sheet = names[sheet]
        elif sheet in names:
            self.sheet = sheet
        else:
            raise SourceUnreadable(f"工作簿 {self.display} 中没有工作表“{sheet}”（现有：{existing}）")
        head = self._load(HEADER_SEARCH_ROWS if options.header_row is None else options.header_row)
        self.header_row = self._find_header(head)  # 1-based sheet row
        self.columns = clean_names(list(head.row(self.header_row - 1)))
        self.rows = RowMap(self.header_row)

    def _load(self, n_rows: int | None = None) -> pl.DataFrame:
        try:
            sheet = self.book.load_sheet(
                self.sheet, header_row=None, skip_rows=0, dtypes="string", n_rows=n_rows
            )
            return pl.DataFrame(sheet.to_polars())
        except fastexcel.FastExcelError as exc:
            raise SourceUnreadable(
                f"工作簿 {self.display} 的工作表“{self.sheet}”无法读取，文件可能已损坏：{_first_line(exc)}"
            ) from None

    def _find_header(self, head: pl.DataFrame) -> int:
        if self.options.header_row is not None:
            row = self.options.header_row
            if row < 1 or row > head.height or all(_blank(v) for v in head.row(row - 1)):
                raise SourceUnreadable(f"工作簿 {self.display} 工作表“{self.sheet}”的第{row}行没有表头")
            return row
        filled = [i for i in range(head.height) if not all(_blank(v) for v in head.row(i))]
        if not filled:
            raise SourceUnreadable(f"工作簿 {self.display} 的工作表“{self.sheet}”是空的，没有表头")
        return filled[pick_header([list(head.row(i)) for i in filled], self.options.expected_columns)] + 1

    def chunks(self) -> Iterator[pl.DataFrame]:
        self.progress.bytes_total = self.path.stat().st_size
        self.checksum = _sm3_file(self.path)
        sheet = self._load()
        self.progress.bytes_done = self.progress.bytes_total
        cells = list(sheet.row(self.header_row - 1))
        data = sheet.slice(self.header_row)
        # Columns without a header and without any value (stray formatting on the right) are dropped.
        keep = [
            i
            for i, name in enumerate(data.columns)
            if not _blank(cells[i]) or data.get_column(name).is_not_null().any()
        ]
        data = data.select([data.columns[i] for i in keep])
        self.columns = [clean_names(cells)[i] for i in keep]
        if not self.columns:
            return
        data = data.with_columns(
            pl.all()
            .str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")
            .str.replace(r"^1899-12-31 (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$", "$1")
        )
        blank = data.select(
            pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
        ).to_series()
        skipped = (pl.int_range(1, data.height + 1, eager=True).filter(blank)).to_list()
        self.rows = RowMap.from_skipped_rows(self.header_row, skipped)
        data = data.filter(~blank)
        for start in range(0, data.height, self.options.chunk_rows):
            yield self.emit(data.slice(start, self.options.chunk_rows))


def _blank(value: object) -> bool:
    return value is None or str(value).strip() == ""


def _sm3_file(path: Path) -> str:
    digest = hashes.Hash(hashes.SM3())
    with path.open("rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    return digest.finalize().hex()
