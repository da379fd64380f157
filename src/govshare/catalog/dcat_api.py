"""GET /api/v1/catalog/dcat: the catalog as DCAT-AP 3.0.1, in JSON-LD or Turtle (docs/dcat.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import dcat_service
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/catalog", tags=["目录系统"])

# Media types a client may ask for in Accept, and the export format each selects.
ACCEPTED = {
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
}


def negotiate(accept: str | None) -> str:
    """The format the Accept header prefers (by q-value, then order); JSON-LD when it names neither."""
    best, best_q = "jsonld", 0.0
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        fmt = ACCEPTED.get(media.lower())
        if fmt is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = fmt, q
    return best


@router.get(
    "/dcat",
    summary="以 DCAT-AP 3.0.1 导出目录（JSON-LD 或 Turtle，分页，增量）",
    response_class=Response,
    responses={
        200: {
            "description": "dcat:Catalog，含本页的 dcat:Dataset 与 Hydra 分页链接",
            "content": {"application/ld+json": {}, "text/turtle": {}},
        }
    },
)
def dcat_export(
    request: Request,
    fmt: Literal["jsonld", "turtle"] | None = Query(
        None, alias="format", description="jsonld 或 turtle；不给时按 Accept 请求头，默认 jsonld"
    ),
    page: int = Query(1, ge=1, le=dcat_service.MAX_PAGE),
    page_size: int = Query(dcat_service.DEFAULT_PAGE_SIZE, ge=1, le=dcat_service.MAX_PAGE_SIZE),
    modified_since: datetime | None = Query(
        None, description="只导出此时刻及以后有变更的信息资源（ISO 8601；不带时区按北京时间）"
    ),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_READ),
) -> Response:
    result = dcat_service.dcat_catalog(
        session,
        actor,
        base_url=str(request.base_url),
        page=page,
        page_size=page_size,
        modified_since=modified_since,
        fmt=fmt or negotiate(request.headers.get("accept")),
    )
    link = ", ".join(
        f'<{url}>; rel="{"prev" if rel == "previous" else rel}"' for rel, url in result.links.items()
    )
    return Response(
        content=result.serialize(),
        media_type=result.media_type,
        headers={"Link": link, "Vary": "Accept"},
    )
