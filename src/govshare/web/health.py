"""/healthz (the process answers), /readyz (the database answers and is migrated), /metrics (requests and
the job queue)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from govshare.auth.actor import Actor
from govshare.core import security
from govshare.core.migrations import current_revision, head_revision
from govshare.errors import AuthenticationRequired
from govshare.jobs import service as job_service
from govshare.web.deps import public

router = APIRouter(tags=["运行状态"])
log = structlog.get_logger(__name__)


@router.get("/healthz", summary="存活检查", dependencies=[public("liveness probe for orchestrators")])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="就绪检查", dependencies=[public("readiness probe for orchestrators")])
def readyz(request: Request) -> JSONResponse:
    db = request.app.state.db
    try:
        revision = current_revision(db.engine)
    except Exception as exc:  # any database failure means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}, status_code=503
        )
    head = head_revision()
    if revision != head:
        return JSONResponse(
            {"status": "unavailable", "database": "not_migrated", "revision": revision, "expected": head},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": db.backend, "revision": revision})


@router.get(
    "/metrics",
    summary="Prometheus 指标",
    dependencies=[public("scraped by Prometheus; protected by GOVSHARE_METRICS_TOKEN when set")],
)
def metrics(request: Request) -> PlainTextResponse:
    token = request.app.state.settings.metrics_token
    if token is not None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not security.same(presented, token.get_secret_value()):
            raise AuthenticationRequired("访问指标需要 GOVSHARE_METRICS_TOKEN 令牌")
    _observe_jobs(request)
    return PlainTextResponse(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )


def _observe_jobs(request: Request) -> None:
    """The job queue's gauges: jobs per state, and how long the oldest due job has waited (a worker that is
    down or behind shows here first). A database that does not answer leaves them as they were (/readyz
    reports it)."""
    metrics = request.app.state.metrics
    try:
        with request.app.state.db.transaction(readonly=True) as session:
            figures = job_service.queue_figures(session, Actor.anonymous())
    except Exception:
        log.warning("metrics_jobs_unavailable", exc_info=True)
        return
    for state, count in figures.by_state.items():
        metrics.jobs.labels(state).set(count)
    metrics.jobs_oldest_due.set(figures.oldest_due_seconds)
