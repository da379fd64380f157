"""/healthz (the process answers), /readyz (the database answers and is migrated), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from govshare.core import security
from govshare.core.migrations import current_revision, head_revision
from govshare.errors import AuthenticationRequired
from govshare.web.deps import public

router = APIRouter(tags=["运行状态"])


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
    return PlainTextResponse(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
