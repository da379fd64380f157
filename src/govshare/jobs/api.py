"""/api/v1/jobs: the background job queue (the platform admin): list, show, retry a dead job, cancel one
that waits."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.jobs import service
from govshare.jobs.policies import MANAGE, VIEW
from govshare.jobs.schemas import JobOut
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/jobs", tags=["后台任务"])

JOB_ID = Path(ge=1, le=2**31 - 1, description="任务编号")
STATES = "^(queued|running|succeeded|failed|dead|cancelled)$"


@router.get("", summary="后台任务列表（新的在前；before_id 翻页）")
def list_jobs(
    state: str | None = Query(None, pattern=STATES),
    kind: str | None = Query(None, max_length=64, pattern=r"^[a-z_.]+$"),
    before_id: int | None = Query(None, ge=1, le=2**31 - 1),
    limit: int = Query(50, ge=1, le=500),
    session: Session = DB_SESSION,
    actor: Actor = require(VIEW),
) -> list[JobOut]:
    return service.list_jobs(session, actor, state=state, kind=kind, before_id=before_id, limit=limit)


@router.get("/{job_id}", summary="后台任务详情：状态、尝试次数、最近的错误")
def get_job(job_id: int = JOB_ID, session: Session = DB_SESSION, actor: Actor = require(VIEW)) -> JobOut:
    return service.get_job(session, actor, job_id)


@router.post("/{job_id}/retry", summary="重试已放弃、已取消或等待重试的任务（立即运行）")
def retry_job(job_id: int = JOB_ID, session: Session = DB_SESSION, actor: Actor = require(MANAGE)) -> JobOut:
    return service.retry_job(session, actor, job_id)


@router.post("/{job_id}/cancel", summary="取消排队中或等待重试的任务")
def cancel_job(job_id: int = JOB_ID, session: Session = DB_SESSION, actor: Actor = require(MANAGE)) -> JobOut:
    return service.cancel_job(session, actor, job_id)
