"""The catalog (目录) portal: search and the resource page, compiling drafts, the workbench with review and
withdrawal, and the Excel template.

`router` carries every page's routes. No two of its paths can match the same URL: the resource page's
`{code}` leaves out the names of the literal pages (search.py `ResourceCodeConvertor`; a test requests each
page with the routes in both orders), so the order below is for reading only.

The routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.catalog.portal import drafts, excel, search, workbench

router = APIRouter(include_in_schema=False)
for _pages in (
    search,  # /catalog: search with facets; /catalog/{code}: one resource
    drafts,  # /catalog/new, /catalog/drafts/{id}/edit: compiling a draft
    workbench,  # /catalog/manage, /catalog/manage/{id}…: the workbench, review, withdrawal
    excel,  # /catalog/excel: the Excel template, download and import
):
    router.routes.extend(_pages.router.routes)

__all__ = ["router"]
