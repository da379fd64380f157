"""The public open-data API (/api/open/v1): no login, rate-limited per client address.

Every route is public (`public_reader`: the caller, if any, is identified in the read-only session), counts
itself in the usage statistics, and first takes a token from the caller's address's bucket
(`GOVSHARE_OPEN_RATE_PER_SECOND`, twice that as a burst): past it, 429 with Retry-After and a Chinese
problem document.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.catalog import dcat as catalog_dcat
from govshare.catalog.dcat_api import negotiate
from govshare.errors import RateLimited
from govshare.opendata import dcat, downloads, service
from govshare.opendata.schemas import DatasetOut, DatasetPageOut, RecordsOut, StatsOut
from govshare.sharing.ratelimit import TokenBucket
from govshare.web.deps import READ_THEN_WRITE, client_addr, public_reader

router = APIRouter(prefix="/api/open/v1", tags=["数据开放"])

CODE = Path(
    min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="开放数据集（信息资源）代码"
)
PUBLIC = "open data is published to the public without login"
MAX_ADDRESSES = 100_000  # buckets kept per process; beyond it they start afresh


def _bucket(request: Request) -> TokenBucket:
    bucket: TokenBucket | None = getattr(request.app.state, "open_rate", None)
    if bucket is None or len(bucket) > MAX_ADDRESSES:
        bucket = TokenBucket(request.app.state.settings.open_rate_per_second)
        request.app.state.open_rate = bucket
    return bucket


def rate_limit(request: Request) -> None:
    """One token per request from the client address's bucket, before any database work."""
    wait = _bucket(request).take(client_addr(request) or "unknown")
    if wait is not None:
        raise RateLimited("数据开放接口请求过于频繁，请稍后再试", retry_after=wait)


LIMITED: Any = Depends(rate_limit)


@router.get("/datasets", summary="检索开放数据集", response_model=DatasetPageOut)
def list_datasets(
    q: str = Query("", max_length=100, description="关键词，按名称、摘要、提供方和信息项检索"),
    provider: str | None = Query(None, max_length=32, description="提供方代码"),
    classification: str | None = Query(None, max_length=40, description="分类（如 base:legal_person）"),
    page: int = Query(1, ge=1, le=service.MAX_PAGE),
    page_size: int = Query(service.PAGE_SIZE, ge=1, le=100),
    _limited: None = LIMITED,
    session: Session = READ_THEN_WRITE,
    actor: Actor = public_reader(PUBLIC),
) -> DatasetPageOut:
    found = service.search(
        session, actor, q=q, provider=provider, classification=classification, page=page, page_size=page_size
    )
    service.count(session, 0, "api_calls")
    return DatasetPageOut.of(found)


@router.get("/datasets/{code}", summary="开放数据集详情", response_model=DatasetOut)
def get_dataset(
    code: str = CODE,
    _limited: None = LIMITED,
    session: Session = READ_THEN_WRITE,
    actor: Actor = public_reader(PUBLIC),
) -> DatasetOut:
    found = service.dataset(session, actor, code)
    service.count(session, found.resource_id, "api_calls")
    return DatasetOut.of(found)


@router.get(
    "/datasets/{code}/records",
    summary="分页读取开放数据集的记录（仅开放的信息项）",
    response_model=RecordsOut,
)
def get_records(
    code: str = CODE,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(service.RECORDS_PAGE_SIZE, ge=1, le=service.RECORDS_PAGE_MAX),
    _limited: None = LIMITED,
    session: Session = READ_THEN_WRITE,
    actor: Actor = public_reader(PUBLIC),
) -> RecordsOut:
    return RecordsOut.of(service.records(session, actor, code, page=page, page_size=page_size))


@router.get(
    "/datasets/{code}/download",
    summary="下载开放数据集（CSV / XLSX / JSON）",
    response_class=FileResponse,
    responses={200: {"content": {m.split(";")[0]: {} for m in downloads.MEDIA_TYPES.values()}}},
)
def download(
    code: str = CODE,
    fmt: Literal["csv", "xlsx", "json"] = Query("csv", alias="format"),
    _limited: None = LIMITED,
    session: Session = READ_THEN_WRITE,
    actor: Actor = public_reader(PUBLIC),
) -> FileResponse:
    dataset, path = downloads.download(session, actor, code, fmt)
    return FileResponse(
        path,
        media_type=downloads.MEDIA_TYPES[fmt],
        filename=f"{dataset.code}.{fmt}",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get(
    "/dcat",
    summary="以 DCAT-AP 3.0.1 导出开放数据目录（JSON-LD 或 Turtle）",
    response_class=Response,
    responses={200: {"content": {"application/ld+json": {}, "text/turtle": {}}}},
)
def dcat_export(
    request: Request,
    fmt: Literal["jsonld", "turtle"] | None = Query(None, alias="format"),
    _limited: None = LIMITED,
    session: Session = READ_THEN_WRITE,
    actor: Actor = public_reader(PUBLIC),
) -> Response:
    chosen = fmt or negotiate(request.headers.get("accept"))
    graph = dcat.open_catalog(session, actor, base_url=str(request.base_url), fmt=chosen)
    service.count(session, 0, "api_calls")
    return Response(
        content=catalog_dcat.serialize(graph, chosen),
        media_type=catalog_dcat.MEDIA_TYPES[chosen],
        headers={"Vary": "Accept"},
    )


@router.get("/stats", summary="数据开放的使用统计", response_model=StatsOut)
def get_stats(
    _limited: None = LIMITED,
    session: Session = READ_THEN_WRITE,
    actor: Actor = public_reader(PUBLIC),
) -> StatsOut:
    result = service.stats(session, actor)
    service.count(session, 0, "api_calls")
    return StatsOut.of(result)
