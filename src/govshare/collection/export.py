"""Quarantined rows as a file the provider fixes: 行号, 问题字段, 规则, 原因, then the record's source columns
as read (CSV in UTF-8 with BOM so Excel opens it, or XLSX). Re-uploading the fixed file reprocesses it: the
pipeline reads the source columns through the same mapping and ignores the first four."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from govshare.collection.pipeline import ROW_NUMBER_COLUMN
from govshare.collection.schemas import QuarantineOut
from govshare.core.csvsafe import neutralize

LEAD = [ROW_NUMBER_COLUMN, "问题字段", "规则", "原因"]
RAW_LINE = "原始内容"  # the column holding a line that could not be parsed at all


def _table(rows: list[QuarantineOut]) -> tuple[list[str], list[list[str]]]:
    records: list[tuple[QuarantineOut, dict[str, object]]] = []
    columns: dict[str, None] = {}
    for row in rows:
        record: dict[str, object] = {}
        if row.raw_is_line:
            record[RAW_LINE] = row.raw
        else:
            try:
                parsed = json.loads(row.raw)
                record = parsed if isinstance(parsed, dict) else {RAW_LINE: row.raw}
            except ValueError:
                record = {RAW_LINE: row.raw}
        record.pop(ROW_NUMBER_COLUMN, None)
        columns.update(dict.fromkeys(record))
        records.append((row, record))
    header = LEAD + list(columns)
    body = []
    for row, record in records:
        lead = ["" if row.row_no is None else str(row.row_no), row.column or "", row.rule, row.message]
        body.append(lead + ["" if record.get(c) is None else str(record[c]) for c in columns])
    return header, body


def to_csv(rows: list[QuarantineOut]) -> bytes:
    header, body = _table(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(v) for v in header])
    writer.writerows([neutralize(v) for v in line] for line in body)  # no live formulas in Excel
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[QuarantineOut]) -> bytes:
    header, body = _table(rows)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("隔离数据")
    sheet.append(header)
    for line in body:
        # text cells: IDs and codes keep their leading zeros and last digits, and "=…" is never a formula
        cells = []
        for value in line:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def stored_records(rows: list[QuarantineOut]) -> list[object]:
    """Quarantined records as pushed records (with their original row number), for reprocessing as they
    are: e.g. after a code set or the mapping was corrected. Lines that could not be parsed are skipped."""
    records: list[object] = []
    for row in rows:
        if row.raw_is_line or row.resolved_by is not None:
            continue
        try:
            record = json.loads(row.raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            record[ROW_NUMBER_COLUMN] = str(row.row_no) if row.row_no is not None else None
            records.append(record)
    return records
