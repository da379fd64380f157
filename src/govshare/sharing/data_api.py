"""The data API: `/api/v1/data/{resource}`, `/api/v1/verify/{resource}`, `/api/v1/person/{id}`,
`/api/v1/org/{uscc}`. Callers are applications with a key holding data:read, and every call carries
`X-Purpose` (the use or case number) and `X-Operator` (the person in the calling system)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.core.clock import BEIJING
from govshare.core.inputs import Input
from govshare.errors import FieldError, GovshareError, InvalidInput, RateLimited
from govshare.sharing import changes_service, data_service, export
from govshare.sharing.access import ORG, PERSON
from govshare.sharing.ratelimit import TokenBucket
from govshare.web.deps import READ_THEN_WRITE, database, header_text, require_application

router = APIRouter(tags=["数据接口"])

CODE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="信息资源代码")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Caller:
    actor: Actor
    operator: str


def _header(request: Request, name: str, label: str) -> str:
    value = header_text(request, name) or ""
    if not value:
        raise _bad_header(name, f"缺少 {name} 请求头（{label}），数据接口的每次调用都须说明")
    if len(value) > 200 or _CONTROL.search(value):
        raise _bad_header(name, f"{name} 请求头过长（最多 200 个字符）或含控制字符")
    return value


def _bad_header(name: str, message: str) -> GovshareError:
    return GovshareError(message, errors=[FieldError(name, message)])  # 400 bad_request


def _bucket(request: Request) -> TokenBucket:
    bucket = getattr(request.app.state, "data_rate", None)
    if bucket is None:
        bucket = TokenBucket(database(request).config.data_rate_per_second)
        request.app.state.data_rate = bucket
    return bucket


def caller(request: Request, actor: Actor = require_application(Permission.DATA_READ)) -> Caller:
    """The calling application (any data:read key), its purpose and operator, within its rate."""
    _header(request, "X-Purpose", "使用用途或案件编号")
    operator = _header(request, "X-Operator", "调用系统中的经办人")
    wait = _bucket(request).take(actor.application_code or actor.name)
    if wait is not None:
        raise RateLimited("本应用的数据接口请求过于频繁，请稍后再试", retry_after=wait)
    return Caller(actor, operator)


CALLER: Any = Depends(caller)


@router.get("/api/v1/data", summary="本应用可调用的资源及授权")
def my_resources(session: Session = READ_THEN_WRITE, who: Caller = CALLER) -> list[dict[str, Any]]:
    return data_service.my_resources(session, who.actor)


@router.get("/api/v1/data/{resource}/records/{key}", summary="按主键查询一条记录")
def get_record(
    resource: str = CODE,
    key: str = Path(min_length=1, max_length=200, description="主键值；多个主键项以英文逗号分隔"),
    session: Session = READ_THEN_WRITE,
    who: Caller = CALLER,
) -> dict[str, Any]:
    return data_service.get_record(session, who.actor, resource, key, operator=who.operator)


@router.get("/api/v1/data/{resource}/records", summary="按条件查询记录（游标分页）")
def query_records(
    request: Request,
    resource: str = CODE,
    limit: int | None = Query(None, ge=1, le=100_000, description="每页条数，超过节点上限按上限返回"),
    after: str | None = Query(None, max_length=64, description="上一页返回的 next"),
    session: Session = READ_THEN_WRITE,
    who: Caller = CALLER,
) -> dict[str, Any]:
    filters = _filters(request)
    page = data_service.query(
        session, who.actor, resource, filters, after=after, limit=limit, operator=who.operator
    )
    return {"items": page.items, "next": page.next, "limit": page.limit, "truncated": page.truncated}


def _filters(request: Request) -> dict[str, str]:
    """Every query parameter but the paging ones is an item filter: `?xb=1&hjdz_qx=110105`."""
    filters: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in ("limit", "after", "format"):
            continue
        if name in filters:
            raise InvalidInput.on(name, "同一信息项只能给出一个条件")
        if len(name) > 64 or len(value) > 200 or _CONTROL.search(name + value):
            raise InvalidInput.on(name[:64], "查询条件过长或含控制字符")
        filters[name] = value
    if len(filters) > 20:
        raise InvalidInput.on("query", "查询条件过多（最多 20 个）")
    return filters


@router.get("/api/v1/data/{resource}/export", summary="批量导出（CSV / NDJSON / Parquet，流式）")
def export_records(
    request: Request,
    resource: str = CODE,
    format: Literal["csv", "ndjson", "parquet"] = Query("csv", description="csv、ndjson 或 parquet"),
    session: Session = READ_THEN_WRITE,
    who: Caller = CALLER,
) -> StreamingResponse:
    plan = data_service.prepare_export(
        session, who.actor, resource, _filters(request), fmt=format, operator=who.operator
    )
    stamp = plan.as_of.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
    return StreamingResponse(
        export.stream(database(request), plan),
        media_type=export.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{resource}-{stamp}.{format}"',
            "X-Row-Count": str(plan.rows),
        },
    )


@router.get("/api/v1/data/{resource}/changes", summary="增量变更（供保存副本的应用同步）")
def changes(
    resource: str = CODE,
    since: str | None = Query(None, max_length=128, description="上一次返回的 next；不填从头开始"),
    limit: int | None = Query(None, ge=1, le=100_000),
    session: Session = READ_THEN_WRITE,
    who: Caller = CALLER,
) -> dict[str, Any]:
    page = changes_service.changes(session, who.actor, resource, since, limit=limit, operator=who.operator)
    return {"changes": page.changes, "next": page.next, "more": page.more}


class VerifyIn(Input):
    key: str = Field(min_length=1, max_length=200, description="主键值（如公民身份号码）")
    claims: dict[str, str | int | float | bool] = Field(
        min_length=1, max_length=50, description='待核验的信息项与声称的值，如 {"xm": "张三"}'
    )


@router.post("/api/v1/verify/{resource}", summary="核验：声称的信息是否与记录一致")
def verify(
    body: VerifyIn, resource: str = CODE, session: Session = READ_THEN_WRITE, who: Caller = CALLER
) -> dict[str, Any]:
    return data_service.verify(session, who.actor, resource, body.key, body.claims, operator=who.operator)


@router.get("/api/v1/person/{number}", summary="一号通查：按公民身份号码汇总本应用获授权的信息")
def person(
    number: str = Path(min_length=15, max_length=20), session: Session = READ_THEN_WRITE, who: Caller = CALLER
) -> dict[str, Any]:
    return data_service.one_number(session, who.actor, PERSON, number, operator=who.operator)


@router.get("/api/v1/org/{number}", summary="一号通查：按统一社会信用代码汇总本应用获授权的信息")
def org(
    number: str = Path(min_length=18, max_length=20), session: Session = READ_THEN_WRITE, who: Caller = CALLER
) -> dict[str, Any]:
    return data_service.one_number(session, who.actor, ORG, number, operator=who.operator)
