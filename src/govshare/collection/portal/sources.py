"""Portal pages: 归集的总览与数据源. Calls the same services as the API.

A 数据管理员 sees the department's sources and recent batches, registers a source by pasting its mapping,
checks what a source's mapping does in a readable summary, uploads a file to a file source (or runs a
database source) and follows the batch live. This module has the overview and the data sources; a batch and
its quarantined rows are in batches.py, the guided registration in guided.py. Uploads are read by
uploads.py.
"""

from __future__ import annotations

from pathlib import Path as FilePath

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.actor import Actor
from govshare.auth.permissions import Scope
from govshare.collection import policies, service
from govshare.collection.mapping import DATABASE_KINDS, FILE_KINDS
from govshare.collection.policies import READ, RUN
from govshare.collection.portal.common import (
    DONE,
    KINDS,
    SUFFIXES,
    Resources,
    check_csrf,
    collectable_resources,
    cycle_label,
    department_names,
    explain,
    page_helpers,
)
from govshare.collection.portal.mapping_summary import MappingSummary, summarize, unreadable
from govshare.collection.portal.uploads import (
    CAPPED_FORM,
    MAX_UPLOAD_BYTES,
    queue_batch,
    save_upload,
    uploaded_file,
)
from govshare.collection.schemas import BatchOut, SourceCreate, SourceOut
from govshare.collection.service import CYCLES
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.identity import service as identity
from govshare.web.deps import DB_SESSION, database, require
from govshare.web.forms import ShowPage, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

# What a form on these pages shows again (422): input the person can correct, a conflict with what exists
# (a batch already running), or a resource that is missing.
REFUSED = (ValidationError, InvalidInput, Conflict, NotFound)

SOURCE_ID = Path(ge=1, le=2**31 - 1, description="数据源编号")

MAPPING_EXAMPLE = """source: {kind: csv, encoding: auto}
mode: full
columns:
  gmsfhm: 身份证号
  xm: {from: 姓名, normalize: text}
  xb: {from: 性别, map: {"0": "1", "1": "2"}}
"""


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
    names = department_names(session, actor)
    chosen_id = next((i for i, c in codes.items() if c == department), None) if node_wide else None
    resources = Resources(session, actor)
    sources = service.list_sources(session, actor, department_id=chosen_id)
    due = {d.source.id: d for d in service.due_sources(session, actor)}
    batches = service.list_batches(session, actor, status=status or None, department_id=chosen_id, limit=50)
    last: dict[int, BatchOut] = {}
    for batch in batches:
        if batch.source_id is not None:
            last.setdefault(batch.source_id, batch)
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
        **page_helpers(),
    )


# ---------------------------------------------------------------- registering a source


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
        resources=collectable_resources(session, actor),
        cycles=[(c, cycle_label(c)) for c in CYCLES],
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
    check_csrf(request, csrf_token)
    values = {"resource": resource, "name": name, "update_cycle": update_cycle, "mapping": mapping}
    with form_errors(
        lambda session, form, _status: _source_form(
            request, session, actor, status=422, error=form.error, values=form.values
        ),
        values=values,
        explain_error=explain,
        catch=REFUSED,
    ):
        data = SourceCreate(
            resource=resource.strip(),
            name=name.strip(),
            mapping=mapping,
            update_cycle=update_cycle or None,
        )
        created = service.register_source(session, actor, data)
    return see_other(f"/collection/sources/{created.id}?done=registered")


# ---------------------------------------------------------------- one source


def _mapping_summary(
    session: Session, actor: Actor, source: SourceOut, resources: Resources
) -> MappingSummary:
    """What the source's stored mapping does, from the parsed mapping (its connection password masked)."""
    try:
        mapping = service.source_mapping(session, actor, source.id)
    except InvalidInput as exc:
        return unreadable(explain(exc))
    return summarize(mapping, resources.definition_items(source.resource_id))


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
    source = service.get_source(session, actor, source_id)
    resources = Resources(session, actor)
    batches = service.list_batches(session, actor, source_id=source.id, limit=50)
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
        mapping=_mapping_summary(session, actor, source, resources),
        department_names=department_names(session, actor),
        may_run=policies.may_run(actor, source.department_id),
        is_file=source.kind in FILE_KINDS,
        is_database=source.kind in DATABASE_KINDS,
        suffixes="、".join(SUFFIXES.get(source.kind, ())),
        accept=",".join(SUFFIXES.get(source.kind, ())),
        max_mb=MAX_UPLOAD_BYTES // 1024 // 1024,
        removal_share=round(node_config(session).collection_max_removal_share * 100),
        **page_helpers(),
    )


def _shown_again(request: Request, actor: Actor, source_id: int) -> ShowPage:
    """The source page again after a refused run (422, as for every refusal on this page)."""
    return lambda session, form, _status: _source_page(
        request, session, actor, source_id, status=422, error=form.error
    )


@router.get("/collection/sources/{source_id:int}", response_class=HTMLResponse)
def source_page(
    request: Request,
    source_id: int = SOURCE_ID,
    done: str = Query("", max_length=32),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> HTMLResponse:
    return _source_page(request, session, actor, source_id, done=done)


@router.post("/collection/sources/{source_id:int}/upload", response_class=HTMLResponse)
def source_upload(
    request: Request,
    source_id: int = SOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
    form: FormData = CAPPED_FORM,
) -> Response:
    """上传文件并归集: the file source runs over the uploaded file, as `POST …/sources/{id}/runs` runs it."""
    check_csrf(request, form.get("csrf_token"))
    source = service.get_source(session, actor, source_id)
    upload = uploaded_file(form)
    mode = form.get("mode")
    allow_removals = form.get("allow_removals") == "1"
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
    path = save_upload(upload, db.config.work_dir, allowed[0])
    with form_errors(_shown_again(request, actor, source_id), explain_error=explain, catch=REFUSED):
        try:
            started = service.start_source_run(
                session,
                actor,
                source_id,
                mode=mode if isinstance(mode, str) and mode else None,
                upload_name=upload.filename,
                allow_removals=allow_removals,
            )
        except BaseException:
            FilePath(path).unlink(missing_ok=True)  # no batch will read it
            raise
    queue_batch(session, actor, started, path=path)
    return see_other(f"/collection/batches/{started.prepared.batch_id}?done=started")


@router.post("/collection/sources/{source_id:int}/run", response_class=HTMLResponse)
def source_run(
    request: Request,
    source_id: int = SOURCE_ID,
    mode: str = Form("", pattern="^(|full|incremental)$"),
    allow_removals: str = Form("", pattern="^(|1)$"),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(RUN),
) -> Response:
    """立即归集: a database source runs now, as `POST /api/v1/collection/sources/{id}/runs` does."""
    check_csrf(request, csrf_token)
    source = service.get_source(session, actor, source_id)
    if source.kind in FILE_KINDS:
        return _source_page(
            request, session, actor, source_id, status=422, error="文件型数据源请上传文件归集"
        )
    with form_errors(_shown_again(request, actor, source_id), explain_error=explain, catch=REFUSED):
        started = service.start_source_run(
            session, actor, source_id, mode=mode or None, allow_removals=allow_removals == "1"
        )
    queue_batch(session, actor, started)
    return see_other(f"/collection/batches/{started.prepared.batch_id}?done=started")
