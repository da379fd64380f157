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

Reading the sample, pre-selecting columns, value maps and building the mapping are the domain's
(`collection/guided.py`, through the guarded actions of `collection/guided_service.py`, which the API's
`POST /api/v1/collection/guided-sample` calls too); this module only shows the two steps.

Database and push sources keep the YAML form. `/collection/sources/{source_id:int}` never takes "guided" for a
source id, so the order of the routes does not matter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from govshare.auth.actor import Actor
from govshare.catalog.schemas import ResourceOut
from govshare.collection import guided_service, service
from govshare.collection.guided import SAMPLE_KINDS, SAMPLE_ROWS, ItemRow, Sample, build_mapping, sample_kind
from govshare.collection.policies import RUN
from govshare.collection.portal.common import FIELD_LABELS, KINDS, collectable_resources, cycle_label
from govshare.collection.portal.uploads import CAPPED_FORM, MAX_UPLOAD_BYTES, uploaded_file
from govshare.collection.readers import SourceUnreadable
from govshare.collection.schemas import SourceCreate
from govshare.collection.service import CYCLES
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.web import forms
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import FormState, check_csrf, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

MAX_FIELDS = 20 + 2 * 500  # step 2: a column and a value map per catalog item (at most 500 items)
ENCODINGS = {"gb18030": "GBK / GB18030", "utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）"}


def _carried_sample(text: str) -> Sample | None:
    try:
        return Sample.model_validate_json(text)
    except ValidationError:
        return None


def _items(resource: ResourceOut) -> list[dict[str, Any]]:
    return list(resource.current.definition["items"]) if resource.current else []


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
    kind = sample_kind(upload.filename or "") if upload else None
    if problem is None and upload is None:
        problem = "请选择样例文件"
    elif problem is None and kind is None:
        problem = f"样例文件须为 {'、'.join(SAMPLE_KINDS)} 文件（数据库和推送型数据源请用映射登记）"
    if problem is not None or resource is None or upload is None or kind is None:
        return _start_page(request, session, actor, status=422, error=problem, values=values)
    try:
        read = guided_service.read_sample(
            session, actor, values["resource"], upload.file, upload.filename or ""
        )
    except SourceUnreadable as exc:
        error = f"样例文件无法读取：{exc.message}"
        return _start_page(request, session, actor, status=422, error=error, values=values)
    step = Step2(resource=resource, values=values, sample=read.sample)
    rows = guided_service.item_rows(session, actor, _items(resource), read.sample, read.suggested, {})
    return _mapping_page(request, actor, step, rows)


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
    rows = guided_service.item_rows(session, actor, _items(resource), sample, choices, maps)
    step = Step2(
        resource=resource, values=values, sample=sample, allow_shared=_text(form, "allow_shared") == "1"
    )
    if _text(form, "action") == "preview":
        return _mapping_page(request, actor, step, rows)
    mapping = build_mapping(rows, sample, step.allow_shared)
    if mapping is None:
        return _mapping_page(request, actor, step, rows, status=422)

    def refused(exc: Exception) -> str:
        """The refusal's sentence; each item it names gets its message on its row too."""
        for error in exc.errors if isinstance(exc, InvalidInput) else []:
            parts = error.field.split(".")
            row = next((r for r in rows if parts[0] == "columns" and parts[1:2] == [r.field]), None)
            if row is not None:
                row.error = error.message
        return _explain(exc, rows)

    def shown_again(_session: Session, form: FormState, status: int) -> HTMLResponse:
        step.errors = [form.error or ""]
        return _mapping_page(request, actor, step, rows, status=status)

    with form_errors(
        shown_again, explain_error=refused, catch=(ValidationError, InvalidInput, Conflict, NotFound)
    ):
        data = SourceCreate(
            resource=values["resource"],
            name=values["name"],
            mapping=mapping,
            update_cycle=values["update_cycle"] or None,
        )
        created = service.register_source(session, actor, data)
    return see_other(f"/collection/sources/{created.id}?done=registered")
