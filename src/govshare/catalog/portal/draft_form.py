"""The draft form of a catalog resource (目录编制): what it shows, read from a stored definition or from
the posted form, and turned back into a `ResourceDefinition`; invalid input put next to its field in
Chinese. No routes here: the pages that show the form are in drafts.py.

The data items are a table with a fixed number of rows; "添加更多行" posts the form and renders it again
with more empty rows. Invalid input re-renders the form (422) with Chinese messages next to the fields and
what the person typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from govshare.catalog.schemas import ResourceDefinition
from govshare.catalog.vocabulary import (
    BaseKind,
    Category,
    DataType,
    FormatCategory,
    Labelled,
    MaskRule,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.core.validation import validation_message
from govshare.errors import FieldError, InvalidInput

ROWS, MORE_ROWS, MAX_ROWS = 8, 5, 200  # item rows shown, added per "添加更多行", at most
MAX_FIELDS = 40 + 12 * MAX_ROWS

LABELS = {
    "name": "信息资源名称",
    "provider": "提供方",
    "code": "信息资源代码",
    "summary": "摘要",
    "classification": "分类",
    "classification.category": "资源分类",
    "classification.kind": "基础类别",
    "classification.theme": "主题",
    "classification.class": "类",
    "classification.class_code": "类",
    "classification.item": "项",
    "classification.catalog": "目",
    "classification.detail": "细目",
    "format": "格式",
    "format.category": "格式分类",
    "format.type": "格式类型",
    "share": "共享属性",
    "share.type": "共享类型",
    "share.condition": "共享条件",
    "share.methods": "共享方式",
    "open": "开放属性",
    "open.open": "是否向社会开放",
    "open.condition": "开放条件",
    "update_cycle": "更新周期",
    "legal_basis": "法律依据",
    "grade": "安全级别",
    "related": "关联资源代码",
    "system": "所属信息系统",
    "items": "信息项",
}
ITEM_LABELS = {
    "name": "信息项名称",
    "field": "字段名",
    "type": "数据类型",
    "length": "长度",
    "key": "主键",
    "nullable": "可为空",
    "base": "基础信息项",
    "share": "共享类型",
    "standard": "标准依据",
    "grade": "安全级别",
    "mask": "脱敏规则",
}
# form input → definition path (the top of the form)
TOP_FIELDS = {
    "name": "name",
    "summary": "summary",
    "category": "classification.category",
    "kind": "classification.kind",
    "theme": "classification.theme",
    "class_code": "classification.class",
    "item_code": "classification.item",
    "catalog_code": "classification.catalog",
    "detail": "classification.detail",
    "format_category": "format.category",
    "format_type": "format.type",
    "share_type": "share.type",
    "share_condition": "share.condition",
    "open_condition": "open.condition",
    "update_cycle": "update_cycle",
    "legal_basis": "legal_basis",
    "grade": "grade",
    "related": "related",
    "system": "system",
}
ITEM_TEXT = ("name", "field", "type", "length", "share", "standard", "grade", "mask")
ITEM_FLAGS = ("key", "nullable", "base")
_ITEM_PATH = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
_LIST_PATH = re.compile(r"^(\w+)\[(\d+)\]$")
_SPLIT = re.compile(r"[,，、;；\s]+")


def _label(enum: type[Labelled], value: object) -> str:
    """The Chinese label of a stored value or label; the text itself when it is not one."""
    if value is None or value == "":
        return ""
    try:
        return enum.parse(value).label
    except ValueError:
        return str(value)


@dataclass
class DraftForm:
    """What the form shows: the values as text (kept as typed), the item rows, and the errors."""

    values: dict[str, str] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)
    open: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # every message, in Chinese, with its place
    field_errors: dict[str, list[str]] = field(default_factory=dict)  # top input name → messages
    row_errors: dict[int, list[str]] = field(default_factory=dict)  # row index → messages

    def v(self, name: str) -> str:
        return self.values.get(name, "")

    def fail(self, name: str) -> list[str]:
        return self.field_errors.get(name, [])

    def pad(self, count: int) -> None:
        while len(self.rows) < min(count, MAX_ROWS):
            self.rows.append(blank_row())


def blank_row() -> dict[str, Any]:
    return {
        **dict.fromkeys(ITEM_TEXT, ""),
        "mask": MaskRule.NONE.label,
        "key": False,
        "nullable": True,
        "base": False,
    }


def from_definition(definition: dict[str, Any]) -> DraftForm:
    """The form of a stored version's definition, with three empty rows more (eight when it has no items)."""
    c = definition.get("classification", {})
    share, opened, fmt = definition.get("share", {}), definition.get("open", {}), definition.get("format", {})
    form = DraftForm(
        values={
            "name": definition.get("name", ""),
            "summary": definition.get("summary", ""),
            "category": _label(Category, c.get("category")),
            "kind": _label(BaseKind, c.get("kind")),
            "theme": c.get("theme") or "",
            "class_code": c.get("class") or c.get("class_code") or "",
            "item_code": c.get("item", ""),
            "catalog_code": c.get("catalog", ""),
            "detail": c.get("detail") or "",
            "format_category": _label(FormatCategory, fmt.get("category")),
            "format_type": fmt.get("type", ""),
            "share_type": _label(ShareType, share.get("type")),
            "share_condition": share.get("condition") or "",
            "open_condition": opened.get("condition") or "",
            "update_cycle": _label(UpdateCycle, definition.get("update_cycle")),
            "legal_basis": definition.get("legal_basis") or "",
            "grade": definition.get("grade") or "",
            "related": "、".join(definition.get("related") or []),
            "system": definition.get("system") or "",
        },
        methods=[_label(ShareMethod, m) for m in share.get("methods", [])],
        open=bool(opened.get("open")),
    )
    for item in definition.get("items", []):
        form.rows.append(
            {
                "name": item.get("name", ""),
                "field": item.get("field", ""),
                "type": DataType.parse(item["type"]).value if item.get("type") else "",
                "length": "" if item.get("length") is None else str(item["length"]),
                "share": _label(ShareType, item.get("share")),
                "standard": item.get("standard") or "",
                "grade": item.get("grade") or "",
                "mask": _label(MaskRule, item.get("mask")) or MaskRule.NONE.label,
                "key": bool(item.get("key")),
                "nullable": bool(item.get("nullable", True)),
                "base": bool(item.get("base")),
            }
        )
    form.pad(len(form.rows) + 3 if form.rows else ROWS)
    return form


def from_post(data: FormData) -> DraftForm:
    """The form as posted, kept as typed (the number of item rows in the hidden `rows` field)."""

    def text(name: str) -> str:
        value = data.get(name)
        return value.strip() if isinstance(value, str) else ""

    form = DraftForm(
        values={name: text(name) for name in TOP_FIELDS},
        methods=[m for m in data.getlist("share_methods") if isinstance(m, str)],
        open=text("open") == "是",
    )
    try:
        count = int(text("rows"))
    except ValueError:
        count = ROWS
    for i in range(max(0, min(count, MAX_ROWS))):
        row: dict[str, Any] = {name: text(f"item-{i}-{name}") for name in ITEM_TEXT}
        for flag in ITEM_FLAGS:
            row[flag] = text(f"item-{i}-{flag}") == "是"
        form.rows.append(row)
    form.pad(1)
    return form


def _filled(row: dict[str, Any]) -> bool:
    return any(row[name] for name in ("name", "field", "length", "standard"))


def to_definition(form: DraftForm, provider: str) -> tuple[dict[str, Any], list[int]]:
    """The definition the form describes (blank values left out, so that required ones are "必须填写")
    and, for each item, the form row it came from."""
    v = form.values

    def some(**pairs: Any) -> dict[str, Any]:
        return {k: x for k, x in pairs.items() if x not in ("", None, [])}

    rows = [i for i, row in enumerate(form.rows) if _filled(row)]
    items = []
    for i in rows:
        row = form.rows[i]
        items.append(
            some(
                name=row["name"],
                field=row["field"],
                type=row["type"],
                length=row["length"],
                share=row["share"],
                standard=row["standard"],
                grade=row["grade"],
                mask=row["mask"],
            )
            | {"key": row["key"], "nullable": row["nullable"], "base": row["base"]}
        )
    definition = some(
        name=v.get("name"),
        provider=provider,
        summary=v.get("summary"),
        classification=some(
            category=v.get("category"),
            kind=v.get("kind"),
            theme=v.get("theme"),
            catalog=v.get("catalog_code"),
            item=v.get("item_code"),
            detail=v.get("detail"),
        )
        | some(**{"class": v.get("class_code")}),
        format=some(category=v.get("format_category"), type=v.get("format_type")),
        share=some(type=v.get("share_type"), condition=v.get("share_condition"), methods=form.methods),
        open=some(condition=v.get("open_condition")) | {"open": form.open},
        update_cycle=v.get("update_cycle"),
        legal_basis=v.get("legal_basis"),
        grade=v.get("grade"),
        related=[c for c in _SPLIT.split(v.get("related", "")) if c],
        system=v.get("system"),
    )
    definition["items"] = items
    return definition, rows


def _pattern_hint(loc: list[str]) -> str | None:
    """What a coded input of the draft form must look like, for a pattern mismatch on it."""
    hints = {
        "field": "须以小写字母开头，只含小写字母、数字和下划线（如 gmsfhm）",
        "class": "须为 1 位数字（1-9）",
        "item": "须为 2 位数字，如 01",
        "catalog": "须为 3 位数字，如 001",
        "detail": "须为 1 至 8 位数字",
    }
    if loc[-1:] and loc[-1] in hints:
        return hints[loc[-1]]
    return "格式不正确（只能包含字母、数字、下划线和连字符）" if loc[:1] == ["related"] else None


def _message(error: Any) -> str:
    """One validation error in Chinese (core/validation.py), with the draft form's own hints."""
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") in ("too_short", "list_too_short") and loc == ["items"]:
        return "至少填写一个信息项"
    return validation_message(error, pattern_hint=_pattern_hint(loc))


def _place(form: DraftForm, path: str, rows: Sequence[int], message: str) -> None:
    """Put one error (its path in the definition) next to its input and in the list, in Chinese."""
    item = _ITEM_PATH.match(path)
    if item and int(item.group(1)) < len(rows):
        row = rows[int(item.group(1))]
        what = ITEM_LABELS.get(item.group(2) or "", "")
        text = f"{what}：{message}" if what else message
        form.row_errors.setdefault(row, []).append(text)
        form.errors.append(f"信息项第 {row + 1} 行{('「' + what + '」') if what else ''}：{message}")
        return
    listed = _LIST_PATH.match(path)
    if listed and listed.group(1) == "related":
        path = "related"
        message = f"第 {int(listed.group(2)) + 1} 个：{message}"
    label = LABELS.get(path) or LABELS.get(path.split(".")[0], path)
    form.errors.append(f"{label}：{message}")
    inputs = [name for name, target in TOP_FIELDS.items() if target == path]
    if path == "share.methods":
        inputs = ["share_methods"]
    elif path == "open.open":
        inputs = ["open"]
    elif path == "classification.class_code":
        inputs = ["class_code"]
    for name in inputs:
        form.field_errors.setdefault(name, []).append(message)


def explain(form: DraftForm, exc: Exception, rows: Sequence[int]) -> None:
    """Put the errors of a validation or of the service on the form (`rows`: the form row of each item)."""
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            loc = error.get("loc", ())
            path = ""
            for part in loc:
                path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
            _place(form, path, rows, _message(error))
    elif isinstance(exc, InvalidInput) and exc.errors:
        for e in exc.errors:
            _place(form, e.field, rows, e.message)
    else:
        form.errors.append(str(getattr(exc, "message", exc)))


def validated(form: DraftForm, provider: str) -> ResourceDefinition | None:
    """The definition of the form, or None with the errors put on the form."""
    definition, rows = to_definition(form, provider)
    try:
        return ResourceDefinition.model_validate(definition)
    except ValidationError as exc:
        explain(form, exc, rows)
        return None


async def posted_form(request: Request) -> FormData:
    """The draft form as posted (urlencoded; many item rows, so more fields than Starlette's default). A
    body that is not such a form (a file in it, too many fields) reads as empty: the CSRF check refuses it."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS)
    except (MultiPartException, StarletteHTTPException):
        return FormData()


POSTED: Any = Depends(posted_form)


def field_text(error: FieldError) -> str:
    """A service's error on a field of the definition (`items[3].field`), in Chinese."""
    item = _ITEM_PATH.match(error.field)
    if item:
        what = ITEM_LABELS.get(item.group(2) or "", "")
        return f"第 {int(item.group(1)) + 1} 个信息项{('「' + what + '」') if what else ''}：{error.message}"
    if error.field == "comment":
        return error.message
    return f"{LABELS.get(error.field, error.field)}：{error.message}"
