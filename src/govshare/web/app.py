"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

import govshare
from govshare import logging as node_logging
from govshare.applications.api import router as applications_router
from govshare.applications.portal import router as applications_portal_router
from govshare.audit.api import router as audit_router
from govshare.audit.portal import router as audit_portal_router
from govshare.catalog.api import router as catalog_router
from govshare.catalog.dcat_api import router as dcat_router
from govshare.catalog.excel_api import router as excel_router
from govshare.catalog.portal import router as catalog_portal_router
from govshare.collection.api import router as collection_router
from govshare.collection.connections_api import router as connections_router
from govshare.collection.portal import router as collection_portal_router
from govshare.core.db import Database
from govshare.identity.api import router as identity_router
from govshare.identity.portal import router as identity_portal_router
from govshare.inventory.api import router as inventory_router
from govshare.jobs.api import router as jobs_router
from govshare.jobs.portal import router as jobs_portal_router
from govshare.opendata.api import router as open_data_router
from govshare.opendata.portal import router as opendata_portal_router
from govshare.overview.api import router as overview_router
from govshare.overview.portal import router as overview_portal_router
from govshare.settings import Settings, get_settings
from govshare.sharing.api import router as sharing_router
from govshare.sharing.api import trace_router
from govshare.sharing.data_api import router as data_router
from govshare.sharing.portal import router as sharing_portal_router
from govshare.standards.api import router as standards_router
from govshare.standards.portal import router as standards_portal_router
from govshare.web import (
    forms,
    health,
    problems,
)
from govshare.web.login_throttle import LoginThrottle
from govshare.web.middleware import Metrics, NodeMiddleware

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    node_logging.configure(settings.log_level, settings.log_json)
    db = db or Database.from_settings(settings)

    # No background work runs in the web process: batches, scheduled sources, audit checkpoints and the
    # session purge are jobs that `govshare worker` runs (docs/jobs.md).
    app = FastAPI(
        title=f"govshare · {settings.node_name}",
        version=govshare.__version__,
        description="政务信息资源共享交换平台接口。应用以 `Authorization: Bearer <接口密钥>` 调用；"
        "错误以 application/problem+json 返回，带稳定的 code 与中文说明。",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI would load from a CDN; 政务外网 has none. The spec is served as JSON.
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.metrics = Metrics()
    app.state.login_throttle = LoginThrottle(
        settings.login_address_max_failures, settings.login_address_window_minutes * 60
    )

    for router in (
        identity_router,
        applications_router,
        audit_router,
        catalog_router,
        dcat_router,
        excel_router,
        inventory_router,
        standards_router,
        collection_router,
        connections_router,
        sharing_router,
        trace_router,
        data_router,
        open_data_router,
        jobs_router,
        overview_router,
        health.router,
        overview_portal_router,
        identity_portal_router,
        catalog_portal_router,
        sharing_portal_router,
        collection_portal_router,
        applications_portal_router,
        audit_portal_router,
        standards_portal_router,
        opendata_portal_router,
        jobs_portal_router,
    ):
        _add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    problems.install(app)
    forms.install(app)
    app.add_middleware(
        NodeMiddleware, metrics=app.state.metrics, max_body_bytes=settings.api_max_body_mb * 1024 * 1024
    )
    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put a domain router's routes on the app itself, each with its full path.

    Recent FastAPI keeps included routers as nested objects (`include_router` no longer copies routes), so
    `app.routes` would hide them. Flat routes keep two guarantees readable through public attributes: the
    authorization test walks `app.routes`, and metrics label requests by `route.path`.
    """
    app.router.routes.extend(router.routes)
