"""Portal pages: 归集：数据源、批次（实时进度）、隔离区复核与下载. Calls the same services as the API.

A 数据管理员 sees the department's sources and recent batches, registers a source by pasting its mapping,
uploads a file to a file source (or runs a database source) and follows the batch live: the batch page
refreshes itself every 3 seconds while the batch runs (a `<meta http-equiv="refresh">`, no JavaScript
needed). Quarantined rows are reviewed, downloaded and reprocessed by those who may run the collection.

Uploads are read here, not by FastAPI's `File()`: the request body is spooled to the node's work directory
with a size cap first (Starlette alone would spool a multipart file of any size), then parsed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import service as catalog
from govshare.catalog.schemas import ResourceOut
from govshare.catalog.vocabulary import UpdateCycle
from govshare.collection import export, jobs, service
from govshare.collection.mapping import DATABASE_KINDS, FILE_KINDS
from govshare.collection.policies import READ, RUN
from govshare.collection.schemas import COUNT_FIELDS, BatchOut, QuarantineOut, SourceCreate, SourceOut
from govshare.collection.service import CYCLES, Started
from govshare.core.db import Database
from govshare.errors import Conflict, CsrfFailed, GovshareError, InvalidInput, NotFound, PayloadTooLarge
from govshare.identity import service as identity
from govshare.web.deps import DB_SESSION, csrf_valid, database, require
from govshare.web.portal import render
from govshare.web.portal_sharing import beijing

router = APIRouter(include_in_schema=False)

SOURCE_ID = Path(ge=1, le=2**62, description="数据源编号")
BATCH_ID = Path(ge=1, le=2**62, description="批次号")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PAGE_SIZE = 50
REFRESH_SECONDS = 3

STATUS = {
    "running": ("运行中", "tag-open"),
    "succeeded": ("成功", "tag-unconditional"),
    "failed": ("失败", "tag-none"),
}
PHASES = {"reading": "读取与校验", "merging": "比对入库", "done": "已结束"}
KINDS = {
    "csv": "CSV 文件",
    "tsv": "TSV 文件",
    "xlsx": "Excel 文件（.xlsx）",
    "xls": "Excel 文件（.xls）",
    "json": "JSON 文件",
    "ndjson": "NDJSON 文件",
    "postgresql": "PostgreSQL 数据库",
    "mysql": "MySQL 数据库",
    "sqlite": "SQLite 数据库",
    "push": "系统推送",
}
SUFFIXES = {
    "csv": (".csv", ".txt"),
    "tsv": (".tsv", ".txt"),
    "xlsx": (".xlsx",),
    "xls": (".xls",),
    "json": (".json",),
    "ndjson": (".ndjson", ".jsonl"),
}
MODES = {"full": "全量", "incremental": "增量"}
BATCH_KINDS = {"run": "运行", "push": "推送", "reprocess": "重新处理"}
COUNT_LABELS = {
    "inserted": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "superseded": "批内被覆盖",
    "deleted": "删除",
    "empty": "空行",
    "rejected": "隔离",
}
DONE = {
    "registered": "数据源已登记。",
    "started": "批次已开始，页面会自动刷新显示进度。",
}
MAPPING_EXAMPLE = """source: {kind: csv, encoding: auto}
mode: full
columns:
  gmsfhm: 身份证号
  xm: {from: 姓名, normalize: text}
  xb: {from: 性别, map: {"0": "1", "1": "2"}}
"""
FIELD_LABELS = {"resource": "信息资源", "name": "数据源名称", "mapping": "映射", "update_cycle": "更新周期"}


# ---------------------------------------------------------------- helpers


def _may(actor: Actor, permission: Permission, department_id: int) -> bool:
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_id == department_id)


def _csrf(request: Request, token: object) -> None:
    if not isinstance(token, str) or not csrf_valid(request, token):
        raise CsrfFailed()


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:5]:
            loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
            where = FIELD_LABELS.get(loc[0], loc[0]) if loc else ""
            kind = error.get("type", "")
            text = {
                "missing": "必须填写",
                "string_too_short": "不能为空",
                "string_pattern_mismatch": "只能包含中文、字母、数字、下划线和连字符",
                "string_too_long": "太长",
            }.get(kind, "取值无效")
            parts.append(f"{where}：{text}" if where else text)
        return "；".join(parts) or "输入不合法"
    if isinstance(exc, InvalidInput) and exc.errors:
        return "；".join(f"{FIELD_LABELS.get(e.field, e.field)}：{e.message}" for e in exc.errors)
    return str(getattr(exc, "message", exc))


def _cycle_label(cycle: str | None) -> str:
    if not cycle:
        return "按目录资源的更新周期"
    try:
        return UpdateCycle(cycle).label
    except ValueError:
        return cycle


class Resources:
    """The catalog entries the pages mention, read once each through the catalog service."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self._seen: dict[int, ResourceOut | None] = {}

    def get(self, resource_id: int) -> ResourceOut | None:
        if not self.actor.scope_of(Permission.CATALOG_READ):
            return None
        if resource_id not in self._seen:
            try:
                self._seen[resource_id] = catalog.get_resource(self.session, self.actor, resource_id)
            except GovshareError:
                self._seen[resource_id] = None
        return self._seen[resource_id]

    def name(self, resource_id: int) -> str:
        found = self.get(resource_id)
        return found.name if found else f"资源 {resource_id}"

    def code(self, resource_id: int) -> str | None:
        found = self.get(resource_id)
        return found.code if found else None

    def provider(self, resource_id: int) -> str | None:
        found = self.get(resource_id)
        return found.provider_code if found else None

    def items(self, resource_id: int) -> dict[str, str]:
        """Field name → the item's Chinese name."""
        found = self.get(resource_id)
        version = (found.current or found.pending) if found else None
        return {i["field"]: i["name"] for i in version.definition["items"]} if version else {}


def _department_names(session: Session, actor: Actor) -> dict[int, str]:
    if actor.scope_of(Permission.DEPARTMENT_READ):
        return {d.id: d.name for d in identity.list_departments(session, actor)}
    return identity.department_codes(session)


def _visible_source(session: Session, actor: Actor, source_id: int) -> SourceOut:
    found = next((s for s in service.list_sources(session, actor) if s.id == source_id), None)
    if found is None:
        raise NotFound(f"数据源 {source_id} 不存在")
    return found


def _elapsed(batch: BatchOut) -> str:
    end = batch.finished_at or batch.heartbeat_at
    seconds = max(int((end - batch.started_at).total_seconds()), 0)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} 小时 {minutes} 分 {seconds} 秒"
    return f"{minutes} 分 {seconds} 秒" if minutes else f"{seconds} 秒"


def _percent(batch: BatchOut) -> int | None:
    if batch.status == "succeeded":
        return 100
    if not batch.bytes_total:
        return None
    return min(int(batch.bytes_done * 100 / batch.bytes_total), 100)


def _page_helpers() -> dict[str, Any]:
    return {
        "beijing": beijing,
        "states": STATUS,
        "phases": PHASES,
        "kinds": KINDS,
        "modes": MODES,
        "batch_kinds": BATCH_KINDS,
        "count_labels": COUNT_LABELS,
        "cycle_label": _cycle_label,
    }


def _background(
    tasks: BackgroundTasks,
    db: Database,
    actor: Actor,
    started: Started,
    *,
    path: str | None = None,
    records: list[object] | None = None,
) -> None:
    """Run the started batch after the response, as the API does; an uploaded file is removed after."""

    def work() -> None:
        try:
            jobs.run_started(db, actor, started, path=path, records=records)
        finally:
            if path is not None:
                FilePath(path).unlink(missing_ok=True)

    tasks.add_task(work)


async def _capped_form(request: Request) -> AsyncIterator[FormData]:
    """The submitted form (multipart or urlencoded), its body spooled to the work directory first and
    refused past MAX_UPLOAD_BYTES, before or while reading."""
    too_large = (
        f"文件不能超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB；更大的文件请用命令行 govshare ingest 归集"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(too_large)
    work_dir = database(request).config.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=work_dir) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise PayloadTooLarge(too_large)
            spool.write(chunk)
        spool.seek(0)

        async def receive() -> Message:
            chunk = spool.read(1 << 16)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

        form = await Request(request.scope, receive).form(max_files=1, max_fields=10)
    try:
        yield form
    finally:
        await form.close()


CAPPED_FORM: Any = Depends(_capped_form)


def _uploaded(form: FormData) -> UploadFile | None:
    value = form.get("file")
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def _save(upload: UploadFile, work_dir: FilePath, suffix: str) -> str:
    work_dir.mkdir(parents=True, exist_ok=True)
    upload.file.seek(0)
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, dir=work_dir, delete=False) as handle:
        shutil.copyfileobj(upload.file, handle)
    return handle.name


# ---------------------------------------------------------------- the overview


@router.get("/collection", response_class=HTMLResponse)
def collection_home(
    request: Request,
    department: str = Query("", max_length=32, pattern=r"^[A-Za-z0-9_-]*$"),
    status: str = Query("", pattern="^(|running|succeeded|failed)$"),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> HTMLResponse:
    service.detect_dead_batches(session, actor)
    node_wide = actor.scope_of(READ) == Scope.ALL
    codes = identity.department_codes(session)
    names = _department_names(session, actor)
    chosen_id = next((i for i, c in codes.items() if c == department), None) if node_wide else None
    resources = Resources(session, actor)
    sources = [s for s in service.list_sources(session, actor) if chosen_id in (None, s.department_id)]
    due = {d.source.id: d for d in service.due_sources(session, actor)}
    batches = service.list_batches(session, actor, status=status or None, limit=200 if chosen_id else 50)
    if chosen_id is not None:
        batches = [b for b in batches if resources.provider(b.resource_id) == department][:50]
    last: dict[int, BatchOut] = {}
    for batch in batches:
        if batch.source_id is not None:
            last.setdefault(batch.source_id, batch)
    session.commit()  # batches found dead were failed (and audited)
    return render(
        request,
        "collection_home.html",
        actor,
        sources=sources,
        due=due,
        batches=batches,
        last=last,
        resources=resources,
        node_wide=node_wide,
        departments=[(codes[i], n) for i, n in names.items() if i in codes],
        department_names=names,
        department=department if chosen_id is not None else "",
        status_filter=status,
        may_run=bool(actor.scope_of(RUN)),
        **_page_helpers(),
    )


# ---------------------------------------------------------------- registering a source


def _own_resources(session: Session, actor: Actor) -> list[ResourceOut]:
    """Published resources the actor may collect into (its department's, or every one at node scope)."""
    if not actor.scope_of(Permission.CATALOG_READ):
        return []
    code = None
    if actor.scope_of(RUN) != Scope.ALL:
        code = identity.department_codes(session).get(actor.department_id or 0)
        if code is None:
            return []
    found = catalog.list_resources(session, actor, department_code=code)
    return [r for r in found if r.current is not None and r.status == "active" and r.code]


def _source_form(
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
        "collection_source_new.html",
        actor,
        status=status,
        error=error,
        values=values or {"mapping": MAPPING_EXAMPLE},
        resources=_own_resources(session, actor),
        cycles=[(c, _cycle_label(c)) for c in CYCLES],
    )


@router.get("/collection/sources/new", response_class=HTMLResponse)
def source_new(request: Request, session: Session = DB_SESSION, actor: Actor = require(RUN)) -> HTMLResponse:
    return _source_form(request, session, actor)


@router.post("/collection/sources", response_class=HTMLResponse)
def source_create(
    request: Request,
    resource: str = Form("", max_length=200),
    name: str = Form("", max_length=200),
    update_cycle: str = Form("", max_length=32),
    mapping: str = Form("", max_length=200_000),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> Response:
    _csrf(request, csrf_token)
    values = {"resource": resource, "name": name, "update_cycle": update_cycle, "mapping": mapping}
    try:
        data = SourceCreate(
            resource=resource.strip(),
            name=name.strip(),
            mapping=mapping,
            update_cycle=update_cycle or None,
        )
        created = service.register_source(session, actor, data)
    except (ValidationError, InvalidInput, Conflict, NotFound) as exc:
        session.rollback()
        return _source_form(request, session, actor, status=422, error=_explain(exc), values=values)
    session.commit()
    return _redirect(f"/collection/sources/{created.id}?done=registered")


# ---------------------------------------------------------------- one source


def _source_page(
    request: Request,
    session: Session,
    actor: Actor,
    source_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    done: str = "",
) -> HTMLResponse:
    source = _visible_source(session, actor, source_id)
    resources = Resources(session, actor)
    batches = [b for b in service.list_batches(session, actor, limit=500) if b.source_id == source.id][:50]
    due = next((d for d in service.due_sources(session, actor) if d.source.id == source.id), None)
    return render(
        request,
        "collection_source.html",
        actor,
        status=status,
        error=error,
        done=DONE.get(done, ""),
        source=source,
        resource=resources.get(source.resource_id),
        resource_name=resources.name(source.resource_id),
        batches=batches,
        due=due,
        department_names=_department_names(session, actor),
        may_run=_may(actor, RUN, source.department_id),
        is_file=source.kind in FILE_KINDS,
        is_database=source.kind in DATABASE_KINDS,
        suffixes="、".join(SUFFIXES.get(source.kind, ())),
        accept=",".join(SUFFIXES.get(source.kind, ())),
        max_mb=MAX_UPLOAD_BYTES // 1024 // 1024,
        **_page_helpers(),
    )


@router.get("/collection/sources/{source_id}", response_class=HTMLResponse)
def source_page(
    request: Request,
    source_id: int = SOURCE_ID,
    done: str = Query("", max_length=32),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> HTMLResponse:
    return _source_page(request, session, actor, source_id, done=done)


@router.post("/collection/sources/{source_id}/upload", response_class=HTMLResponse)
def source_upload(
    request: Request,
    tasks: BackgroundTasks,
    source_id: int = SOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    form: FormData = CAPPED_FORM,
) -> Response:
    """上传文件并归集: the file source runs over the uploaded file, as `POST …/sources/{id}/runs` runs it."""
    _csrf(request, form.get("csrf_token"))
    source = _visible_source(session, actor, source_id)
    upload = _uploaded(form)
    mode = form.get("mode")
    allowed = SUFFIXES.get(source.kind, ())
    error = None
    if source.kind not in FILE_KINDS:
        error = f"该数据源为{KINDS.get(source.kind, source.kind)}，不能上传文件归集"
    elif upload is None:
        error = "请选择要上传的文件"
    elif not (upload.filename or "").lower().endswith(allowed):
        error = f"该数据源为{KINDS[source.kind]}，请上传扩展名为 {'、'.join(allowed)} 的文件"
    elif mode not in (None, "", "full", "incremental"):
        error = "归集方式无效"
    if error is not None or upload is None:
        return _source_page(request, session, actor, source_id, status=422, error=error)
    db = database(request)
    path = _save(upload, db.config.work_dir, allowed[0])
    try:
        started = service.start_source_run(
            session,
            actor,
            source_id,
            mode=mode if isinstance(mode, str) and mode else None,
            upload_name=upload.filename,
        )
    except (InvalidInput, Conflict, NotFound) as exc:
        FilePath(path).unlink(missing_ok=True)
        session.rollback()
        return _source_page(request, session, actor, source_id, status=422, error=_explain(exc))
    session.commit()
    _background(tasks, db, actor, started, path=path)
    return _redirect(f"/collection/batches/{started.prepared.batch_id}?done=started")


@router.post("/collection/sources/{source_id}/run", response_class=HTMLResponse)
def source_run(
    request: Request,
    tasks: BackgroundTasks,
    source_id: int = SOURCE_ID,
    mode: str = Form("", pattern="^(|full|incremental)$"),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> Response:
    """立即归集: a database source runs now, as `POST /api/v1/collection/sources/{id}/runs` does."""
    _csrf(request, csrf_token)
    source = _visible_source(session, actor, source_id)
    if source.kind in FILE_KINDS:
        return _source_page(
            request, session, actor, source_id, status=422, error="文件型数据源请上传文件归集"
        )
    try:
        started = service.start_source_run(session, actor, source_id, mode=mode or None)
    except (InvalidInput, Conflict, NotFound) as exc:
        session.rollback()
        return _source_page(request, session, actor, source_id, status=422, error=_explain(exc))
    session.commit()
    _background(tasks, database(request), actor, started)
    return _redirect(f"/collection/batches/{started.prepared.batch_id}?done=started")


# ---------------------------------------------------------------- one batch


@dataclass
class Count:
    name: str
    label: str
    value: int


def _batch_view(session: Session, actor: Actor, batch_id: int) -> BatchOut:
    batch = service.get_batch(session, actor, batch_id)
    if batch.status == "running" and service.detect_dead_batches(session, actor):
        session.commit()
        batch = service.get_batch(session, actor, batch_id)
    return batch


def _batch_page(
    request: Request,
    session: Session,
    actor: Actor,
    batch: BatchOut,
    *,
    status: int = 200,
    error: str | None = None,
    done: str = "",
) -> HTMLResponse:
    resources = Resources(session, actor)
    provider = resources.provider(batch.resource_id)
    department_id = next((i for i, c in identity.department_codes(session).items() if c == provider), None)
    return render(
        request,
        "collection_batch.html",
        actor,
        status=status,
        error=error,
        batch=batch,
        counts=[Count(name, COUNT_LABELS[name], getattr(batch, name)) for name in COUNT_FIELDS],
        accounted=batch.accounted,
        balanced=batch.accounted == batch.read,
        percent=_percent(batch),
        elapsed=_elapsed(batch),
        running=batch.status == "running",
        refresh=REFRESH_SECONDS,
        resource_name=resources.name(batch.resource_id),
        resource_code=resources.code(batch.resource_id),
        may_run=department_id is not None and _may(actor, RUN, department_id),
        done=DONE.get(done, ""),
        **_page_helpers(),
    )


@router.get("/collection/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    batch_id: int = BATCH_ID,
    done: str = Query("", max_length=32),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> HTMLResponse:
    return _batch_page(request, session, actor, _batch_view(session, actor, batch_id), done=done)


# ---------------------------------------------------------------- quarantine


@dataclass
class QuarantineLine:
    row: QuarantineOut
    field_label: str
    value: str
    record: dict[str, str]


def _record(row: QuarantineOut) -> dict[str, str]:
    if row.raw_is_line:
        return {export.RAW_LINE: row.raw}
    try:
        parsed = json.loads(row.raw)
    except ValueError:
        return {export.RAW_LINE: row.raw}
    if not isinstance(parsed, dict):
        return {export.RAW_LINE: row.raw}
    return {str(k): "" if v is None else str(v) for k, v in parsed.items() if k != export.LEAD[0]}


@router.get("/collection/batches/{batch_id}/quarantine", response_class=HTMLResponse)
def quarantine_page(
    request: Request,
    batch_id: int = BATCH_ID,
    severity: str = Query("error", pattern="^(error|warning)$"),
    column: str = Query("", max_length=200),
    rule: str = Query("", max_length=40),
    page: int = Query(1, ge=1, le=100_000),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> HTMLResponse:
    batch, rows = service.quarantine(session, actor, batch_id, severity=severity)
    resources = Resources(session, actor)
    names = resources.items(batch.resource_id)
    columns = sorted({r.column for r in rows if r.column})
    rules = sorted({r.rule for r in rows})
    chosen = [r for r in rows if (not column or r.column == column) and (not rule or r.rule == rule)]
    pages = max((len(chosen) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, pages)
    lines = []
    for row in chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        record = _record(row)
        label = f"{names[row.column]}（{row.column}）" if row.column in names else (row.column or "")
        value = ""
        if row.column:
            value = record.get(row.column, record.get(names.get(row.column, ""), ""))
        lines.append(QuarantineLine(row, label, value, record))
    record_columns: dict[str, None] = {}
    for line in lines:
        record_columns.update(dict.fromkeys(line.record))
    session.commit()  # the read is audited: the rows hold personal data
    return render(
        request,
        "collection_quarantine.html",
        actor,
        batch=batch,
        lines=lines,
        total=len(rows),
        shown=len(chosen),
        record_columns=list(record_columns),
        has_values=any(line.value for line in lines),
        columns=[(c, f"{names[c]}（{c}）" if c in names else c) for c in columns],
        rules=rules,
        severity=severity,
        column=column,
        rule=rule,
        page=page,
        pages=pages,
        resource_name=resources.name(batch.resource_id),
        unresolved=sum(1 for r in rows if r.resolved_by is None),
        **_page_helpers(),
    )


@router.get("/collection/batches/{batch_id}/quarantine/download", response_model=None)
def quarantine_download(
    batch_id: int = BATCH_ID,
    format: str = Query("csv", pattern="^(csv|xlsx)$"),
    severity: str = Query("error", pattern="^(error|warning)$"),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> Response:
    """The same file as `GET /api/v1/collection/batches/{id}/quarantine?format=…`."""
    _batch, rows = service.quarantine(session, actor, batch_id, severity=severity)
    session.commit()
    name = f"quarantine-{batch_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(export.to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(
        export.to_xlsx(rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )


@router.post("/collection/batches/{batch_id}/reprocess", response_class=HTMLResponse)
def reprocess(
    request: Request,
    tasks: BackgroundTasks,
    batch_id: int = BATCH_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    form: FormData = CAPPED_FORM,
) -> Response:
    """重新处理: with a corrected file (CSV/XLSX, as downloaded) or, without one, the stored rows validated
    again under the current mapping and code sets — as `POST …/batches/{id}/reprocess` does."""
    _csrf(request, form.get("csrf_token"))
    db = database(request)
    upload = _uploaded(form)
    path = None
    try:
        if upload is None:
            _b, rows = service.quarantine(session, actor, batch_id, unresolved=True)
            records = export.stored_records(rows)
            started = service.start_reprocess(session, actor, batch_id)
        else:
            filename = (upload.filename or "").lower()
            if not filename.endswith((".csv", ".xlsx")):
                raise InvalidInput.on("file", "请上传下载后修正的 .csv 或 .xlsx 文件")
            path = _save(upload, db.config.work_dir, ".xlsx" if filename.endswith(".xlsx") else ".csv")
            records = None
            started = service.start_reprocess(
                session, actor, batch_id, origin=f"上传的修正文件 {upload.filename}（批次 {batch_id}）"
            )
    except (InvalidInput, Conflict) as exc:
        if path is not None:
            FilePath(path).unlink(missing_ok=True)
        session.rollback()
        batch = service.get_batch(session, actor, batch_id)
        message = _explain(exc).removeprefix("file：")
        return _batch_page(request, session, actor, batch, status=422, error=message)
    session.commit()
    _background(tasks, db, actor, started, path=path, records=records)
    return _redirect(f"/collection/batches/{started.prepared.batch_id}?done=started")
