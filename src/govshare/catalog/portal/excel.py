"""The Excel template page (/catalog/excel): download the template, upload a filled one. The import is the
catalog's own (`excel_service.import_workbook`, as `POST /api/v1/catalog/import.xlsx` and `govshare catalog
import`): all or nothing, every error named by sheet, row and column. New resources are drafts to submit
for review; a caller who also holds 目录审核 may tick "导入后直接发布" and publish them at once (the
service's `publish`, refused to anyone else).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from govshare.auth.actor import Actor
from govshare.catalog import excel, excel_service
from govshare.catalog.policies import publishes_directly
from govshare.catalog.portal.common import EDIT, check_csrf, form_text
from govshare.catalog.schemas import ApplyReport
from govshare.errors import FieldError, GovshareError, InvalidInput, PermissionDenied
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import ShowFormAgain
from govshare.web.rendering import render
from govshare.web.uploads import read_upload

router = APIRouter(include_in_schema=False)

ACTIONS = {"created": "新建草稿", "updated": "已更新草稿", "unchanged": "无变化"}
PUBLISHED = {"created": "新建并发布", "updated": "更新并发布", "unchanged": "内容无变化，已发布"}


@dataclass
class Upload:
    data: bytes
    filename: str
    csrf_token: str
    publish: bool  # "导入后直接发布" ticked


async def _chunks(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body


async def uploaded_workbook(request: Request) -> Upload:
    """The multipart form of the upload page: the body is read with a size cap first (Starlette alone would
    spool any size to disk), then parsed in memory: one file, the CSRF token and the publish checkbox."""
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
    return Upload(content, filename, form_text(data, "csrf_token"), form_text(data, "publish") == "是")


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
    publish: bool = False,
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
        actions=ACTIONS,
        published_actions=PUBLISHED,
        may_publish=publishes_directly(actor),
        publish=publish,
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
    check_csrf(request, upload.csrf_token)
    if not upload.data:
        return _excel_page(
            request, actor, status=422, error="请选择要上传的 Excel 文件（.xlsx）", publish=upload.publish
        )
    try:
        # publishing directly is the service's decision: it refuses (403) a caller without 目录审核
        report = excel_service.import_workbook(session, actor, upload.data, publish=upload.publish)
    except GovshareError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        # The page again with every error of the workbook, after the request's unit of work has rolled
        # the import back (all or nothing). Not `form_errors`: the status follows the error (413 too large,
        # 415 not a workbook, 409, 422), and the page lists each error by sheet, row and column.
        status = exc.status if exc.status in (409, 413, 415, 422) else 422
        message, errors = exc.message, list(exc.errors)
        raise ShowFormAgain(
            lambda _session: _excel_page(
                request,
                actor,
                status=status,
                error=message,
                errors=errors,
                filename=upload.filename,
                publish=upload.publish,
            )
        ) from exc
    return _excel_page(request, actor, report=report, filename=upload.filename)
