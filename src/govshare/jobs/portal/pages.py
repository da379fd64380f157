"""Portal pages: 后台任务 (the platform admin). Calls the same services as the API.

`/admin/jobs` lists the queue newest first, by state, with keyset paging; `/admin/jobs/{id}` shows one job
(its attempts, last error and result) with 重试 / 取消 when they apply. Retrying and cancelling are audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.jobs import service
from govshare.jobs.policies import MANAGE, VIEW
from govshare.jobs.schemas import STATE_LABELS
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import beijing, check_csrf, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

PAGE = 50
JOB_ID = Path(ge=1, le=2**31 - 1)
STATE_TAGS = {
    "queued": "tag-conditional",
    "running": "tag-conditional",
    "succeeded": "tag-unconditional",
    "failed": "tag-conditional",
    "dead": "tag-none",
    "cancelled": "tag-none",
}


@router.get("/admin/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    state: str | None = Query(None, pattern="^(queued|running|succeeded|failed|dead|cancelled)$"),
    before: int | None = Query(None, ge=1, le=2**31 - 1),
    session: Session = DB_SESSION,
    actor: Actor = require(VIEW),
) -> HTMLResponse:
    jobs = service.list_jobs(session, actor, state=state, before_id=before, limit=PAGE)
    figures = service.queue_figures(session, actor)
    return render(
        request,
        "jobs_list.html",
        actor,
        jobs=jobs,
        state=state,
        states=STATE_LABELS,
        tags=STATE_TAGS,
        figures=figures,
        next_before=jobs[-1].id if len(jobs) == PAGE else None,
        beijing=beijing,
    )


@router.get("/admin/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request,
    job_id: int = JOB_ID,
    done: str | None = Query(None, pattern="^(retried|cancelled)$"),
    session: Session = DB_SESSION,
    actor: Actor = require(VIEW),
) -> HTMLResponse:
    job = service.get_job(session, actor, job_id)
    return render(
        request,
        "jobs_job.html",
        actor,
        job=job,
        tags=STATE_TAGS,
        may_manage=actor.scope_of(MANAGE) is not None,
        may_retry=job.state in service.RETRIABLE,
        may_cancel=job.state in service.CANCELLABLE,
        done={"retried": "已重新排队，worker 将尽快运行", "cancelled": "已取消"}.get(done or ""),
        beijing=beijing,
    )


@router.post("/admin/jobs/{job_id}/retry")
def job_retry(
    request: Request,
    job_id: int = JOB_ID,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(MANAGE),
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    service.retry_job(session, actor, job_id)
    return see_other(f"/admin/jobs/{job_id}?done=retried")


@router.post("/admin/jobs/{job_id}/cancel")
def job_cancel(
    request: Request,
    job_id: int = JOB_ID,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(MANAGE),
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    service.cancel_job(session, actor, job_id)
    return see_other(f"/admin/jobs/{job_id}?done=cancelled")
