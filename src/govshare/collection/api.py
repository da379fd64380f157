"""/api/v1/collection: sources, runs and pushes (answered 202 with the batch; the batch is queued as a job in
the request's transaction, `govshare worker` runs it, and `GET /batches/{id}` shows its live progress),
batches, quarantine download and reprocessing."""

from __future__ import annotations

import io
import tempfile
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.collection import export, service
from govshare.collection.guided_service import read_sample as read_guided_sample
from govshare.collection.policies import PUSH, READ, RUN
from govshare.collection.readers import SourceUnreadable
from govshare.collection.schemas import (
    BatchOut,
    DueSource,
    GuidedSampleOut,
    PushRequest,
    SourceCreate,
    SourceOut,
)
from govshare.collection.service import Started
from govshare.core.archives import WorkbookRefused, check_workbook
from govshare.errors import InvalidInput
from govshare.jobs import service as job_service
from govshare.web.deps import DB_SESSION, database, require
from govshare.web.uploads import read_upload

router = APIRouter(prefix="/api/v1/collection", tags=["数据归集"])

BATCH_ID = Path(ge=1, le=2**31 - 1, description="批次号")
SOURCE_ID = Path(ge=1, le=2**31 - 1, description="数据源编号")
CSV_TYPE, XLSX_TYPE = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FIX_BYTES = 50 * 1024 * 1024
MAX_SAMPLE_BYTES = 50 * 1024 * 1024  # the portal's upload cap


def _queue(
    session: Session,
    actor: Actor,
    started: Started,
    *,
    path: str | None = None,
    records: list[object] | None = None,
) -> None:
    """Queue the started batch for the worker (pushed records are staged in a private file first)."""
    job_service.queue_batch(session, actor, started, path=path, records=records)


def _accepted(session: Session, actor: Actor, started: Started) -> BatchOut:
    session.flush()
    return service.get_batch(session, actor, started.prepared.batch_id)


@router.get("/batches", summary="归集批次列表")
def list_batches(
    resource: str | None = Query(None, max_length=200, description="资源代码或名称"),
    status: str | None = Query(None, pattern="^(running|succeeded|failed)$"),
    department_id: int | None = Query(None, ge=1, le=2**31 - 1, description="只看该部门（编号）的批次"),
    source_id: int | None = Query(None, ge=1, le=2**31 - 1, description="只看该数据源的批次"),
    limit: int = Query(50, ge=1, le=500),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> list[BatchOut]:
    service.detect_dead_batches(session, actor)
    return service.list_batches(
        session,
        actor,
        resource=resource,
        status=status,
        department_id=department_id,
        source_id=source_id,
        limit=limit,
    )


@router.get("/batches/{batch_id}", summary="批次状态与统计（运行中为实时进度）")
def get_batch(
    batch_id: int = BATCH_ID, session: Session = DB_SESSION, actor: Actor = require(READ, PUSH)
) -> BatchOut:
    return service.get_batch(session, actor, batch_id)


@router.get(
    "/batches/{batch_id}/quarantine",
    summary="下载隔离数据（JSON、CSV 或 XLSX）：行号、问题字段、规则、原因与原样数据",
    response_model=None,
)
def get_quarantine(
    batch_id: int = BATCH_ID,
    format: str = Query("json", pattern="^(json|csv|xlsx)$"),
    severity: str = Query("error", pattern="^(error|warning)$"),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> Any:
    _batch, rows = service.quarantine(session, actor, batch_id, severity=severity)
    if format == "json":
        return rows
    name = f"quarantine-{batch_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(export.to_csv(rows), media_type=f"{CSV_TYPE}; charset=utf-8", headers=headers)
    return Response(export.to_xlsx(rows), media_type=XLSX_TYPE, headers=headers)


async def _optional_fix(request: Request) -> bytes | None:
    if not request.headers.get("content-type") and request.headers.get("content-length") in (None, "0"):
        return None
    return await read_upload(
        request,
        media_types={CSV_TYPE, XLSX_TYPE, "application/csv"},
        max_bytes=MAX_FIX_BYTES,
        hint="请以请求体直接上传修正后的 CSV（text/csv）或 .xlsx 文件；不带请求体则按当前规则重新校验原数据",
    )


@router.post("/batches/{batch_id}/reprocess", status_code=202, summary="重新处理隔离数据（修正文件或原数据）")
def reprocess(
    request: Request,
    batch_id: int = BATCH_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    body: bytes | None = Depends(_optional_fix),
) -> BatchOut:
    db = database(request)
    if body is None:
        _b, rows = service.quarantine(session, actor, batch_id, unresolved=True)
        records = export.stored_records(rows)
        started = service.start_reprocess(session, actor, batch_id)
        _queue(session, actor, started, records=records)
        return _accepted(session, actor, started)
    suffix = ".xlsx" if request.headers.get("content-type", "").startswith(XLSX_TYPE) else ".csv"
    if suffix == ".xlsx":
        try:  # a zip bomb is refused now, before a batch is started for it
            check_workbook(body, name="修正文件")
        except WorkbookRefused as exc:
            raise InvalidInput.on("body", exc.message) from None
    db.config.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, dir=db.config.work_dir, delete=False) as handle:
        handle.write(body)
    started = service.start_reprocess(session, actor, batch_id, origin=f"上传的修正文件（批次 {batch_id}）")
    _queue(session, actor, started, path=handle.name)
    return _accepted(session, actor, started)


SAMPLE_TYPES = {
    CSV_TYPE,
    XLSX_TYPE,
    "application/csv",
    "text/plain",
    "text/tab-separated-values",
    "application/vnd.ms-excel",
    "application/json",
    "application/x-ndjson",
    "application/octet-stream",
}


async def _sample(request: Request) -> bytes:
    return await read_upload(
        request,
        media_types=SAMPLE_TYPES,
        max_bytes=MAX_SAMPLE_BYTES,
        hint="请以请求体直接上传样例文件（CSV、TSV、Excel 或 JSON），文件名由 filename 参数给出",
    )


@router.post("/guided-sample", summary="读取样例文件的表头与前几行，并按目录信息项推荐对应列（引导登记）")
def guided_sample(
    resource: str = Query(max_length=200, description="资源代码或名称"),
    filename: str = Query(max_length=255, description="样例文件名，按扩展名识别类型（.csv .xlsx .json …）"),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    body: bytes = Depends(_sample),  # after the caller is known: nobody makes the node read a body first
) -> GuidedSampleOut:
    """What the portal's guided registration reads in step 1, for a client building a mapping itself: the
    file's kind, detected encoding, columns and first rows, and `suggested` (item field → column)."""
    try:
        return read_guided_sample(session, actor, resource, io.BytesIO(body), filename)
    except SourceUnreadable as exc:
        raise InvalidInput.on("file", f"样例文件无法读取：{exc.message}") from None


@router.get("/sources", summary="数据源列表")
def list_sources(
    department_id: int | None = Query(None, ge=1, le=2**31 - 1, description="只看该部门（编号）的数据源"),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> list[SourceOut]:
    return service.list_sources(session, actor, department_id=department_id)


@router.get("/sources/due", summary="到期（超过更新周期未成功归集）的数据源")
def due_sources(session: Session = DB_SESSION, actor: Actor = require(READ)) -> list[DueSource]:
    return service.due_sources(session, actor)


@router.post("/sources", status_code=201, summary="登记或更新数据源（数据库表/查询或推送）")
def register_source(
    body: SourceCreate, session: Session = DB_SESSION, actor: Actor = require(RUN)
) -> SourceOut:
    return service.register_source(session, actor, body)


@router.post("/sources/{source_id}/runs", status_code=202, summary="立即运行数据源")
def run_source(
    request: Request,
    source_id: int = SOURCE_ID,
    mode: str | None = Query(None, pattern="^(full|incremental)$"),
    allow_removals: bool = Query(False, description="全量时允许关闭超过设定比例的现有记录"),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> BatchOut:
    started = service.start_source_run(session, actor, source_id, mode=mode, allow_removals=allow_removals)
    _queue(session, actor, started)
    return _accepted(session, actor, started)


@router.post("/sources/{source_id}/records", status_code=202, summary="推送一批记录（部门业务系统调用）")
def push_records(
    request: Request,
    body: PushRequest,
    source_id: int = SOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(PUSH),
) -> BatchOut:
    started = service.start_push(session, actor, source_id, len(body.records), mode=body.mode)
    _queue(session, actor, started, records=list(body.records))
    return _accepted(session, actor, started)
