"""/api/v1/standards: code sets (代码集), data elements (数据元) and validators (docs/standards.md).

Files (code sets, data elements) are uploaded as the raw request body, CSV (`text/csv`, UTF-8 or GBK) or
Excel (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`), read in chunks and refused
past the size limit before they are parsed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.core.inputs import MAX_INTEGER
from govshare.core.validation import field_errors
from govshare.errors import InvalidInput
from govshare.standards import importing, registry, service, validators
from govshare.standards.schemas import (
    CodeOut,
    CodePage,
    CodeSetImport,
    CodeSetOut,
    DataElementCreate,
    DataElementOut,
    ElementImportReport,
    ImportReport,
    ValidateRequest,
    ValidateResult,
    ValidatorOut,
)
from govshare.web.deps import DB_SESSION, require
from govshare.web.uploads import read_upload

router = APIRouter(prefix="/api/v1/standards", tags=["数据标准"])

READ = Permission.CATALOG_READ
EDIT = Permission.STANDARDS_EDIT
_UPLOAD_TYPES = {importing.XLSX_MEDIA_TYPE, importing.CSV_MEDIA_TYPE, "application/csv"}
_FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "CSV（UTF-8 或 GBK）或 Excel（.xlsx）文件本身作为请求体（不是 multipart 表单）",
        "content": {
            importing.CSV_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            importing.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


async def _file_body(request: Request) -> bytes:
    return await read_upload(
        request,
        media_types=_UPLOAD_TYPES,
        max_bytes=importing.MAX_FILE_BYTES,
        hint=f"请以请求体直接上传 CSV（Content-Type: {importing.CSV_MEDIA_TYPE}）或 .xlsx 文件",
    )


@router.get("/code-sets", summary="代码集列表")
def list_code_sets(session: Session = DB_SESSION, actor: Actor = require(READ)) -> list[CodeSetOut]:
    return service.list_code_sets(session, actor)


@router.post(
    "/code-sets/import",
    status_code=201,
    summary="导入代码集或代码集的新版本（CSV/Excel）：全部通过才写入，错误逐行指明",
    openapi_extra=_FILE_BODY,
)
def import_code_set(
    code: str = Query("", max_length=64, description="代码集标识，如 GA-XB"),
    version: str = Query("", max_length=32, description="版本号，如 2024"),
    name: str | None = Query(None, max_length=200, description="新建代码集时必填"),
    standard: str = Query("", max_length=100),
    source: str = Query("", max_length=2000),
    description: str = Query("", max_length=2000),
    valid_from: date | None = Query(None),
    valid_to: date | None = Query(None),
    note: str = Query("", max_length=2000),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
    data: bytes = Depends(_file_body),  # after the caller's check: nobody uploads before being admitted
) -> ImportReport:
    try:
        meta = CodeSetImport(
            code=code,
            version=version,
            name=name,
            standard=standard,
            source=source,
            description=description,
            valid_from=valid_from,
            valid_to=valid_to,
            note=note,
        )
    except ValidationError as exc:
        errors = field_errors(exc, default_field="query")
        raise InvalidInput(
            "查询参数不合法：" + "；".join(f"{e.field}：{e.message}" for e in errors), errors=errors
        ) from None
    return service.import_code_set(session, actor, data, meta)


@router.get("/code-sets/{code}", summary="代码集及其版本")
def get_code_set(code: str, session: Session = DB_SESSION, actor: Actor = require(READ)) -> CodeSetOut:
    return service.get_code_set(session, actor, code)


@router.get("/code-sets/{code}/codes", summary="代码集的代码（按标准顺序分页）")
def list_codes(
    code: str,
    version: str | None = Query(None, max_length=32, description="不填为现行版本"),
    at: date | None = Query(None, description="只列该日有效的代码（行政区划含已撤销代码）"),
    q: str | None = Query(None, max_length=100, description="代码前缀或名称片段"),
    after: int = Query(0, ge=0, le=MAX_INTEGER, description="上一页的 next_after"),
    limit: int = Query(200, ge=1, le=service.MAX_PAGE),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> CodePage:
    return service.list_codes(session, actor, code, version=version, at=at, query=q, after=after, limit=limit)


@router.get("/code-sets/{code}/codes/{value}", summary="查找代码（按代码或名称）")
def lookup_code(
    code: str,
    value: str,
    version: str | None = Query(None, max_length=32),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> list[CodeOut]:
    return [CodeOut.of(c) for c in service.lookup_code(session, actor, code, value, version=version)]


@router.get("/elements", summary="数据元列表")
def list_data_elements(
    q: str | None = Query(None, max_length=100),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> list[DataElementOut]:
    return [DataElementOut.of(e) for e in service.list_data_elements(session, actor, q)]


@router.post("/elements", status_code=201, summary="新增数据元")
def add_data_element(
    body: DataElementCreate, session: Session = DB_SESSION, actor: Actor = require(EDIT)
) -> DataElementOut:
    return DataElementOut.of(service.add_data_element(session, actor, body))


@router.post(
    "/elements/import",
    status_code=201,
    summary="导入数据元（CSV/Excel）：全部通过才写入",
    openapi_extra=_FILE_BODY,
)
def import_data_elements(
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
    data: bytes = Depends(_file_body),
) -> ElementImportReport:
    return service.import_data_elements(session, actor, data)


@router.get("/elements/{identifier}", summary="数据元详情")
def get_data_element(
    identifier: str, session: Session = DB_SESSION, actor: Actor = require(READ)
) -> DataElementOut:
    return DataElementOut.of(service.get_data_element(session, actor, identifier))


@router.get("/validators", summary="可用的校验与规范化规则")
def list_validators(actor: Actor = require(READ)) -> list[ValidatorOut]:
    messages = {**validators.MESSAGES, **validators.WARNINGS}
    return [
        ValidatorOut(
            name=spec.name,
            label=spec.label,
            description=spec.description,
            value_type=spec.value_type,
            needs_code_set=spec.needs_code_set,
            messages={k: v for k, v in messages.items() if k.split(".")[0] in _prefixes(spec.name)},
        )
        for spec in registry.VALIDATORS.values()
    ]


def _prefixes(name: str) -> set[str]:
    return {
        "id_number": {"id"},
        "uscc": {"uscc"},
        "mobile": {"phone"},
        "landline": {"phone"},
        "phone": {"phone"},
        "date": {"date"},
        "number": {"number"},
        "code": {"code"},
    }.get(name, set())


@router.post("/validate", summary="用一条规则校验一批值（至多 10000 个）")
def validate_values(
    body: ValidateRequest, session: Session = DB_SESSION, actor: Actor = require(READ)
) -> ValidateResult:
    return service.validate_values(session, actor, body)
