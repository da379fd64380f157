"""Portal pages: 引导登记文件型数据源, registering a file source without writing YAML.

A 数据管理员 who is not a programmer registers a CSV, Excel or JSON source in two steps:

1. `GET /collection/sources/guided`: the target resource, the source's name and update cycle, and a sample
   file. Its POST reads the sample's header and first rows with the collection readers (the same encoding
   detection and header search as a batch) and answers with step 2.
2. One row per catalog item of the resource: a <select> of the sample's columns (pre-selected when a header
   is the item's Chinese name or its field code, spaces and case ignored), the first sample values of the
   chosen column, and, for items bound to a code set, a value map ("0=1, 1=2": 来源值=标准代码). Its POST
   builds the mapping and registers it through `service.register_source`, the call the YAML form
   (sources.source_create) makes, so the mapping is checked against the catalog the same way.

Database and push sources keep the YAML form. The package's `__init__.py` puts these routes ahead of
`/collection/sources/{source_id}`, which would otherwise take "guided" for a source id.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FilePath
from types import GeneratorType
from typing import IO, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from govshare.auth.actor import Actor
from govshare.catalog.schemas import ResourceOut
from govshare.catalog.vocabulary import DataType
from govshare.collection import service
from govshare.collection.plan import STANDARD_VALIDATORS
from govshare.collection.policies import RUN
from govshare.collection.portal.common import FIELD_LABELS, KINDS, collectable_resources, cycle_label
from govshare.collection.portal.uploads import CAPPED_FORM, MAX_UPLOAD_BYTES, uploaded_file
from govshare.collection.readers import ORD, ReaderOptions, SourceUnreadable, open_file
from govshare.collection.schemas import SourceCreate
from govshare.collection.service import CYCLES
from govshare.errors import Conflict, GovshareError, InvalidInput, NotFound
from govshare.models import CodeSet
from govshare.standards import service as standards
from govshare.standards.validators import CodeTable, in_code_set
from govshare.web import forms
from govshare.web.deps import DB_SESSION, database, require
from govshare.web.forms import check_csrf, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

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
MAX_FIELDS = 20 + 2 * 500  # step 2: a column and a value map per catalog item (at most 500 items)
ENCODINGS = {"gb18030": "GBK / GB18030", "utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）"}
_MAP_SEPARATORS = re.compile(r"[,，;；、\n]+")


# ---------------------------------------------------------------- the sample


class Sample(BaseModel):
    """What step 1 read from the sample: its kind, name, encoding, columns and first rows.

    Step 2 carries it in one hidden form field (JSON) rather than keeping the file on the node: it is small
    (at most SAMPLE_ROWS rows, values cut to SHOWN_CHARS), nothing is left behind when a person abandons
    step 2, and nothing in it is trusted. The column names only become `from:` entries of a mapping that
    `service.register_source` checks as it checks a pasted one, and the values are only shown (escaped).
    A forged field can do no more than a person typing YAML into the other form.
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


def read_sample(upload: UploadFile, kind: str, expected: list[str], work_dir: FilePath) -> Sample:
    """The sample's columns and first SAMPLE_ROWS rows, read by the collection readers: the encoding is
    detected and the header row found (the row holding most of `expected`, the items' names and field
    codes) as a batch would. The first chunk is taken and the reader closed; no row is looked at in Python
    beyond those. A CSV/TSV/NDJSON sample is cut to its first SAMPLE_HEAD_BYTES before reading; a workbook
    (calamine loads whole sheets) or a JSON document (it cannot be cut) is parsed whole, within the upload
    cap. The copy read lives only during this call. Raises SourceUnreadable."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", suffix=f".{kind}", dir=work_dir, delete=False) as handle:
        _copy_sample(upload.file, handle, kind)
    path = FilePath(handle.name)
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
        shown = FilePath(upload.filename or "").name or "样例文件"
        message = exc.message.replace(str(path), shown).replace(path.name, shown)
        # a reader's staging files live under the work directory too: never show the node's paths
        message = re.sub(re.escape(str(work_dir)) + r"[^\s\"']*", shown, message)
        raise SourceUnreadable(message) from None
    finally:
        path.unlink(missing_ok=True)
    if not columns:
        raise SourceUnreadable(f"文件 {upload.filename} 没有可用的列")
    if len(columns) > MAX_COLUMNS:
        raise SourceUnreadable(f"文件 {upload.filename} 有 {len(columns)} 列，超过 {MAX_COLUMNS} 列的上限")
    rows = [] if first is None else first.drop(ORD).select(columns).head(SAMPLE_ROWS).rows()
    try:
        return Sample(
            kind=kind,
            file=(upload.filename or "")[-255:],
            encoding=encoding,
            columns=columns,
            rows=[[_shown(v) for v in row] for row in rows],
        )
    except ValidationError:
        raise SourceUnreadable(
            f"文件 {upload.filename} 的表头无法识别（列名不能超过 {MAX_COLUMN_CHARS} 个字符）"
        ) from None


def _carried_sample(text: str) -> Sample | None:
    try:
        return Sample.model_validate_json(text)
    except ValidationError:
        return None


# ---------------------------------------------------------------- catalog items and the mapping rows


def _items(resource: ResourceOut) -> list[dict[str, Any]]:
    return list(resource.current.definition["items"]) if resource.current else []


def _code_table(session: Session, actor: Actor, standard: str | None) -> CodeTable | None:
    """The code set an item's standard names (directly, or through a data element), as the `code`
    validator reads it; None for an item bound to no code set (GB 11643 and GB 32100 name validators)."""
    reference = (standard or "").strip()
    if not reference or reference in STANDARD_VALIDATORS:
        return None
    found = standards.resolve_standard_ref(session, actor, reference)
    code_set = found if isinstance(found, CodeSet) else getattr(found, "code_set", None)
    if not isinstance(code_set, CodeSet):
        return None
    try:
        return standards.code_table(session, actor, code_set.code, include_abolished=True)
    except GovshareError:  # no version in force: the item can still be mapped, without a value map
        return None


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
    """One catalog item on step 2, with what the person chose for it."""

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
    session: Session,
    actor: Actor,
    resource: ResourceOut,
    sample: Sample,
    choices: dict[str, str] | None,
    maps: dict[str, str],
) -> list[ItemRow]:
    """The rows of step 2; `choices` None on the first showing (then pre-selected)."""
    items = _items(resource)
    chosen = preselect(items, sample.columns) if choices is None else choices
    tables: dict[str, CodeTable | None] = {}  # items often share a standard (GB/T 2260 three times)
    rows = []
    for item in items:
        standard = item.get("standard") or ""
        if standard not in tables:
            tables[standard] = _code_table(session, actor, standard)
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


# ---------------------------------------------------------------- pages


async def _posted_form(request: Request) -> FormData:
    """Step 2 as posted (urlencoded; a column and a value map per item, so more fields than Starlette's
    default). A body that is not such a form (a file in it, too many fields) reads as empty, which the
    CSRF check then refuses."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS)
    except (MultiPartException, StarletteHTTPException):
        return FormData()


POSTED: Any = Depends(_posted_form)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _settings(form: FormData) -> dict[str, str]:
    return {name: _text(form, name).strip() for name in ("resource", "name", "update_cycle")}


def _settings_problem(values: dict[str, str], resource: ResourceOut | None) -> str | None:
    """What is wrong with step 1's resource, name and cycle (checked before the sample is read)."""
    if resource is None:
        return "请选择目标信息资源（本部门已发布的资源）"
    if values["update_cycle"] and values["update_cycle"] not in CYCLES:
        return "更新周期无效，请重新选择"
    try:
        SourceCreate(resource=values["resource"], name=values["name"], mapping="-")
    except ValidationError as exc:
        return _explain(exc)
    return None


def _label(rows: list[ItemRow]) -> Callable[[str], str]:
    """Chinese names for the fields a refusal names: an item's name for `columns.<field>…`."""
    names = {r.field: r.label for r in rows}
    labels = {**FIELD_LABELS, "key": "主键", "cursor": "游标", "columns": "对应列"}

    def label(name: str) -> str:
        parts = name.split(".")
        if parts[0] == "columns" and len(parts) > 1 and parts[1] in names:
            return names[parts[1]]
        return labels.get(name, labels.get(parts[0], name))

    return label


def _explain(exc: Exception, rows: list[ItemRow] | None = None) -> str:
    return forms.explain(exc, _label(rows or []))


def _start_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "collection_source_guided.html",
        actor,
        status=status,
        error=error,
        values=values or {},
        resources=collectable_resources(session, actor),
        cycles=[(c, cycle_label(c)) for c in CYCLES],
        accept=",".join(SAMPLE_KINDS),
        suffixes="、".join(SAMPLE_KINDS),
        max_mb=MAX_UPLOAD_BYTES // 1024 // 1024,
        sample_rows=SAMPLE_ROWS,
    )


@dataclass
class Step2:
    """What step 2 shows besides its rows."""

    resource: ResourceOut
    values: dict[str, str]
    sample: Sample
    allow_shared: bool = False
    errors: list[str] = dataclasses.field(default_factory=list)  # else each row's error is listed


def _mapping_page(
    request: Request, actor: Actor, step: Step2, rows: list[ItemRow], *, status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "collection_source_guided_map.html",
        actor,
        status=status,
        step=step,
        rows=rows,
        sample=step.sample,
        sample_json=step.sample.model_dump_json(),
        kind_label=KINDS.get(step.sample.kind, step.sample.kind),
        encoding_label=ENCODINGS.get(step.sample.encoding or "", step.sample.encoding),
        cycle_label=cycle_label,
        errors=step.errors or [f"{r.label}：{r.error}" for r in rows if r.error],
    )


@router.get("/collection/sources/guided", response_class=HTMLResponse)
def guided_start(
    request: Request, session: Session = DB_SESSION, actor: Actor = require(RUN)
) -> HTMLResponse:
    """Step 1: the resource, the name, the update cycle and a sample file."""
    return _start_page(request, session, actor)


@router.post("/collection/sources/guided", response_class=HTMLResponse)
def guided_sample(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    form: FormData = CAPPED_FORM,
) -> HTMLResponse:
    """Step 1 submitted: read the sample's header and first rows, answer with step 2."""
    check_csrf(request, form.get("csrf_token"))
    values = _settings(form)
    resource = next((r for r in collectable_resources(session, actor) if r.code == values["resource"]), None)
    problem = _settings_problem(values, resource)
    upload = uploaded_file(form)
    kind = SAMPLE_KINDS.get(FilePath(upload.filename or "").suffix.lower()) if upload else None
    if problem is None and upload is None:
        problem = "请选择样例文件"
    elif problem is None and kind is None:
        problem = f"样例文件须为 {'、'.join(SAMPLE_KINDS)} 文件（数据库和推送型数据源请用映射登记）"
    if problem is not None or resource is None or upload is None or kind is None:
        return _start_page(request, session, actor, status=422, error=problem, values=values)
    expected = [text for item in _items(resource) for text in (item["name"], item["field"])]
    try:
        sample = read_sample(upload, kind, expected, database(request).config.work_dir)
    except SourceUnreadable as exc:
        error = f"样例文件无法读取：{exc.message}"
        return _start_page(request, session, actor, status=422, error=error, values=values)
    step = Step2(resource=resource, values=values, sample=sample)
    return _mapping_page(request, actor, step, item_rows(session, actor, resource, sample, None, {}))


@router.post("/collection/sources/guided/register", response_class=HTMLResponse)
def guided_register(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    form: FormData = POSTED,
) -> Response:
    """Step 2 submitted: build the mapping from the choices and register it as the YAML form does
    (`action=preview` shows the sample values of the chosen columns again instead)."""
    check_csrf(request, _text(form, "csrf_token"))
    values = _settings(form)
    resource = next((r for r in collectable_resources(session, actor) if r.code == values["resource"]), None)
    problem = _settings_problem(values, resource)
    sample = _carried_sample(_text(form, "sample"))
    if problem is None and sample is None:
        problem = "样例信息已失效，请重新上传样例文件"
    if problem is not None or resource is None or sample is None:
        return _start_page(request, session, actor, status=422, error=problem, values=values)
    fields = [item["field"] for item in _items(resource)]
    choices = {f: _text(form, f"col_{f}") for f in fields}
    maps = {f: _text(form, f"map_{f}").strip() for f in fields}
    rows = item_rows(session, actor, resource, sample, choices, maps)
    step = Step2(
        resource=resource, values=values, sample=sample, allow_shared=_text(form, "allow_shared") == "1"
    )
    if _text(form, "action") == "preview":
        return _mapping_page(request, actor, step, rows)
    mapping = build_mapping(rows, sample, step.allow_shared)
    if mapping is None:
        return _mapping_page(request, actor, step, rows, status=422)
    try:
        data = SourceCreate(
            resource=values["resource"],
            name=values["name"],
            mapping=mapping,
            update_cycle=values["update_cycle"] or None,
        )
        created = service.register_source(session, actor, data)
    except (ValidationError, InvalidInput, Conflict, NotFound) as exc:
        session.rollback()
        for refused in exc.errors if isinstance(exc, InvalidInput) else []:
            parts = refused.field.split(".")
            row = next((r for r in rows if parts[0] == "columns" and parts[1:2] == [r.field]), None)
            if row is not None:
                row.error = refused.message
        step.errors = [_explain(exc, rows)]
        return _mapping_page(request, actor, step, rows, status=forms.error_status(exc))
    session.commit()
    return see_other(f"/collection/sources/{created.id}?done=registered")
