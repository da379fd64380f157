"""Reading code sets and data elements from CSV (UTF-8 or GBK/GB18030) and Excel (.xlsx) files.

Reading never writes: it returns the rows it accepted and a list of row-level errors in Chinese. The
service writes only when the list is empty, so a file with any error imports nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from govshare.core.archives import WorkbookRefused, check_workbook, node_limits
from govshare.core.inputs import text_problem
from govshare.errors import FieldError
from govshare.standards import validators
from govshare.standards.text import trim

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_LISTED_ERRORS = 200
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"

CODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("代码", "编码", "代码值", "code"),
    "label": ("名称", "代码名称", "含义", "说明", "label", "name"),
    "parent_code": ("上级代码", "父代码", "父级代码", "parent_code", "parent"),
    "position": ("排序", "顺序", "序号", "position"),
    "valid_from": ("生效日期", "启用日期", "valid_from"),
    "valid_to": ("失效日期", "停用日期", "废止日期", "valid_to"),
    "note": ("备注", "note"),
}
ELEMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "identifier": ("标识符", "内部标识符", "数据元标识符", "identifier"),
    "name": ("中文名称", "数据元名称", "名称", "name"),
    "definition": ("定义", "definition"),
    "data_type": ("数据类型", "data_type"),
    "length": ("长度", "length"),
    "code_set": ("值域", "代码集", "code_set"),
    "code_set_version": ("代码集版本", "code_set_version"),
    "validator": ("校验规则", "validator"),
    "standard_source": ("标准来源", "来源", "standard_source"),
    "version": ("版本", "version"),
    "status": ("状态", "status"),
}
DATA_TYPE_LABELS = {
    "字符型": "C",
    "数值型": "N",
    "货币型": "Y",
    "日期型": "D",
    "日期时间型": "T",
    "逻辑型": "L",
    "备注型": "M",
    "通用型": "G",
    "双精度型": "B",
    "整型": "I",
    "浮点型": "F",
}


class UnreadableFile(ValueError):
    """The file is not a CSV or .xlsx file we can read; the message says why, in Chinese."""


@dataclass
class Errors:
    items: list[FieldError] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_LISTED_ERRORS:
            where = f"第{line}行" + (f"“{column}”" if column else "")
            self.items.append(FieldError(where, message))

    def __bool__(self) -> bool:
        return self.total > 0

    def summary(self) -> str:
        more = f"（仅列出前 {MAX_LISTED_ERRORS} 处）" if self.total > len(self.items) else ""
        return f"文件有 {self.total} 处错误，未导入任何内容{more}"


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line or row number in the file, cells as text)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return validators.as_text(value) or ""


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV 文件")


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = decode_text(data)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误（第 {reader.line_num} 行）：{exc}") from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:  # a zip bomb is refused here, before openpyxl unpacks anything
        check_workbook(data, node_limits().at_most(MAX_UNCOMPRESSED_BYTES))
    except WorkbookRefused as exc:
        raise UnreadableFile(exc.message) from None
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises whatever its parsers raise on a malformed file
        raise UnreadableFile("文件已损坏或不是有效的 Excel（.xlsx）文件") from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in values]
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile("文件内容已损坏，无法读取，请在 Excel 中打开并重新保存后再导入") from None
    finally:
        workbook.close()


def read_table(data: bytes) -> Table:
    """The first sheet of an .xlsx file, or a CSV file, as a header and rows of text. Blank rows are
    skipped. Raises UnreadableFile."""
    if not data:
        raise UnreadableFile("文件为空")
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(f"文件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableFile("这是旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后再导入")
    rows = _xlsx_rows(data) if data[:4] == b"PK\x03\x04" else _csv_rows(data)
    headers: list[str] | None = None
    body: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        cells = [trim(c) for c in cells]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            continue
        body.append((number, cells))
        if len(body) > MAX_ROWS:
            raise UnreadableFile(f"文件超过 {MAX_ROWS} 行，请拆分后导入")
    if headers is None:
        raise UnreadableFile("文件没有表头")
    return Table(headers, body)


def _positions(
    table: Table, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[str, int]:
    lookup = {alias.lower(): key for key, aliases in columns.items() for alias in aliases}
    positions: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        key = lookup.get(header.strip().lower())
        if key is None:
            continue
        if key in positions:
            raise UnreadableFile(f"表头“{header}”与另一列重复")
        positions[key] = index
    missing = [columns[k][0] for k in required if k not in positions]
    if missing:
        raise UnreadableFile(
            f"缺少必需的列：{'、'.join(missing)}（表头可用："
            + "；".join(f"{'/'.join(columns[k][:2])}" for k in columns)
            + "）"
        )
    return positions


def _cell(cells: list[str], positions: dict[str, int], key: str) -> str:
    index = positions.get(key)
    return cells[index] if index is not None and index < len(cells) else ""


def _text_ok(errors: Errors, line: int, column: str, value: str, max_length: int) -> bool:
    problem = text_problem(value)
    if problem:
        errors.add(line, column, problem)
        return False
    if len(value) > max_length:
        errors.add(line, column, f"不能超过 {max_length} 个字符")
        return False
    return True


def _date_cell(errors: Errors, line: int, column: str, value: str) -> tuple[bool, date | None]:
    if not value:
        return True, None
    parsed = validators.parse_date(value)
    if parsed.error:
        errors.add(line, column, f"“{value[:40]}”{parsed.message}")
        return False, None
    result: date = parsed.value
    return True, result


def parse_codes(table: Table) -> tuple[list[dict[str, Any]], Errors]:
    """Rows of a code-set file → code rows (code, label, position, parent_code, valid_from, valid_to,
    attributes), checked: code and label present, dates readable and in order, a code repeated only
    with periods that do not overlap, every parent code present in the file."""
    positions = _positions(table, CODE_COLUMNS, ("code", "label"))
    headers = {key: table.headers[index] for key, index in positions.items()}
    errors = Errors()
    codes: list[dict[str, Any]] = []
    seen: dict[str, list[tuple[int, date | None, date | None]]] = {}
    for order, (line, cells) in enumerate(table.rows, start=1):
        code, label = _cell(cells, positions, "code"), _cell(cells, positions, "label")
        parent = _cell(cells, positions, "parent_code")
        note = _cell(cells, positions, "note")
        ok = True
        if not code:
            errors.add(line, headers["code"], "代码不能为空")
            ok = False
        elif not _text_ok(errors, line, headers["code"], code, 64):
            ok = False
        if not label:
            errors.add(line, headers["label"], "名称不能为空")
            ok = False
        elif not _text_ok(errors, line, headers["label"], label, 200):
            ok = False
        if parent and not _text_ok(errors, line, headers.get("parent_code", ""), parent, 64):
            ok = False
        if note and not _text_ok(errors, line, headers.get("note", ""), note, 2000):
            ok = False
        position = order
        raw_position = _cell(cells, positions, "position")
        if raw_position:
            try:
                position = int(float(raw_position))
                if position < 1 or position != float(raw_position):
                    raise ValueError
            except ValueError:
                errors.add(line, headers["position"], f"排序应为正整数，而不是“{raw_position[:20]}”")
                ok = False
        good_from, valid_from = _date_cell(
            errors, line, headers.get("valid_from", ""), _cell(cells, positions, "valid_from")
        )
        good_to, valid_to = _date_cell(
            errors, line, headers.get("valid_to", ""), _cell(cells, positions, "valid_to")
        )
        ok = ok and good_from and good_to
        if valid_from and valid_to and valid_to <= valid_from:
            errors.add(line, headers.get("valid_to"), "失效日期必须晚于生效日期")
            ok = False
        if not ok:
            continue
        for other_line, other_from, other_to in seen.get(code, []):
            if (other_to is None or valid_from is None or valid_from < other_to) and (
                valid_to is None or other_from is None or other_from < valid_to
            ):
                errors.add(line, headers["code"], f"代码“{code}”与第{other_line}行重复（有效期重叠）")
                ok = False
                break
        if not ok:
            continue
        seen.setdefault(code, []).append((line, valid_from, valid_to))
        codes.append(
            {
                "code": code,
                "label": label,
                "position": position,
                "parent_code": parent or None,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "attributes": {"note": note} if note else {},
                "_line": line,
            }
        )
    positions_used: dict[int, int] = {}
    for row in codes:
        if row["parent_code"] and row["parent_code"] not in seen:
            errors.add(
                row["_line"], headers.get("parent_code"), f"上级代码“{row['parent_code']}”不在本文件中"
            )
        if row["position"] in positions_used:
            errors.add(
                row["_line"],
                headers.get("position"),
                f"排序 {row['position']} 与第{positions_used[row['position']]}行重复",
            )
        positions_used.setdefault(row["position"], row["_line"])
    if not codes and not errors:
        errors.add(1, None, "文件中没有代码")
    for row in codes:
        del row["_line"]
    return codes, errors


def parse_elements(table: Table) -> tuple[list[tuple[int, dict[str, Any]]], Errors]:
    """Rows of a data-element file → (line, fields for DataElementCreate). Field-level checks are left to
    the schema; this maps headers and data-type labels (字符型 → C)."""
    positions = _positions(table, ELEMENT_COLUMNS, ("identifier", "name", "data_type"))
    errors = Errors()
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, cells in table.rows:
        fields: dict[str, Any] = {}
        for key in ELEMENT_COLUMNS:
            if key not in positions:
                continue
            value = _cell(cells, positions, key)
            if key == "data_type":
                value = DATA_TYPE_LABELS.get(value, value.upper())
            if value == "" and key not in ("identifier", "name", "data_type"):
                continue
            fields[key] = value
        if "length" in fields:
            try:
                fields["length"] = int(float(fields["length"]))
            except ValueError:
                errors.add(line, "长度", f"长度应为整数，而不是“{str(fields['length'])[:20]}”")
                continue
        rows.append((line, fields))
    if not rows and not errors:
        errors.add(1, None, "文件中没有数据元")
    return rows, errors
