"""Portal pages of the catalog: search with facets and the resource page. They call the same services as
the API; the forms are plain GET forms, so they work without JavaScript.

The resource page's `/catalog/{code}` never matches the catalog's literal pages (`/catalog/new`,
`/catalog/manage`, `/catalog/excel`): its path parameter uses a convertor whose pattern leaves those names
out, so the order in which the routes are added does not matter (a test requests each of them).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.convertors import StringConvertor, register_url_convertor

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import search_service, service
from govshare.catalog.policies import acts_for
from govshare.catalog.search_service import SearchQuery
from govshare.catalog.vocabulary import ShareType, UpdateCycle
from govshare.collection import freshness_service
from govshare.core.clock import BEIJING
from govshare.sharing import preview_service
from govshare.web.deps import DB_SESSION, require
from govshare.web.rendering import render

# The literal pages under /catalog/ (drafts.py, workbench.py, excel.py), never taken for a resource code.
LITERAL_PAGES = ("new", "manage", "excel")


class ResourceCodeConvertor(StringConvertor):
    """A resource code in a portal path: what `ResourceCode` allows, except the literal pages' names."""

    regex = rf"(?!(?:{'|'.join(LITERAL_PAGES)})$)[A-Za-z0-9_-]+"


register_url_convertor("resource_code", ResourceCodeConvertor())

router = APIRouter(include_in_schema=False)

FACET_TITLES = {
    "provider": "提供方",
    "classification": "分类",
    "share_type": "共享类型",
    "open": "开放属性",
    "update_cycle": "更新周期",
    "grade": "安全级别",
}


@router.get("/catalog", response_class=HTMLResponse)
def catalog_search(
    request: Request,
    q: str = Query("", max_length=100),
    provider: str | None = Query(None, max_length=32),
    classification: str | None = Query(None, max_length=40),
    share_type: str | None = Query(None, max_length=16),
    open: str | None = Query(None, pattern="^(true|false)$"),
    update_cycle: str | None = Query(None, max_length=16),
    grade: str | None = Query(None, max_length=16),
    page: int = Query(1, ge=1, le=250),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_READ),
) -> HTMLResponse:
    chosen = {
        "provider": provider,
        "classification": classification,
        "share_type": share_type,
        "open": open,
        "update_cycle": update_cycle,
        "grade": grade,
    }
    query = SearchQuery(
        q=q,
        provider=[provider] if provider else [],
        classification=classification,
        share_type=share_type,
        open=None if open is None else open == "true",
        update_cycle=update_cycle,
        grade=grade,
        page=page,
        page_size=20,
    )
    result = search_service.search(session, actor, query)
    active = {k: v for k, v in chosen.items() if v}
    pages = (result.total + 19) // 20

    def link(facet: str | None = None, value: str | None = None, to_page: int | None = None) -> str:
        """This search with one facet set (or cleared, value None) and the given page."""
        params: dict[str, str | int | None] = {"q": q or None, **active}
        if facet:
            params[facet] = value
        params["page"] = to_page
        return "/catalog?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    clear = "/catalog?" + urlencode({"q": q}) if q else "/catalog"

    return render(
        request,
        "catalog_search.html",
        actor,
        q=q,
        result=result,
        active=active,
        facet_titles=FACET_TITLES,
        pages=pages,
        page=page,
        link=link,
        clear=clear,
    )


@router.get("/catalog/{code:resource_code}", response_class=HTMLResponse)
def catalog_resource(
    request: Request,
    code: str = Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    preview: str | None = Query(None, pattern="^1$"),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_READ),
) -> HTMLResponse:
    resource = service.get_by_code(session, actor, code)
    version = resource.current or resource.pending
    definition = version.definition if version else {}
    freshness = None
    if resource.current is not None and resource.status == "active":
        freshness = freshness_service.resource_freshness(
            session, actor, resource.id, resource.current.definition.get("update_cycle")
        )
    # Sample rows are a data access (audited): read only when the person asks for them.
    may_preview = resource.status == "active" and preview_service.may_preview(session, actor, code)
    sample = preview_service.preview(session, actor, code) if may_preview and preview else None
    may_edit = acts_for(actor, Permission.CATALOG_EDIT, resource.provider_code)
    return render(
        request,
        "catalog_resource.html",
        actor,
        resource=resource,
        definition=definition,
        share_labels=ShareType,
        cycles=UpdateCycle,
        freshness=freshness,
        may_preview=may_preview,
        sample=sample,
        may_edit=may_edit,
        in_beijing=lambda moment: moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else "",
    )
