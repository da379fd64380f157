"""Portal pages of 系统管理：代码集. Calls the same standards service as the API.

A code set is read and changed by whoever holds `standards:edit`: its codes page by page, one code added
or changed at a time (the current version with the change becomes a new version, through the service's
import, so every earlier version stays as it was), or a new version imported from a CSV or Excel file.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.errors import InvalidInput, PayloadTooLarge
from govshare.standards import code_editing, importing
from govshare.standards import service as standards
from govshare.standards.schemas import CodeSetImport
from govshare.web import forms
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import FormState, beijing, beijing_today, check_csrf, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

P = Permission
CODE_SET = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
UPLOAD_SLACK = 64 * 1024  # the multipart envelope and the form's other fields
FIELD_LABELS = {
    "code": "代码",
    "name": "名称",
    "version": "版本号",
    "label": "名称",
    "position": "排序",
    "parent_code": "上级代码",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "note": "备注",
    "file": "文件",
    "standard": "标准编号",
}
DONE = {
    "code": "代码已保存为代码集的新版本。",
    "imported": "代码集已导入。",
}


def explain(exc: Exception) -> str:
    """The Chinese sentence a form shows for invalid input or a conflict."""
    return forms.explain(exc, forms.labeller(FIELD_LABELS))


@router.get("/admin/code-sets", response_class=HTMLResponse)
def code_sets_page(
    request: Request,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
) -> HTMLResponse:
    return _code_sets_page(request, session, actor, done=done)


def _code_sets_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin_code_sets.html",
        actor,
        status=status,
        code_sets=standards.list_code_sets(session, actor),
        max_mb=importing.MAX_FILE_BYTES // 1024 // 1024,
        form=form or FormState(),
        done=DONE.get(done or ""),
    )


def _code_set_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    after: int = 0,
    q: str | None = None,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    code_set = standards.get_code_set(session, actor, code)
    page = None
    blocked = "该代码集没有现行版本。"
    if code_set.current_version is not None:
        page = standards.list_codes(session, actor, code_set.code, query=q or None, after=after, limit=200)
        codes = [] if code_set.is_builtin else code_editing.current_codes(session, actor, code_set.code)[1]
        blocked = code_editing.why_not_editable(codes, code_set.is_builtin) or ""
    return render(
        request,
        "admin_code_set.html",
        actor,
        status=status,
        code_set=code_set,
        page=page,
        q=q or "",
        blocked=blocked or None,
        suggested=_suggest_version(code_set.current_version, [v.version for v in code_set.versions]),
        form=form or FormState(),
        done=DONE.get(done or ""),
        beijing=beijing,
    )


def _suggest_version(current: str | None, taken: list[str]) -> str:
    base = beijing_today().strftime("%Y%m%d")
    for n in range(1, 100):
        candidate = base if n == 1 else f"{base}-{n}"
        if candidate not in taken:
            return candidate
    return f"{base}-{len(taken)}"  # pragma: no cover


@router.get("/admin/code-sets/{code}", response_class=HTMLResponse)
def code_set_page(
    request: Request,
    code: str = CODE_SET,
    after: int = Query(0, ge=0, le=2**31 - 1),
    q: str | None = Query(None, max_length=100),
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
) -> HTMLResponse:
    return _code_set_page(request, session, actor, code, after=after, q=q, done=done)


@router.post("/admin/code-sets/{code}/codes")
def save_code(
    request: Request,
    code: str = CODE_SET,
    position: str = Form("", max_length=12),
    value: str = Form("", max_length=64),
    label: str = Form("", max_length=200),
    parent_code: str = Form("", max_length=64),
    valid_from: str = Form("", max_length=10),
    valid_to: str = Form("", max_length=10),
    note: str = Form("", max_length=2000),
    version: str = Form("", max_length=32),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
) -> Response:
    """Add a code (no position) or change the code at `position` (`standards/code_editing.py`): the
    current version with this change becomes a new version in force from today (Beijing)."""
    check_csrf(request, csrf_token)
    values = {
        "position": position,
        "value": value,
        "label": label,
        "parent_code": parent_code,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "note": note,
        "version": version,
    }
    form_name = f"edit-{position}" if position.strip() else "add"
    with form_errors(
        lambda page_session, form, status: _code_set_page(
            request, page_session, actor, code, status=status, form=form
        ),
        name=form_name,
        values=values,
        explain_error=explain,
    ):
        edit = code_editing.CodeEdit(position, value, label, parent_code, valid_from, valid_to, note, version)
        code_editing.save_code(session, actor, code, edit, today=beijing_today())
    return see_other(f"/admin/code-sets/{code}?done=code")


@dataclass
class Upload:
    fields: dict[str, str]
    data: bytes | None


async def _multipart(request: Request) -> Upload:
    """The import form (multipart): the size declared and capped before anything is read; one file, a
    few short fields. Runs after the route's permission check (declared after it)."""
    declared = request.headers.get("content-length", "")
    limit = importing.MAX_FILE_BYTES + UPLOAD_SLACK
    too_large = f"文件不能超过 {importing.MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后上传"
    if not declared.isdigit():
        raise InvalidInput.on("file", "上传请求须声明长度（Content-Length）")
    if int(declared) > limit:
        raise PayloadTooLarge(too_large)
    form = await request.form(max_files=1, max_fields=20, max_part_size=64 * 1024)
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        data = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(limit + 1)
            if len(data) > importing.MAX_FILE_BYTES:
                raise PayloadTooLarge(too_large)
        return Upload(fields, data)
    finally:
        await form.close()


@router.post("/admin/code-sets/import")
def import_code_set(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
    upload: Upload = Depends(_multipart),  # after the caller's check: nobody uploads before being admitted
) -> Response:
    fields = upload.fields
    check_csrf(request, fields.get("csrf_token", ""))
    names = ("code", "version", "name", "standard", "source", "description", "valid_from", "valid_to", "note")
    values = {k: fields.get(k, "")[:2000] for k in names}
    with form_errors(
        lambda page_session, form, status: _code_sets_page(
            request, page_session, actor, status=status, form=form
        ),
        name="import",
        values=values,
        explain_error=explain,
    ):
        if not upload.data:
            raise InvalidInput.on("file", "请选择要导入的 CSV 或 Excel（.xlsx）文件")
        meta = CodeSetImport(
            code=values["code"].strip(),
            version=values["version"].strip(),
            name=values["name"].strip() or None,
            standard=values["standard"].strip(),
            source=values["source"].strip(),
            description=values["description"].strip(),
            valid_from=code_editing.parse_day(values["valid_from"], "valid_from"),
            valid_to=code_editing.parse_day(values["valid_to"], "valid_to"),
            note=values["note"].strip(),
        )
        report = standards.import_code_set(session, actor, upload.data, meta)
    return see_other(f"/admin/code-sets/{report.code_set}?done=imported")
