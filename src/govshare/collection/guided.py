"""Guided registration of a file source (引导登记), the domain part: reading a sample file's header and first
rows, pre-selecting the source column of each catalog item, reading value maps ("0=1, 1=2") and building the
mapping (YAML) from the choices. Pure functions: nothing here opens a session or checks a permission.

The guarded actions that use them (the sample read for a resource the actor may collect into, the code sets
of its items) are in `guided_service.py`; the portal's two-step form (`portal/guided.py`) and the API's
`POST /api/v1/collection/guided-sample` call those. The mapping built here is registered through
`service.register_source`, which checks it against the catalog as it checks a pasted one.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import GeneratorType
from typing import IO, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from govshare.catalog.vocabulary import DataType
from govshare.collection.readers import ORD, ReaderOptions, SourceUnreadable, open_file
from govshare.standards.validators import CodeTable, in_code_set

# The sample file's extension → the kind of source registered (the same names as the YAML's source.kind).
SAMPLE_KINDS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
SampleKind = Literal["csv", "tsv", "xlsx", "xls", "json", "ndjson"]
LINE_KINDS = ("csv", "tsv", "ndjson")  # a record per line: a head of the file is a smaller file of the kind
SAMPLE_ROWS = 5
SAMPLE_HEAD_BYTES = 1 << 20  # of a line-based sample, only this much is read (whole lines)
MAX_COLUMNS = 500
MAX_COLUMN_CHARS = 200
SHOWN_CHARS = 60  # a sample value is shown (and carried to step 2) cut to this many characters
CODE_HINTS = 12  # codes listed beside a value map
MAX_MAP_ENTRIES = 200
_MAP_SEPARATORS = re.compile(r"[,，;；、\n]+")


# ---------------------------------------------------------------- the sample


class Sample(BaseModel):
    """What was read from the sample: its kind, name, encoding, columns and first rows.

    The portal's step 2 carries it in one hidden form field (JSON) rather than keeping the file on the node:
    it is small (at most SAMPLE_ROWS rows, values cut to SHOWN_CHARS), nothing is left behind when a person
    abandons step 2, and nothing in it is trusted. The column names only become `from:` entries of a
    mapping that `service.register_source` checks as it checks a pasted one, and the values are only shown
    (escaped). A forged field can do no more than a person typing YAML into the other form.
    """

    model_config = ConfigDict(extra="forbid")

    kind: SampleKind
    file: str = Field(max_length=255)
    encoding: str | None = Field(None, max_length=32)
    columns: list[str] = Field(min_length=1, max_length=MAX_COLUMNS)
    rows: list[list[str | None]] = Field(default_factory=list, max_length=SAMPLE_ROWS)

    @model_validator(mode="after")
    def _shape(self) -> Sample:
        if any(len(c) > MAX_COLUMN_CHARS for c in self.columns):
            raise ValueError(f"列名不能超过 {MAX_COLUMN_CHARS} 个字符")
        if any(len(row) != len(self.columns) for row in self.rows):
            raise ValueError("样例行的列数与表头不符")
        if any(v is not None and len(v) > SHOWN_CHARS + 1 for row in self.rows for v in row):
            raise ValueError("样例值过长")
        return self

    def values(self, column: str) -> list[str]:
        """The non-blank sample values of `column`, in row order."""
        if column not in self.columns:
            return []
        index = self.columns.index(column)
        return [v for row in self.rows if (v := row[index]) is not None and v.strip()]


def sample_kind(filename: str) -> str | None:
    """The kind of source a sample file of this name registers (by its extension), or None."""
    return SAMPLE_KINDS.get(Path(filename).suffix.lower())


def expected_headers(items: list[dict[str, Any]]) -> list[str]:
    """What a header row holds: each item's Chinese name and field code (to find the header row)."""
    return [text for item in items for text in (item["name"], item["field"])]


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def _copy_sample(upload: IO[bytes], target: IO[bytes], kind: str) -> None:
    """The upload, or for a line-based kind only its first SAMPLE_HEAD_BYTES cut after the last whole
    line (a GBK or UTF-8 character never contains the byte \\n), so the reader parses no more than that."""
    upload.seek(0)
    if kind not in LINE_KINDS:
        shutil.copyfileobj(upload, target)
        return
    head = upload.read(SAMPLE_HEAD_BYTES)
    if upload.read(1):
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut >= 0 else head
    target.write(head)


def read_sample(file: IO[bytes], filename: str, kind: str, expected: list[str], work_dir: Path) -> Sample:
    """The sample's columns and first SAMPLE_ROWS rows, read by the collection readers: the encoding is
    detected and the header row found (the row holding most of `expected`, the items' names and field
    codes) as a batch would, and a workbook passes the same unpacking limits (`core.archives`, checked by the
    Excel reader before it unpacks anything). The first chunk is taken and the reader closed; no row is
    looked at in Python beyond those. A CSV/TSV/NDJSON sample is cut to its first SAMPLE_HEAD_BYTES before
    reading; a workbook (calamine loads whole sheets) or a JSON document (it cannot be cut) is parsed whole,
    within the caller's upload cap. The copy read lives only during this call. Raises SourceUnreadable."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", suffix=f".{kind}", dir=work_dir, delete=False) as handle:
        _copy_sample(file, handle, kind)
    path = Path(handle.name)
    try:
        # `expected` finds a CSV or sheet header; the JSON readers would add it to the keys they find
        wanted = [] if kind in ("json", "ndjson") else expected
        options = ReaderOptions(expected_columns=wanted, chunk_rows=SAMPLE_ROWS, scratch_dir=work_dir)
        reader = open_file(path, kind, options)
        chunks = reader.chunks()
        try:
            first = next(chunks, None)
        finally:
            if isinstance(chunks, GeneratorType):
                chunks.close()  # the reader's staging database is removed now
        columns = list(reader.columns)
        encoding = reader.encoding
    except SourceUnreadable as exc:  # the reader names the copy; the person knows the file by its own name
        shown = Path(filename).name or "样例文件"
        message = exc.message.replace(str(path), shown).replace(path.name, shown)
        # a reader's staging files live under the work directory too: never show the node's paths
        message = re.sub(re.escape(str(work_dir)) + r"[^\s\"']*", shown, message)
        raise SourceUnreadable(message) from None
    finally:
        path.unlink(missing_ok=True)
    if not columns:
        raise SourceUnreadable(f"文件 {filename} 没有可用的列")
    if len(columns) > MAX_COLUMNS:
        raise SourceUnreadable(f"文件 {filename} 有 {len(columns)} 列，超过 {MAX_COLUMNS} 列的上限")
    rows = [] if first is None else first.drop(ORD).select(columns).head(SAMPLE_ROWS).rows()
    try:
        return Sample(
            kind=kind,
            file=filename[-255:],
            encoding=encoding,
            columns=columns,
            rows=[[_shown(v) for v in row] for row in rows],
        )
    except ValidationError:
        raise SourceUnreadable(
            f"文件 {filename} 的表头无法识别（列名不能超过 {MAX_COLUMN_CHARS} 个字符）"
        ) from None


# ---------------------------------------------------------------- choosing columns


def _comparable(text: str) -> str:
    """A header or item name compared for pre-selection: NFKC, without any whitespace, case folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def preselect(items: list[dict[str, Any]], columns: list[str]) -> dict[str, str]:
    """Item field → the sample column whose header is the item's Chinese name or its field code; a column
    is pre-selected for one item at most."""
    by_text: dict[str, str] = {}
    for column in columns:
        by_text.setdefault(_comparable(column), column)
    chosen: dict[str, str] = {}
    for item in items:
        for candidate in (item["name"], item["field"]):
            found = by_text.get(_comparable(candidate))
            if found is not None and found not in chosen.values():
                chosen[item["field"]] = found
                break
    return chosen


@dataclass
class ItemRow:
    """One catalog item with what the person chose for it: its source column and value map."""

    field: str
    name: str
    type_label: str
    key: bool
    required: bool  # a key item, or one the catalog says may not be empty
    code_table: CodeTable | None
    column: str = ""  # the chosen sample column; "" for none
    value_map: str = ""  # as typed
    values: list[str] = dataclasses.field(default_factory=list)  # the chosen column's sample values
    error: str | None = None
    map_error: bool = False  # the error is about the value map, not the column

    @property
    def label(self) -> str:
        return f"{self.name}（{self.field}）"

    @property
    def code_hint(self) -> str:
        if self.code_table is None:
            return ""
        codes = list(self.code_table.codes.items())
        shown = "、".join(f"{code} {label}" for code, label in codes[:CODE_HINTS])
        return f"{self.code_table.name}：{shown}{'……' if len(codes) > CODE_HINTS else ''}"


def _type_label(letter: str) -> str:
    try:
        return DataType(letter).label
    except ValueError:
        return letter


def item_rows(
    items: list[dict[str, Any]],
    sample: Sample,
    choices: dict[str, str] | None,
    maps: dict[str, str],
    code_table: Callable[[str], CodeTable | None],
) -> list[ItemRow]:
    """One row per catalog item; `choices` None on the first showing (then pre-selected). `code_table`
    gives the code set an item's standard names (None for none); it is asked once per standard."""
    chosen = preselect(items, sample.columns) if choices is None else choices
    tables: dict[str, CodeTable | None] = {}  # items often share a standard (GB/T 2260 three times)
    rows = []
    for item in items:
        standard = item.get("standard") or ""
        if standard not in tables:
            tables[standard] = code_table(standard)
        row = ItemRow(
            field=item["field"],
            name=item["name"],
            type_label=_type_label(item.get("type", "")),
            key=bool(item.get("key")),
            required=bool(item.get("key")) or item.get("nullable") is False,
            code_table=tables[standard],
            column=chosen.get(item["field"], ""),
        )
        if row.code_table is not None:
            row.value_map = maps.get(row.field, "")
        row.values = sample.values(row.column)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- the mapping


def parse_value_map(text: str, table: CodeTable | None) -> dict[str, str]:
    """A value map written as "0=1, 1=2" (来源值=标准代码; entries separated by commas, semicolons, 、 or
    new lines). A target must be in the code set as the `code` validator reads it (a code, its name or
    short name). Raises ValueError with the Chinese reason."""
    result: dict[str, str] = {}
    for raw in _MAP_SEPARATORS.split(text):
        entry = raw.strip()
        if not entry:
            continue
        source, sep, target = entry.replace("＝", "=").partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source or not target or "=" in target:
            raise ValueError(f"“{entry}”格式不正确，应写作“来源值=标准代码”，多项用逗号分隔，如“0=1, 1=2”")
        if result.get(source, target) != target:
            raise ValueError(f"来源值“{source}”对应了两个代码（{result[source]} 和 {target}）")
        if table is not None and not in_code_set(target, table).ok:
            raise ValueError(f"“{target}”{table.message()}")
        result[source] = target
    if len(result) > MAX_MAP_ENTRIES:
        raise ValueError(f"值映射最多 {MAX_MAP_ENTRIES} 项")
    return result


def build_mapping(rows: list[ItemRow], sample: Sample, allow_shared: bool) -> str | None:
    """The mapping (YAML) of the chosen columns, or None with an error put on each row that has one."""
    columns: dict[str, Any] = {}
    users: dict[str, list[ItemRow]] = {}
    for row in rows:
        if not row.column:
            if row.required:
                what = "主键信息项" if row.key else "必填信息项（目录中不可为空）"
                row.error = f"{what}，须选择对应的列"
            continue
        if row.column not in sample.columns:
            row.error = f"所选的列“{row.column}”不在样例文件中，请重新选择"
            continue
        if (
            row.column != row.column.strip()
        ):  # a mapping's column names are read trimmed: it would never match
            row.error = (
                f"来源列“{row.column}”的名称首尾有空格，映射无法引用它；请去掉文件中该键名的空格后重新上传"
            )
            continue
        users.setdefault(row.column, []).append(row)
        try:
            value_map = parse_value_map(row.value_map, row.code_table) if row.code_table else {}
        except ValueError as exc:
            row.error, row.map_error = f"值映射：{exc}", True
            continue
        columns[row.field] = {"from": row.column, "map": value_map} if value_map else row.column
    if not allow_shared:
        for column, sharing in users.items():
            if len(sharing) > 1:
                names = "、".join(r.label for r in sharing)
                for row in sharing:
                    row.error = row.error or (
                        f"来源列“{column}”同时对应了 {names}；一列只能对应一个信息项"
                        "（确需如此，请勾选“允许一列对应多个信息项”）"
                    )
    if any(row.error for row in rows):
        return None
    if not columns:
        rows[0].error = "至少为一个信息项选择对应的列"
        return None
    source: dict[str, Any] = {"kind": sample.kind}
    if sample.kind not in ("xlsx", "xls"):  # text: UTF-8 or GBK/GB18030, detected per file
        source["encoding"] = "auto"
    data = {"source": source, "mode": "full", "columns": columns}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
