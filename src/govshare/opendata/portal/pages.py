"""Portal pages: 公共数据开放门户（公开，无需登录）. Calls the same services as the API.

`/open` (search with facets), `/open/datasets/{code}` (metadata, opened and withheld items, a preview,
downloads, API example), `/open/stats` (usage) and `/open/api` (the public API's documentation). Page
views are counted (one upsert per view), not audited; downloads go through the API's download route,
which audits them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.errors import InvalidInput
from govshare.opendata import service
from govshare.opendata.service import FORMAT_LABELS, FORMATS, OpenPage
from govshare.web import charts
from govshare.web.deps import DB_SESSION, public_actor
from govshare.web.forms import beijing
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

PUBLIC = "the open-data portal is public: no login"


@router.get("/open", response_class=HTMLResponse)
def open_home(
    request: Request,
    q: str = Query("", max_length=100),
    provider: str | None = Query(None, max_length=32),
    classification: str | None = Query(None, max_length=40),
    page: int = Query(1, ge=1, le=service.MAX_PAGE),
    session: Session = DB_SESSION,
    actor: Actor = public_actor(PUBLIC),
) -> HTMLResponse:
    active = {k: v for k, v in {"provider": provider, "classification": classification}.items() if v}
    error = None
    try:
        result = service.search(
            session, actor, q=q, provider=provider, classification=classification, page=page
        )
    except InvalidInput as exc:
        error = "；".join(e.message for e in exc.errors) or exc.message
        result = OpenPage([], 0, 1, service.PAGE_SIZE, [], [])
    service.count(session, 0, "page_views")

    def link(facet: str | None = None, value: str | None = None, to_page: int | None = None) -> str:
        params: dict[str, str | int | None] = {"q": q or None, **active}
        if facet:
            params[facet] = value
        params["page"] = to_page
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/open" + (f"?{query}" if query else "")

    return render(
        request,
        "open_home.html",
        actor,
        status=422 if error else 200,
        error=error,
        q=q,
        result=result,
        active=active,
        link=link,
        beijing=beijing,
    )


@router.get("/open/datasets/{code}", response_class=HTMLResponse)
def open_dataset(
    request: Request,
    code: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"),
    session: Session = DB_SESSION,
    actor: Actor = public_actor(PUBLIC),
) -> HTMLResponse:
    dataset = service.dataset(session, actor, code)
    rows = service.preview(session, actor, dataset)
    service.count(session, dataset.resource_id, "page_views")
    return render(
        request,
        "open_dataset.html",
        actor,
        dataset=dataset,
        rows=rows,
        formats=FORMATS,
        format_labels=FORMAT_LABELS,
        beijing=beijing,
        records_path=f"/api/open/v1/datasets/{dataset.code}/records?page=1&page_size=20",
    )


@router.get("/open/stats", response_class=HTMLResponse)
def open_stats(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = public_actor(PUBLIC),
) -> HTMLResponse:
    stats = service.stats(session, actor)
    service.count(session, 0, "page_views")
    months = [m["month"] for m in stats.months]
    chart = charts.stacked_bar_chart(
        "每月下载次数",
        months,
        [(FORMAT_LABELS[f], [m[f] for m in stats.months]) for f in FORMATS],
        desc="近 12 个月每月各格式的下载次数",
        category_header="月份",
    )
    return render(request, "open_stats.html", actor, stats=stats, chart=chart)


@router.get("/open/api", response_class=HTMLResponse)
def open_api_docs(
    request: Request,
    actor: Actor = public_actor(PUBLIC),
) -> HTMLResponse:
    return render(
        request,
        "open_api.html",
        actor,
        rate=request.app.state.settings.open_rate_per_second,
        page_max=service.RECORDS_PAGE_MAX,
        page_size=service.RECORDS_PAGE_SIZE,
        max_offset=service.RECORDS_MAX_OFFSET,
    )
