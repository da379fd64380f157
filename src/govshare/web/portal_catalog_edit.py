"""Portal pages for compiling the catalog (目录编制): drafts with their items, submission, review and
publication, withdrawal, and the Excel template upload. Registered before portal_catalog so that fixed
paths under /catalog/ are not taken for resource codes.

Every page calls the catalog services (the same as /api/v1/catalog); every action is a plain HTML form
(POST with the CSRF token) that redirects back (303), so 数据管理员 and 目录审核员 work without JavaScript.
The data items are a table with a fixed number of rows; "添加更多行" posts the form and renders it again
with more empty rows. Invalid input re-renders the form (422) with Chinese messages next to the fields and
what the person typed kept.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import excel, excel_service, service
from govshare.catalog.schemas import ApplyReport, ResourceDefinition, ResourceOut, VersionDiff
from govshare.catalog.vocabulary import (
    THEMES,
    BaseKind,
    Category,
    DataType,
    FormatCategory,
    Labelled,
    MaskRule,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionState,
)
from govshare.core.clock import BEIJING
from govshare.core.node import node_config
from govshare.errors import (
    Conflict,
    CsrfFailed,
    DenialContext,
    FieldError,
    GovshareError,
    InvalidInput,
    PermissionDenied,
)
from govshare.web.deps import DB_SESSION, csrf_valid, require
from govshare.web.portal import render
from govshare.web.uploads import read_upload

router = APIRouter(include_in_schema=False)

EDIT, REVIEW, WITHDRAW = Permission.CATALOG_EDIT, Permission.CATALOG_REVIEW, Permission.CATALOG_WITHDRAW
RESOURCE_ID = Path(ge=1, le=2**62)
TEXT = 2000
ROWS, MORE_ROWS, MAX_ROWS = 8, 5, 200  # item rows shown, added per "添加更多行", at most
MAX_FIELDS = 40 + 12 * MAX_ROWS

STATE_TAGS = {
    "draft": "tag-open",
    "submitted": "tag-conditional",
    "returned": "tag-none",
    "published": "tag-unconditional",
    "withdrawn": "tag-none",
}
DONE = {
    "created": "草稿已保存。",
    "saved": "草稿已保存。",
    "submitted": "已提交审核，请等待目录审核员审核。",
    "approved": "审核通过，信息资源已发布。",
    "returned": "已退回修改，提供部门可以看到审核意见。",
    "withdrawn": "信息资源已下架，记录和历次版本仍保留。",
}
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
CHANGES = {"added": "新增", "removed": "删除", "changed": "修改"}
_ITEM_PATH = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
_LIST_PATH = re.compile(r"^(\w+)\[(\d+)\]$")
_SPLIT = re.compile(r"[,，、;；\s]+")


# ---------------------------------------------------------------- helpers


def _csrf(request: Request, token: str | None) -> None:
    if not csrf_valid(request, token):
        raise CsrfFailed()


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime(fmt)


def _may(actor: Actor, permission: Permission, provider_code: str) -> bool:
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_code == provider_code)


def _refuse(actor: Actor, permission: Permission, out: ResourceOut, what: str) -> None:
    if not _may(actor, permission, out.provider_code):
        raise PermissionDenied(
            f"只能{what}本部门的信息资源（“{out.name}”的提供方为{out.provider_name}）",
            context=DenialContext(
                action=f"portal.catalog.{permission.split(':')[1]}",
                permission=permission,
                target_type="catalog_resource",
                target_id=out.code or str(out.id),
            ),
        )


def _label(enum: type[Labelled], value: object) -> str:
    """The Chinese label of a stored value or label; the text itself when it is not one."""
    if value is None or value == "":
        return ""
    try:
        return enum.parse(value).label
    except ValueError:
        return str(value)


def _grades(session: Session) -> list[str]:
    return [g.label for g in node_config(session).jurisdiction.catalog.grades]


def state_of(out: ResourceOut) -> tuple[str, str]:
    """Where the resource stands for its provider: the open version's state, else published/withdrawn."""
    if out.pending is not None:
        return out.pending.state, out.pending.state_label
    if out.status == "withdrawn":
        return "withdrawn", "已下架"
    if out.current is not None:
        return "published", "已发布"
    return "draft", "草稿"


# ---------------------------------------------------------------- the draft form


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
            self.rows.append(_blank_row())


def _blank_row() -> dict[str, Any]:
    return {
        **dict.fromkeys(ITEM_TEXT, ""),
        "mask": MaskRule.NONE.label,
        "key": False,
        "nullable": True,
        "base": False,
    }


def _from_definition(definition: dict[str, Any]) -> DraftForm:
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


def _from_post(data: FormData) -> DraftForm:
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


def _definition(form: DraftForm, provider: str) -> tuple[dict[str, Any], list[int]]:
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


def _pydantic_message(error: Any) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    loc = [str(p) for p in error.get("loc", ())]
    if kind == "missing":
        return "必须填写"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"长度不能少于 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if kind in ("too_short", "list_too_short"):
        return "至少填写一个信息项" if loc == ["items"] else "至少选择一项"
    if kind in ("too_long", "list_too_long"):
        return f"最多 {ctx.get('max_length')} 项"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return "必须是整数"
    if kind == "string_pattern_mismatch":
        if loc[-1:] == ["field"]:
            return "须以小写字母开头，只含小写字母、数字和下划线（如 gmsfhm）"
        if loc[-1:] == ["class"]:
            return "须为 1 位数字（1-9）"
        if loc[-1:] == ["item"]:
            return "须为 2 位数字，如 01"
        if loc[-1:] == ["catalog"]:
            return "须为 3 位数字，如 001"
        if loc[-1:] == ["detail"]:
            return "须为 1 至 8 位数字"
        return "格式不正确（只能包含字母、数字、下划线和连字符）" if loc[:1] == ["related"] else "格式不正确"
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    if kind in ("enum", "literal_error"):
        return "取值不在允许范围内"
    return "取值无效"


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


def _explain(form: DraftForm, exc: Exception, rows: Sequence[int]) -> None:
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            loc = error.get("loc", ())
            path = ""
            for part in loc:
                path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
            _place(form, path, rows, _pydantic_message(error))
    elif isinstance(exc, InvalidInput) and exc.errors:
        for e in exc.errors:
            _place(form, e.field, rows, e.message)
    else:
        form.errors.append(str(getattr(exc, "message", exc)))


def _validated(form: DraftForm, provider: str) -> ResourceDefinition | None:
    definition, rows = _definition(form, provider)
    try:
        return ResourceDefinition.model_validate(definition)
    except ValidationError as exc:
        _explain(form, exc, rows)
        return None


async def posted_form(request: Request) -> FormData:
    """The draft form as posted (urlencoded; many item rows, so more fields than Starlette's default). A
    body that is not such a form (a file in it, too many fields) reads as empty: the CSRF check refuses it."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS)
    except (MultiPartException, StarletteHTTPException):
        return FormData()


POSTED: Any = Depends(posted_form)


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    form: DraftForm,
    *,
    resource: ResourceOut | None,
    status: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "catalog_edit.html",
        actor,
        status=status,
        form=form,
        resource=resource,
        provider_name=resource.provider_name if resource else actor.department_code,
        notice=notice,
        categories=Category.choices(),
        kinds=BaseKind.choices(),
        themes=THEMES,
        format_categories=FormatCategory.choices(),
        share_types=ShareType.choices(),
        share_methods=ShareMethod.choices(),
        cycles=UpdateCycle.choices(),
        data_types=[(t.value, t.label) for t in DataType],
        masks=MaskRule.choices(),
        grades=_grades(session),
        labels=LABELS,
    )


def _provider(actor: Actor) -> str:
    if not actor.department_code or actor.scope_of(EDIT) is None:
        raise PermissionDenied(
            "只有部门的数据管理员可以编制本部门的目录",
            context=DenialContext(action="portal.catalog.create", permission=EDIT),
        )
    return actor.department_code


# ---------------------------------------------------------------- the workbench list


@dataclass
class Row:
    resource: ResourceOut
    state: str
    state_label: str
    tag: str
    version: int | None
    comment: str | None
    reviewer: str | None
    updated: str
    editable: bool


def _row(actor: Actor, out: ResourceOut) -> Row:
    state, label = state_of(out)
    version = out.pending or out.current
    return Row(
        resource=out,
        state=state,
        state_label=label,
        tag=STATE_TAGS.get(state, ""),
        version=version.number if version else None,
        comment=out.pending.review_comment if out.pending and state == "returned" else None,
        reviewer=out.pending.reviewed_by if out.pending and state == "returned" else None,
        updated=beijing(out.updated_at),
        editable=_may(actor, EDIT, out.provider_code) and state != "submitted",
    )


@router.get("/catalog/manage", response_class=HTMLResponse)
def manage(
    request: Request,
    state: str | None = Query(None, pattern="^(draft|submitted|returned|published|withdrawn)$"),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT, REVIEW),
) -> HTMLResponse:
    mine: list[Row] = []
    if actor.scope_of(EDIT) and actor.department_code:
        found = service.list_resources(session, actor, department_code=actor.department_code)
        mine = [_row(actor, r) for r in sorted(found, key=lambda r: r.updated_at, reverse=True)]
    counts: dict[str, int] = {}
    for row in mine:
        counts[row.state] = counts.get(row.state, 0) + 1
    queue = [_row(actor, r) for r in service.review_queue(session, actor)] if actor.scope_of(REVIEW) else []
    return render(
        request,
        "catalog_manage.html",
        actor,
        rows=[r for r in mine if state is None or r.state == state],
        counts=counts,
        state=state,
        states={
            "draft": "草稿",
            "submitted": "待审核",
            "returned": "已退回",
            "published": "已发布",
            "withdrawn": "已下架",
        },
        queue=queue,
        may_edit=bool(actor.scope_of(EDIT) and actor.department_code),
        may_review=bool(actor.scope_of(REVIEW)),
    )


# ---------------------------------------------------------------- create and edit


@router.get("/catalog/new", response_class=HTMLResponse)
def new_page(request: Request, session: Session = DB_SESSION, actor: Actor = require(EDIT)) -> HTMLResponse:
    _provider(actor)
    form = DraftForm(values={"open": "否"})
    form.pad(ROWS)
    return _form_page(request, session, actor, form, resource=None)


@router.post("/catalog/new")
def new_submit(
    request: Request,
    data: FormData = POSTED,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> Response:
    _csrf(request, _text(data, "csrf_token"))
    provider = _provider(actor)
    form = _from_post(data)
    todo = _text(data, "action")
    if todo == "more":
        form.pad(len(form.rows) + MORE_ROWS)
        return _form_page(request, session, actor, form, resource=None)
    definition = _validated(form, provider)
    if definition is None:
        return _form_page(request, session, actor, form, resource=None, status=422)
    try:
        created = service.create_resource(session, actor, definition)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        _explain(form, exc, _definition(form, provider)[1])
        return _form_page(request, session, actor, form, resource=None, status=_status(exc))
    if todo == "submit":
        return _submit_after_save(request, session, actor, created.id, form)
    return _redirect(f"/catalog/manage/{created.id}?done=created")


def _status(exc: Exception) -> int:
    return 409 if isinstance(exc, Conflict) else 422


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _submit_after_save(
    request: Request, session: Session, actor: Actor, resource_id: int, form: DraftForm
) -> Response:
    """Submit the just-saved draft; when the rules refuse it, keep the draft and show why."""
    session.commit()  # the draft stays saved whatever the submission says
    try:
        service.submit(session, actor, resource_id)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        resource = service.get_resource(session, actor, resource_id)
        _explain(form, exc, _definition(form, resource.provider_code)[1])
        return _form_page(
            request,
            session,
            actor,
            form,
            resource=resource,
            status=_status(exc),
            notice="草稿已保存，但还不能提交审核，请按下列提示修改：",
        )
    return _redirect(f"/catalog/manage/{resource_id}?done=submitted")


def _editable(session: Session, actor: Actor, resource_id: int) -> ResourceOut:
    resource = service.get_resource(session, actor, resource_id)
    _refuse(actor, EDIT, resource, "编辑")
    if resource.pending is not None and resource.pending.state == VersionState.SUBMITTED:
        raise Conflict("该信息资源已提交审核，审核完成前不能修改")
    return resource


@router.get("/catalog/drafts/{resource_id}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> HTMLResponse:
    resource = _editable(session, actor, resource_id)
    version = resource.pending or resource.current
    form = _from_definition(version.definition if version else {})
    notice = None
    if resource.pending is None and resource.current is not None:
        notice = "该资源已发布：保存后生成新版本的草稿，审核通过前现行版本继续有效。"
    if resource.pending is not None and resource.pending.state == VersionState.RETURNED:
        notice = f"审核员退回了这个版本：{resource.pending.review_comment or ''}"
    return _form_page(request, session, actor, form, resource=resource, notice=notice)


@router.post("/catalog/drafts/{resource_id}/edit")
def edit_submit(
    request: Request,
    resource_id: int = RESOURCE_ID,
    data: FormData = POSTED,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> Response:
    _csrf(request, _text(data, "csrf_token"))
    resource = _editable(session, actor, resource_id)
    form = _from_post(data)
    todo = _text(data, "action")
    if todo == "more":
        form.pad(len(form.rows) + MORE_ROWS)
        return _form_page(request, session, actor, form, resource=resource)
    definition = _validated(form, resource.provider_code)
    if definition is None:
        return _form_page(request, session, actor, form, resource=resource, status=422)
    if resource.code:
        definition = definition.model_copy(update={"code": resource.code})
    try:
        service.save_draft(session, actor, resource_id, definition)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        _explain(form, exc, _definition(form, resource.provider_code)[1])
        return _form_page(request, session, actor, form, resource=resource, status=_status(exc))
    if todo == "submit":
        return _submit_after_save(request, session, actor, resource_id, form)
    return _redirect(f"/catalog/manage/{resource_id}?done=saved")


# ---------------------------------------------------------------- one resource: submit, review, withdraw


@dataclass
class Failed:
    name: str | None = None
    error: str | None = None
    values: dict[str, str] = field(default_factory=dict)


def _diff_rows(diff: VersionDiff | None) -> list[tuple[str, str, str]]:
    if diff is None:
        return []
    out = []
    for change in diff.fields:
        out.append((LABELS.get(change.field, change.field), _shown(change.before), _shown(change.after)))
    return out


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


def _item_changes(diff: VersionDiff | None) -> list[tuple[str, str, str]]:
    if diff is None:
        return []
    out = []
    for item in diff.items:
        details = "；".join(
            f"{ITEM_LABELS.get(c.field, c.field)}：{_shown(c.before)} → {_shown(c.after)}"
            for c in item.changes
        )
        out.append((item.field_name, CHANGES.get(item.change, item.change), details))
    return out


def _work_page(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    status: int = 200,
    failed: Failed | None = None,
    done: str | None = None,
) -> HTMLResponse:
    resource = service.get_resource(session, actor, resource_id)
    state, label = state_of(resource)
    version = resource.pending or resource.current
    diff = None
    if resource.pending is not None and resource.current is not None:
        diff = service.diff_versions(
            session, actor, resource_id, resource.current.number, resource.pending.number
        )
    forms = set()
    if _may(actor, EDIT, resource.provider_code):
        if state in ("draft", "returned", "published", "withdrawn"):
            forms.add("edit")
        if state in ("draft", "returned"):
            forms.add("submit")
    if actor.scope_of(REVIEW) and state == "submitted":
        forms |= {"approve", "return"}
    if _may(actor, WITHDRAW, resource.provider_code) and resource.status == "active":
        forms.add("withdraw")
    return render(
        request,
        "catalog_review.html",
        actor,
        status=status,
        resource=resource,
        version=version,
        definition=version.definition if version else {},
        state=state,
        state_label=label,
        tag=STATE_TAGS.get(state, ""),
        diff_fields=_diff_rows(diff),
        diff_items=_item_changes(diff),
        has_diff=diff is not None,
        forms=forms,
        failed=failed or Failed(),
        done=DONE.get(done or ""),
        type_labels={t.value: t.label for t in DataType},
        beijing=beijing,
    )


@router.get("/catalog/manage/{resource_id}", response_class=HTMLResponse)
def work_page(
    request: Request,
    resource_id: int = RESOURCE_ID,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT, REVIEW, WITHDRAW),
) -> HTMLResponse:
    return _work_page(request, session, actor, resource_id, done=done)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    name: str,
    values: dict[str, str],
    call: Any,
) -> Response:
    try:
        call()
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        message = (
            "；".join(_field_text(e) for e in exc.errors)
            if isinstance(exc, InvalidInput) and exc.errors
            else exc.message
        )
        failed = Failed(name, message, values)
        return _work_page(request, session, actor, resource_id, status=_status(exc), failed=failed)
    return _redirect(f"/catalog/manage/{resource_id}?done={name}")


def _field_text(error: FieldError) -> str:
    item = _ITEM_PATH.match(error.field)
    if item:
        what = ITEM_LABELS.get(item.group(2) or "", "")
        return f"第 {int(item.group(1)) + 1} 个信息项{('「' + what + '」') if what else ''}：{error.message}"
    if error.field == "comment":
        return error.message
    return f"{LABELS.get(error.field, error.field)}：{error.message}"


@router.post("/catalog/manage/{resource_id}/submit")
def submit(
    request: Request,
    resource_id: int = RESOURCE_ID,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> Response:
    _csrf(request, csrf_token)
    return _act(
        request,
        session,
        actor,
        resource_id,
        "submitted",
        {},
        lambda: service.submit(session, actor, resource_id),
    )


@router.post("/catalog/manage/{resource_id}/approve")
def approve(
    request: Request,
    resource_id: int = RESOURCE_ID,
    comment: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(REVIEW),
) -> Response:
    _csrf(request, csrf_token)
    return _act(
        request,
        session,
        actor,
        resource_id,
        "approved",
        {"comment": comment},
        lambda: service.approve(session, actor, resource_id, comment.strip()),
    )


@router.post("/catalog/manage/{resource_id}/return")
def return_for_changes(
    request: Request,
    resource_id: int = RESOURCE_ID,
    comment: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(REVIEW),
) -> Response:
    _csrf(request, csrf_token)
    return _act(
        request,
        session,
        actor,
        resource_id,
        "returned",
        {"comment": comment},
        lambda: service.return_for_changes(session, actor, resource_id, comment.strip()),
    )


@router.post("/catalog/manage/{resource_id}/withdraw")
def withdraw(
    request: Request,
    resource_id: int = RESOURCE_ID,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(WITHDRAW),
) -> Response:
    _csrf(request, csrf_token)

    def call() -> None:
        if len(reason.strip()) < 2:
            raise InvalidInput.on("reason", "请写明下架理由（至少 2 个字）")
        service.withdraw(session, actor, resource_id, reason.strip())

    return _act(request, session, actor, resource_id, "withdrawn", {"reason": reason}, call)


# ---------------------------------------------------------------- Excel template


@dataclass
class Upload:
    data: bytes
    filename: str
    csrf_token: str


async def _chunks(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body


async def uploaded_workbook(request: Request) -> Upload:
    """The multipart form of the upload page: the body is read with a size cap first (Starlette alone would
    spool any size to disk), then parsed in memory: one file and the CSRF token."""
    body = await read_upload(
        request,
        media_types={"multipart/form-data"},
        max_bytes=excel.MAX_UPLOAD_BYTES + 64 * 1024,
        hint="请通过上传页面的表单选择 .xlsx 文件上传",
    )
    parser = MultiPartParser(request.headers, _chunks(body), max_files=1, max_fields=5)
    try:
        data = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"上传的表单无法读取：{exc.message}") from None
    file = data.get("file")
    content, filename = b"", ""
    if isinstance(file, UploadFile):
        content, filename = await file.read(), file.filename or ""
        await file.close()
    return Upload(content, filename, _text(data, "csrf_token"))


@dataclass
class ImportProblem:
    place: str
    message: str


def _excel_page(
    request: Request,
    actor: Actor,
    *,
    status: int = 200,
    report: ApplyReport | None = None,
    error: str | None = None,
    errors: Iterable[FieldError] = (),
    filename: str = "",
) -> HTMLResponse:
    return render(
        request,
        "catalog_excel.html",
        actor,
        status=status,
        report=report,
        error=error,
        errors=[ImportProblem(e.field, e.message) for e in errors],
        filename=filename,
        actions={"created": "新建草稿", "updated": "已更新草稿", "unchanged": "无变化"},
        max_mb=excel.MAX_UPLOAD_BYTES // 1024 // 1024,
    )


@router.get("/catalog/excel", response_class=HTMLResponse)
def excel_page(request: Request, actor: Actor = require(EDIT)) -> HTMLResponse:
    return _excel_page(request, actor)


@router.post("/catalog/excel", response_class=HTMLResponse)
def excel_import(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
    upload: Upload = Depends(uploaded_workbook),  # after the caller's check: nobody uploads before admitted
) -> HTMLResponse:
    _csrf(request, upload.csrf_token)
    if not upload.data:
        return _excel_page(request, actor, status=422, error="请选择要上传的 Excel 文件（.xlsx）")
    try:
        report = excel_service.import_workbook(session, actor, upload.data)
    except GovshareError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        session.rollback()
        return _excel_page(
            request,
            actor,
            status=exc.status if exc.status in (409, 413, 415, 422) else 422,
            error=exc.message,
            errors=exc.errors,
            filename=upload.filename,
        )
    return _excel_page(request, actor, report=report, filename=upload.filename)
