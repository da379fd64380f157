"""/api/v1/catalog/*.xlsx: the department Excel template (目录编制模板), the catalog exported into it, and
importing a filled one (docs/excel-template.md).

The import takes the workbook as the raw request body with `Content-Type:
application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (no multipart form): the body is read in
chunks and refused past the size limit before it is parsed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import excel, excel_service
from govshare.catalog.schemas import ApplyReport
from govshare.core.clock import BEIJING, utcnow
from govshare.web.deps import DB_SESSION, require
from govshare.web.uploads import read_upload

router = APIRouter(prefix="/api/v1/catalog", tags=["目录系统"])

XLSX = excel.XLSX_MEDIA_TYPE
_XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}
}


def _attachment(data: bytes, filename: str, fallback: str) -> Response:
    """An .xlsx download; the Chinese name in RFC 5987 `filename*`, an ASCII one for old clients."""
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(
        content=data,
        media_type=XLSX,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


async def _xlsx_body(request: Request) -> bytes:
    """The uploaded workbook: the raw body, of the .xlsx content type, at most MAX_UPLOAD_BYTES."""
    return await read_upload(
        request,
        media_types={XLSX},
        max_bytes=excel.MAX_UPLOAD_BYTES,
        hint=f"请以请求体直接上传 .xlsx 文件，Content-Type 应为 {XLSX}",
    )


@router.get(
    "/template.xlsx",
    summary="下载目录编制模板（Excel）",
    response_class=Response,
    responses=_XLSX_RESPONSE,
)
def template(session: Session = DB_SESSION, actor: Actor = require(Permission.CATALOG_READ)) -> Response:
    data = excel_service.template(session, actor)
    return _attachment(data, "目录编制模板.xlsx", "catalog-template.xlsx")


@router.get(
    "/export.xlsx",
    summary="导出已发布的信息资源（Excel，可修改后再导入）",
    response_class=Response,
    responses=_XLSX_RESPONSE,
)
def export(
    department: str | None = Query(None, max_length=32, description="提供方部门代码；不给则导出全部"),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_READ),
) -> Response:
    data = excel_service.export_workbook(session, actor, department)
    today = utcnow().astimezone(BEIJING).strftime("%Y%m%d")
    scope = department or "全部"
    return _attachment(data, f"信息资源目录-{scope}-{today}.xlsx", f"catalog-{today}.xlsx")


@router.post(
    "/import.xlsx",
    summary="导入填好的目录编制模板：全部通过才写入，错误逐一指明工作表、行、列",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Excel 文件本身作为请求体（不是 multipart 表单）",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def import_workbook(
    publish: bool = Query(False, description="直接发布（需要审核权限）"),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_EDIT),
    data: bytes = Depends(_xlsx_body),  # after the caller's check: nobody uploads before being admitted
) -> ApplyReport:
    return excel_service.import_workbook(session, actor, data, publish=publish)
