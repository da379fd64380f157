"""Portal pages of one collection batch (批次): its live progress and counts, and its quarantined rows
(隔离区) reviewed, downloaded and reprocessed by those who may run the collection.

The batch page refreshes itself every 3 seconds while the batch runs (a `<meta http-equiv="refresh">`, no
JavaScript needed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path as FilePath

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.actor import Actor
from govshare.collection import export, policies, service
from govshare.collection.policies import READ, RUN
from govshare.collection.portal.common import (
    COUNT_LABELS,
    DONE,
    Resources,
    check_csrf,
    explain,
    page_helpers,
)
from govshare.collection.portal.uploads import CAPPED_FORM, queue_batch, save_upload, uploaded_file
from govshare.collection.schemas import COUNT_FIELDS, BatchOut, QuarantineOut
from govshare.errors import Conflict, InvalidInput
from govshare.web.deps import DB_SESSION, database, require
from govshare.web.forms import FormState, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)


BATCH_ID = Path(ge=1, le=2**31 - 1, description="批次号")
PAGE_SIZE = 50
REFRESH_SECONDS = 3


# ---------------------------------------------------------------- one batch


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


@dataclass
class Count:
    name: str
    label: str
    value: int


def _batch_view(session: Session, actor: Actor, batch_id: int) -> BatchOut:
    """The batch, failed first if it is running with its process gone (written by the request's unit)."""
    batch = service.get_batch(session, actor, batch_id)
    if batch.status == "running" and service.detect_dead_batches(session, actor):
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
        may_run=policies.may_run(actor, batch.department_id),
        done=DONE.get(done, ""),
        **page_helpers(),
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
        **page_helpers(),
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
    _batch, rows = service.quarantine(session, actor, batch_id, severity=severity)  # audited
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
    batch_id: int = BATCH_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    form: FormData = CAPPED_FORM,
) -> Response:
    """重新处理: with a corrected file (CSV/XLSX, as downloaded) or, without one, the stored rows validated
    again under the current mapping and code sets — as `POST …/batches/{id}/reprocess` does."""
    check_csrf(request, form.get("csrf_token"))
    db = database(request)
    upload = uploaded_file(form)
    path = None

    def shown_again(session: Session, form: FormState, _status: int) -> HTMLResponse:
        batch = service.get_batch(session, actor, batch_id)
        error = (form.error or "").removeprefix("file：")
        return _batch_page(request, session, actor, batch, status=422, error=error)

    with form_errors(shown_again, explain_error=explain, catch=(InvalidInput, Conflict)):
        if upload is None:
            _b, rows = service.quarantine(session, actor, batch_id, unresolved=True)
            records = export.stored_records(rows)
            started = service.start_reprocess(session, actor, batch_id)
        else:
            filename = (upload.filename or "").lower()
            if not filename.endswith((".csv", ".xlsx")):
                raise InvalidInput.on("file", "请上传下载后修正的 .csv 或 .xlsx 文件")
            path = save_upload(upload, db.config.work_dir, ".xlsx" if filename.endswith(".xlsx") else ".csv")
            records = None
            try:
                started = service.start_reprocess(
                    session, actor, batch_id, origin=f"上传的修正文件 {upload.filename}（批次 {batch_id}）"
                )
            except BaseException:
                FilePath(path).unlink(missing_ok=True)  # no batch will read it
                raise
    queue_batch(session, actor, started, path=path, records=records)
    return see_other(f"/collection/batches/{started.prepared.batch_id}?done=started")
