"""The department Excel template (目录编制模板): build it, empty or filled (the export), and read it back into
definitions (docs/catalog-as-code.md), every problem named by sheet, row and column header.

Pure functions over bytes. Validation proper stays in one place (`ResourceDefinition`, `content.normalize`,
`rules.check`); this module only turns cells into definition dicts, reports what is structurally wrong with
the workbook, and maps errors on a definition (pydantic locations, `resources[3].items[2].share` paths)
back to the cells they came from. See docs/excel-template.md.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from govshare.catalog.vocabulary import (
    THEMES,
    BaseKind,
    Category,
    DataType,
    FormatCategory,
    MaskRule,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.core.archives import WorkbookRefused, check_workbook, node_limits
from govshare.core.validation import validation_message
from govshare.errors import FieldError

RESOURCES = "信息资源"
ITEMS = "信息项"
HELP = "填写说明"
LISTS = "选项"

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the .xlsx file as uploaded
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024  # its parts once unzipped (a zip bomb stops here)
MAX_ZIP_ENTRIES = 2_000
MAX_RESOURCES = 10_000
MAX_ITEMS = 200_000
MAX_ERRORS = 500  # errors listed; the rest are counted
MAX_HEADER_COLUMNS = 200

Kind = Literal["key", "seq", "text", "code", "int", "bool", "enum", "list"]


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # dotted path in the definition; "" for 资源序号 / 序号, which are the sheet's own
    kind: Kind
    help: str
    required: bool = False
    width: int = 14
    digits: int | None = None  # code columns: numbers get their leading zeros back to this width
    choices: str | None = None  # the name of the drop-down list (see _choice_lists)
    multiple: bool = False  # several values in one cell, separated by 、 or commas


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("资源序号", "", "key", "本表内的编号（1、2、3……）；「信息项」表以它指明所属信息资源", True, 10),
    Column("信息资源名称", "name", "text", "简明反映资源内容，默认不超过 50 个字符", True, 28),
    Column("提供方代码", "provider", "code", "提供信息资源的部门代码，如 GA；只能填写本部门", True, 12),
    Column(
        "信息资源代码", "code", "code", "新资源不填，首次发布时由平台生成；修改已发布资源时保留导出的代码"
    ),
    Column("摘要", "summary", "text", "资源内容概要，默认不超过 256 个字符；提交审核前须填写", width=40),
    Column("资源分类", "classification.category", "enum", "基础 / 主题 / 部门", True, 10, choices="资源分类"),
    Column("基础类别", "classification.kind", "enum", "仅基础信息资源填写", width=18, choices="基础类别"),
    Column("主题", "classification.theme", "enum", "仅主题信息资源填写", width=14, choices="主题"),
    Column("类", "classification.class", "code", "1 位数字（1–9）", True, 6, digits=1),
    Column("项", "classification.item", "code", "2 位数字，如 01", True, 6, digits=2),
    Column("目", "classification.catalog", "code", "3 位数字，如 001", True, 6, digits=3),
    Column("细目", "classification.detail", "code", "可选，1–8 位数字", width=8),
    Column("格式分类", "format.category", "enum", "信息资源的存储格式类别", True, 12, choices="格式分类"),
    Column("格式类型", "format.type", "text", "如 PostgreSQL、xlsx、PDF", width=14),
    Column(
        "共享类型", "share.type", "enum", "无条件共享 / 有条件共享 / 不予共享", True, 12, choices="共享类型"
    ),
    Column("共享条件", "share.condition", "text", "有条件共享须写明向哪些部门、在什么条件下提供", width=30),
    Column(
        "共享方式",
        "share.methods",
        "list",
        "可填多个，用顿号“、”或逗号分隔；不予共享可不填",
        width=16,
        choices="共享方式",
        multiple=True,
    ),
    Column("是否向社会开放", "open.open", "bool", "是 / 否，不填为否", width=10, choices="是否"),
    Column("开放条件", "open.condition", "text", "向社会开放的条件，可选", width=20),
    Column("更新周期", "update_cycle", "enum", "数据更新的频率", True, 10, choices="更新周期"),
    Column(
        "法律依据", "legal_basis", "text", "不予共享时必填：法律、行政法规或党中央、国务院政策依据", width=30
    ),
    Column("安全级别", "grade", "enum", "不填则取信息项的最高级别（就高从严）", width=10, choices="安全级别"),
    Column("关联资源代码", "related", "list", "已发布的信息资源代码，可填多个，用顿号或逗号分隔", width=20),
    Column("来源系统", "system", "code", "产生数据的信息系统（系统清单代码），可选"),
)

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("资源序号", "", "key", "所属信息资源在「信息资源」表中的资源序号", True, 10),
    Column("序号", "", "seq", "信息项在资源内的顺序；每项都填写时按序号排列，否则按行的先后", width=8),
    Column("信息项名称", "name", "text", "如 公民身份号码", True, 20),
    Column("字段名", "field", "text", "小写字母开头，只含小写字母、数字、下划线，如 gmsfhm", True, 18),
    Column("数据类型", "type", "enum", "字符型、数值型、日期型……", True, 12, choices="数据类型"),
    Column("长度", "length", "int", "字符型必填，正整数", width=8),
    Column(
        "是否主键", "key", "bool", "是 / 否，不填为否；每个信息资源至少一个主键", width=10, choices="是否"
    ),
    Column("是否可为空", "nullable", "bool", "是 / 否，不填为是；主键不可为空", width=10, choices="是否"),
    Column(
        "是否基础信息项",
        "base",
        "bool",
        "是 / 否，不填为否；人口、法人、空间地理、电子证照资源的基础信息项须无条件共享",
        width=12,
        choices="是否",
    ),
    Column("共享类型", "share", "enum", "可选，不填则与信息资源相同", width=12, choices="共享类型"),
    Column("安全级别", "grade", "enum", "不填则为最低级别", width=10, choices="安全级别"),
    Column("脱敏规则", "mask", "enum", "不填为不脱敏", width=10, choices="脱敏规则"),
    Column("数据元/代码集", "standard", "text", "可选，引用的数据元或代码集，如 GB 11643", width=18),
)

RESOURCE_HEADERS = tuple(c.header for c in RESOURCE_COLUMNS)
ITEM_HEADERS = tuple(c.header for c in ITEM_COLUMNS)
_RESOURCE_BY_PATH = {c.path: c.header for c in RESOURCE_COLUMNS if c.path}
_ITEM_BY_PATH = {c.path: c.header for c in ITEM_COLUMNS if c.path}

_PATTERN_HINTS = {
    "类": "应为 1 位数字（1–9）",
    "项": "应为 2 位数字，如 01",
    "目": "应为 3 位数字，如 001",
    "细目": "应为 1–8 位数字",
    "字段名": "应以小写字母开头，只含小写字母、数字和下划线，最长 64 个字符",
    "提供方代码": "只能包含字母、数字、下划线和连字符",
    "信息资源代码": "只能包含字母、数字、下划线和连字符",
    "关联资源代码": "只能包含字母、数字、下划线和连字符",
}


def _choice_lists(grades: Sequence[str]) -> dict[str, list[str]]:
    return {
        "资源分类": Category.choices(),
        "基础类别": BaseKind.choices(),
        "主题": list(THEMES),
        "格式分类": FormatCategory.choices(),
        "共享类型": ShareType.choices(),
        "共享方式": ShareMethod.choices(),
        "更新周期": UpdateCycle.choices(),
        "安全级别": list(grades),
        "是否": ["是", "否"],
        "数据类型": DataType.choices(),
        "脱敏规则": MaskRule.choices(),
    }


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class CellError:
    """A problem in the workbook: sheet, Excel row (1-based, the header is row 1), column header."""

    sheet: str | None
    row: int | None
    column: str | None
    message: str

    @property
    def field(self) -> str:
        if self.sheet is None:
            return "文件"
        text = f"「{self.sheet}」"
        if self.row is not None:
            text += f"第 {self.row} 行"
        if self.column is not None:
            text += f"「{self.column}」" if self.row is not None else f"「{self.column}」列"
        return text

    def to_field_error(self) -> FieldError:
        return FieldError(self.field, self.message)

    def __str__(self) -> str:
        return f"{self.field}：{self.message}"


class ErrorList:
    """Errors in the order found, at most one per cell (the first is the one to fix), at most `limit`."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.limit = limit
        self._errors: list[CellError] = []
        self._cells: set[tuple[str | None, int | None, str | None]] = set()
        self.dropped = 0

    def add(self, error: CellError) -> None:
        cell = (error.sheet, error.row, error.column)
        if error.column is not None and cell in self._cells:
            return
        if len(self._errors) >= self.limit:
            self.dropped += 1
            return
        self._cells.add(cell)
        self._errors.append(error)

    def extend(self, errors: Iterable[CellError]) -> None:
        for error in errors:
            self.add(error)

    def __len__(self) -> int:
        return len(self._errors) + self.dropped

    def __bool__(self) -> bool:
        return len(self) > 0

    def as_list(self) -> list[CellError]:
        """The errors in reading order: the file, then each sheet row by row, column by column."""
        ordered = sorted(self._errors, key=_reading_order)
        if not self.dropped:
            return ordered
        note = CellError(None, None, None, f"另有 {self.dropped} 处错误未列出，请先修正以上错误后重新导入")
        return [*ordered, note]


_SHEET_ORDER: dict[str | None, int] = {None: 0, RESOURCES: 1, ITEMS: 2}
_COLUMN_ORDER: dict[tuple[str | None, str | None], int] = {
    (sheet, c.header): i
    for sheet, columns in ((RESOURCES, RESOURCE_COLUMNS), (ITEMS, ITEM_COLUMNS))
    for i, c in enumerate(columns)
}


def _reading_order(error: CellError) -> tuple[int, int, int]:
    return (
        _SHEET_ORDER.get(error.sheet, 3),
        error.row or 0,
        _COLUMN_ORDER.get((error.sheet, error.column), -1),
    )


# ---------------------------------------------------------------- reading cells


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number_text(value: float) -> str | None:
    """An integral number as digits, or None."""
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return str(int(value))


def _text(value: object) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return _number_text(value) or str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _code(value: object, digits: int | None) -> str:
    """A code cell. Excel turns 01 typed into a General cell into the number 1: numbers get their leading
    zeros back to the column's width (项 1 → "01", 目 1.0 → "001")."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
        if text is None or value < 0:
            raise ValueError("应为数字代码（不能有小数或负号），建议把单元格设为文本格式")
        return text.zfill(digits) if digits else text
    return _text(value) or ""


def _int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("应为正整数")
    text = _number_text(value) if isinstance(value, int | float) else str(value).strip()
    if text is None or not re.fullmatch(r"\d{1,9}", text):
        raise ValueError("应为正整数")
    return int(text)


_TRUE = {"是", "true", "yes", "y", "1", "√", "t"}
_FALSE = {"否", "false", "no", "n", "0", "×", "f"}


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value) or ""
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"“{text}”应为“是”或“否”")


_SEPARATORS = re.compile(r"[,，、;；\s]+")


def _list(value: object) -> list[str]:
    text = _text(value)
    return [part for part in _SEPARATORS.split(text) if part] if text else []


def _convert(column: Column, value: object) -> Any:
    """The cell's value for the definition; raises ValueError with a Chinese message."""
    if column.kind in ("key", "text", "enum"):
        return _text(value)
    if column.kind == "code":
        return _code(value, column.digits)
    if column.kind in ("int", "seq"):
        return _int(value)
    if column.kind == "bool":
        return _bool(value)
    return _list(value)


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value


def _header_name(value: object) -> str:
    """A header as written, tolerating a required mark (*) and a hint: 资源分类(基础/主题/部门)."""
    text = _text(value) or ""
    text = re.sub(r"[（(][^（()）]*[)）]\s*$", "", text).strip()
    return text.strip("*＊ ").strip()


# ---------------------------------------------------------------- the parsed workbook


@dataclass
class SheetEntry:
    """One resource read from the workbook, with the rows it came from (to put errors back on cells)."""

    key: str
    row: int
    definition: dict[str, Any]
    item_rows: list[int] = field(default_factory=list)


@dataclass
class ParsedWorkbook:
    entries: list[SheetEntry]
    errors: ErrorList
    readable: bool = True  # False when the file is not a workbook at all

    @property
    def definitions(self) -> list[dict[str, Any]]:
        return [entry.definition for entry in self.entries]


def _unreadable(message: str) -> ParsedWorkbook:
    errors = ErrorList()
    errors.add(CellError(None, None, None, message))
    return ParsedWorkbook([], errors, readable=False)


def _check_container(data: bytes) -> str | None:
    """Why `data` cannot be an .xlsx file we are willing to open, or None."""
    if not data:
        return "文件为空"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 格式后再导入"
    if data[:4] != b"PK\x03\x04":
        return "不是有效的 Excel（.xlsx）文件，请使用平台提供的目录编制模板"
    try:  # sizes, entry count and ratio from the central directory, then every entry unpacked and counted
        check_workbook(data, node_limits().at_most(MAX_UNCOMPRESSED_BYTES, MAX_ZIP_ENTRIES))
    except WorkbookRefused as exc:
        return exc.message
    return None


def _rows(sheet: Any, columns: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=columns, values_only=True), start=2):
        yield number, tuple(values)


def _header_positions(
    sheet: Any, name: str, columns: Sequence[Column], errors: ErrorList
) -> dict[str, int] | None:
    first = next(sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_HEADER_COLUMNS, values_only=True), ())
    known = {c.header for c in columns}
    positions: dict[str, int] = {}
    for index, raw in enumerate(first):
        header = _header_name(raw)
        if header not in known:
            continue  # a department's own notes column: ignored
        if header in positions:
            errors.add(
                CellError(
                    name, 1, header, f"表头重复（第 {get_column_letter(index + 1)} 列），请删除多余的一列"
                )
            )
            return None
        positions[header] = index
    missing = [c.header for c in columns if c.required and c.header not in positions]
    if not positions:
        errors.add(
            CellError(name, 1, None, "找不到表头：第 1 行应为模板的表头，请使用平台提供的目录编制模板")
        )
        return None
    for header in missing:
        errors.add(CellError(name, 1, header, "缺少此列：请使用平台提供的目录编制模板，不要删除或改名表头"))
    return None if missing else positions


def _read_row(
    sheet_name: str,
    number: int,
    values: tuple[Any, ...],
    columns: Sequence[Column],
    positions: dict[str, int],
    errors: ErrorList,
) -> dict[str, Any] | None:
    """A data row as {header: converted value} (absent when blank), or None for an empty row."""
    raw = {
        c.header: values[positions[c.header]] if positions[c.header] < len(values) else None
        for c in columns
        if c.header in positions
    }
    if all(_is_blank(v) for v in raw.values()):
        return None
    out: dict[str, Any] = {}
    for column in columns:
        value = raw.get(column.header)
        if _is_blank(value):
            if column.required:
                errors.add(CellError(sheet_name, number, column.header, "必填，不能为空"))
            continue
        try:
            converted = _convert(column, value)
        except ValueError as exc:
            errors.add(CellError(sheet_name, number, column.header, str(exc)))
            continue
        if converted not in (None, "", []):
            out[column.header] = converted
    return out


def _definition(cells: dict[str, Any], columns: Sequence[Column], sections: Sequence[str]) -> dict[str, Any]:
    definition: dict[str, Any] = {section: {} for section in sections}
    for column in columns:
        if column.path and column.header in cells:
            _put(definition, column.path, cells[column.header])
    return definition


def _sheet(workbook: Any, name: str) -> Any:
    for title in workbook.sheetnames:
        if title.strip() == name:
            sheet = workbook[title]
            return sheet if hasattr(sheet, "iter_rows") else None
    return None


def read_workbook(data: bytes) -> ParsedWorkbook:
    """Read both sheets into definitions, keeping for each the rows it came from. Never raises on bad
    input: an unreadable file gives `readable=False` and one error."""
    problem = _check_container(data)
    if problem:
        return _unreadable(problem)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises whatever its parsers raise on a malformed file
        return _unreadable("文件已损坏或不是有效的 Excel（.xlsx）文件，请使用平台提供的目录编制模板")
    try:
        return _read(workbook)
    except Exception:  # a malformed part discovered while streaming the rows
        return _unreadable("文件内容已损坏，无法读取，请在 Excel 中打开并重新保存后再导入")
    finally:
        workbook.close()


def _read(workbook: Any) -> ParsedWorkbook:
    errors = ErrorList()
    resource_sheet, item_sheet = _sheet(workbook, RESOURCES), _sheet(workbook, ITEMS)
    for name, sheet in ((RESOURCES, resource_sheet), (ITEMS, item_sheet)):
        if sheet is None:
            errors.add(CellError(name, None, None, f"缺少工作表「{name}」：请使用平台提供的目录编制模板"))
    if resource_sheet is None or item_sheet is None:
        return ParsedWorkbook([], errors)
    resource_positions = _header_positions(resource_sheet, RESOURCES, RESOURCE_COLUMNS, errors)
    item_positions = _header_positions(item_sheet, ITEMS, ITEM_COLUMNS, errors)
    if resource_positions is None or item_positions is None:
        return ParsedWorkbook([], errors)

    entries: dict[str, SheetEntry] = {}
    count = 0
    width = max(resource_positions.values()) + 1
    for number, values in _rows(resource_sheet, width):
        cells = _read_row(RESOURCES, number, values, RESOURCE_COLUMNS, resource_positions, errors)
        if cells is None:
            continue
        count += 1
        if count > MAX_RESOURCES:
            errors.add(
                CellError(RESOURCES, number, None, f"信息资源超过 {MAX_RESOURCES} 行，请拆分为多个文件")
            )
            break
        key = cells.get("资源序号")
        if key is None:
            continue
        if key in entries:
            errors.add(
                CellError(RESOURCES, number, "资源序号", f"资源序号“{key}”与第 {entries[key].row} 行重复")
            )
            continue
        definition = _definition(cells, RESOURCE_COLUMNS, ("classification", "format", "share"))
        entries[key] = SheetEntry(key, number, definition)

    items: dict[str, list[tuple[int | None, int, dict[str, Any]]]] = {}
    count = 0
    width = max(item_positions.values()) + 1
    for number, values in _rows(item_sheet, width):
        cells = _read_row(ITEMS, number, values, ITEM_COLUMNS, item_positions, errors)
        if cells is None:
            continue
        count += 1
        if count > MAX_ITEMS:
            errors.add(CellError(ITEMS, number, None, f"信息项超过 {MAX_ITEMS} 行，请拆分为多个文件"))
            break
        key = cells.get("资源序号")
        if key is None:
            continue
        if key not in entries:
            errors.add(CellError(ITEMS, number, "资源序号", f"资源序号“{key}”在「{RESOURCES}」表中不存在"))
            continue
        items.setdefault(key, []).append((cells.get("序号"), number, _definition(cells, ITEM_COLUMNS, ())))

    for key, entry in entries.items():
        rows = items.get(key, [])
        if not rows:
            errors.add(
                CellError(RESOURCES, entry.row, "资源序号", f"资源序号“{key}”在「{ITEMS}」表中没有信息项")
            )
        elif all(seq is not None for seq, _, _ in rows):
            seen: dict[int | None, int] = {}
            for seq, number, _ in rows:
                if seq in seen:
                    errors.add(CellError(ITEMS, number, "序号", f"序号 {seq} 与第 {seen[seq]} 行重复"))
                seen.setdefault(seq, number)
            rows = sorted(rows, key=lambda r: (r[0] or 0, r[1]))
        entry.definition["items"] = [item for _, _, item in rows]
        entry.item_rows = [number for _, number, _ in rows]

    if not entries and not errors:
        errors.add(CellError(RESOURCES, None, None, "没有填写任何信息资源"))
    return ParsedWorkbook(list(entries.values()), errors)


def parse_workbook(data: bytes) -> tuple[list[dict[str, Any]], list[CellError]]:
    """Both sheets as definition dicts (the shape `ResourceDefinition.model_validate` accepts) and the
    structural errors found, each with sheet, row and column."""
    parsed = read_workbook(data)
    return parsed.definitions, parsed.errors.as_list()


# ---------------------------------------------------------------- errors back onto cells


def locate(entry: SheetEntry, loc: Sequence[str | int]) -> tuple[str, int, str | None]:
    """The (sheet, row, column header) of a location in `entry`'s definition."""
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int) and 0 <= loc[1] < len(entry.item_rows):
        rest = [part for part in loc[2:] if isinstance(part, str)]
        return ITEMS, entry.item_rows[loc[1]], _ITEM_BY_PATH.get(rest[0]) if rest else None
    names = [part for part in loc if isinstance(part, str)]
    while names:
        header = _RESOURCE_BY_PATH.get(".".join(names))
        if header:
            return RESOURCES, entry.row, header
        names.pop()
    return RESOURCES, entry.row, None


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_location(path: str) -> list[str | int]:
    """`items[2].share` → ["items", 2, "share"]."""
    return [int(index) if index else name for name, index in _SEGMENT.findall(path)]


def cell_error(entry: SheetEntry, path: str, message: str) -> CellError:
    """An error on a definition path (as `rules.check` and `content.normalize` name them) on its cell."""
    sheet, row, column = locate(entry, path_location(path))
    return CellError(sheet, row, column, message)


def apply_errors(entries: Sequence[SheetEntry], errors: Iterable[FieldError]) -> list[CellError]:
    """Errors of `service.apply_definitions` (`resources[i].…`, i indexing `entries`) on their cells."""
    out = []
    for error in errors:
        loc = path_location(error.field)
        if len(loc) >= 2 and loc[0] == "resources" and isinstance(loc[1], int) and loc[1] < len(entries):
            out.append(cell_error(entries[loc[1]], error.field.partition(".")[2], error.message))
        else:
            out.append(CellError(None, None, None, f"{error.field}：{error.message}"))
    return out


def validation_errors(entry: SheetEntry, exc: ValidationError) -> list[CellError]:
    """`ResourceDefinition.model_validate` errors on the cells they came from."""
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error.get("loc", ()))
        sheet, row, column = locate(entry, loc)
        message = validation_message(error, pattern_hint=_PATTERN_HINTS.get(column or ""))
        if loc == ("items",) and error.get("type") == "too_long":
            message = f"一个信息资源最多 {error.get('ctx', {}).get('max_length')} 个信息项"
        if loc == ("items",) and error.get("type") == "too_short":
            column, message = "资源序号", f"资源序号“{entry.key}”在「{ITEMS}」表中没有信息项"
        out.append(CellError(sheet, row, column, message))
    return out


# ---------------------------------------------------------------- building the template


_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_FONT = Font(bold=True, color="1F3864")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_WRAP = Alignment(wrap_text=True, vertical="center")


def _cell_value(column: Column, value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "list":
        return "、".join(str(v) for v in value)
    if column.path == "type" and value in {t.value for t in DataType}:
        return DataType(value).label  # the export carries the letter code; the sheet shows the label
    if column.kind == "code":
        return str(value)
    return value


def _get(definition: dict[str, Any], path: str) -> Any:
    value: Any = definition
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _data_row(sheet: Any, columns: Sequence[Column], values: Sequence[Any]) -> list[Any]:
    """Cells of one row. Text stays text: code columns are text-formatted, and a value that looks like a
    formula (=…) is written as a string, never as a formula Excel would evaluate."""
    row: list[Any] = []
    for column, value in zip(columns, values, strict=True):
        text_format = column.kind in ("code", "list")
        if value is None or not (text_format or isinstance(value, str)):
            row.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.data_type = "s"
        if text_format:
            cell.number_format = "@"
        row.append(cell)
    return row


def _setup_sheet(
    sheet: Any, columns: Sequence[Column], lists: dict[str, str], max_rows: int, freeze: str
) -> None:
    """Widths, text format for code columns, a frozen header, drop-downs and hints, then the header row.
    (A write-only sheet takes its column settings before the first row.)"""
    last = max_rows + 1
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.kind in ("code", "list"):
            dimension.number_format = "@"  # 类/项/目 keep their leading zeros as typed
        validation = _validation(column, lists)
        validation.add(f"{letter}2:{letter}{last}")
        sheet.data_validations.append(validation)
    sheet.freeze_panes = freeze
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        header.append(cell)
    sheet.append(header)


def _validation(column: Column, lists: dict[str, str]) -> DataValidation:
    prompt = ("必填。" if column.required else "") + column.help
    if column.choices:
        reference = lists[column.choices]
        validation = DataValidation(
            type="list",
            formula1=reference,
            allow_blank=True,
            showErrorMessage=not column.multiple,  # 共享方式: pick one, or type several
            errorTitle="取值无效",
            error=f"请从下拉列表中选择{column.header}",
        )
    elif column.kind in ("int", "seq"):
        validation = DataValidation(
            type="whole",
            operator="between",
            formula1="1",
            formula2="1000000",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="取值无效",
            error=f"{column.header}应为正整数",
        )
    else:
        validation = DataValidation(type=None, allow_blank=True)
    validation.showInputMessage = True
    validation.promptTitle = column.header[:32]
    validation.prompt = prompt[:255]
    return validation


def _lists_sheet(workbook: Any, grades: Sequence[str]) -> dict[str, str]:
    """The drop-down lists on a hidden sheet (inline lists are limited to 255 characters)."""
    sheet = workbook.create_sheet(LISTS)
    sheet.sheet_state = "hidden"
    lists = _choice_lists(grades)
    names = list(lists)
    longest = max(len(v) for v in lists.values())
    sheet.append(names)
    for index in range(longest):
        sheet.append([values[index] if index < len(values) else None for values in lists.values()])
    return {
        name: f"'{LISTS}'!${get_column_letter(i)}$2:${get_column_letter(i)}${len(lists[name]) + 1}"
        for i, name in enumerate(names, start=1)
    }


def _help_sheet(workbook: Any, grades: Sequence[str]) -> None:
    sheet = workbook.create_sheet(HELP)
    for letter, width in zip("ABCD", (12, 18, 8, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    title = WriteOnlyCell(sheet, value="政务信息资源目录编制模板 · 填写说明")
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    megabytes = MAX_UPLOAD_BYTES // 1024 // 1024
    notes = [
        "1. 本模板有「信息资源」「信息项」两张表，每行一个信息资源或信息项；"
        "信息项以「资源序号」对应所属的信息资源。",
        "2. 第 1 行是表头，请勿修改、删除；列的顺序可以调整，可以在最右侧增加备注列（导入时忽略）。",
        "3. 红色表头为必填列；带下拉箭头的列请从列表中选择。"
        "共享方式、关联资源代码可填多个，用顿号“、”或逗号分隔。",
        "4. 类、项、目、细目是数字代码，已设为文本格式，请保留前导零（项 2 位，如 01；目 3 位，如 001）。",
        "5. 信息资源代码：新资源不填，首次发布时由平台生成。"
        "修改已发布的资源时，请在导出的文件上修改并保留代码。",
        "6. 导入时逐行校验，全部通过才写入；有任何错误则整份文件不导入，"
        "每处错误以「表名」第 N 行「列名」列出。",
        "7. 同一文件可以重复导入：按信息资源代码识别，没有代码时按提供方与信息资源名称识别，"
        "内容未变的不产生新版本。",
        f"8. 本辖区的安全级别（从低到高）：{'、'.join(grades)}。",
        f"9. 一个文件最多 {MAX_RESOURCES} 个信息资源、{MAX_ITEMS} 个信息项，文件不超过 {megabytes} MB。",
    ]
    for note in notes:
        sheet.append([None, note])
    sheet.append([])
    header = []
    for text in ("工作表", "列名", "必填", "说明与取值"):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    lists = _choice_lists(grades)
    for sheet_name, columns in ((RESOURCES, RESOURCE_COLUMNS), (ITEMS, ITEM_COLUMNS)):
        for column in columns:
            text = column.help
            if column.choices and column.choices != "是否":
                text += "。可选值：" + "、".join(lists[column.choices])
            sheet.append([sheet_name, column.header, "是" if column.required else "", text])


def build_template(definitions: list[dict[str, Any]], grades: list[str]) -> bytes:
    """The template as .xlsx bytes; with `definitions` (as `service.export_definitions` returns them) it
    is filled with them, one 资源序号 per definition: that is the export."""
    workbook = Workbook(write_only=True)
    resources = workbook.create_sheet(RESOURCES)
    items = workbook.create_sheet(ITEMS)
    _help_sheet(workbook, grades)
    lists = _lists_sheet(workbook, grades)
    _setup_sheet(resources, RESOURCE_COLUMNS, lists, MAX_RESOURCES, "C2")
    _setup_sheet(items, ITEM_COLUMNS, lists, MAX_ITEMS, "D2")
    for number, definition in enumerate(definitions, start=1):
        values = [
            number if column.kind == "key" else _cell_value(column, _get(definition, column.path))
            for column in RESOURCE_COLUMNS
        ]
        resources.append(_data_row(resources, RESOURCE_COLUMNS, values))
        for position, item in enumerate(definition.get("items", []), start=1):
            item_values = [
                number
                if column.kind == "key"
                else position
                if column.kind == "seq"
                else _cell_value(column, item.get(column.path))
                for column in ITEM_COLUMNS
            ]
            items.append(_data_row(items, ITEM_COLUMNS, item_values))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
