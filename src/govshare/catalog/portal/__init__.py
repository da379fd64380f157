"""The catalog (目录) portal: search and the resource page, compiling drafts, the workbench with review and
withdrawal, and the Excel template.

`router` carries every page's routes, in this order:

1. drafts.py: `/catalog/new` and `/catalog/drafts/{id}/edit`;
2. workbench.py: `/catalog/manage` and `/catalog/manage/{id}…`;
3. excel.py: `/catalog/excel`;
4. search.py: `/catalog` and the resource page `/catalog/{code}`, last because its `{code}` would otherwise
   take "new", "manage" or "excel" for a resource code.

The routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.catalog.portal import drafts, excel, search, workbench

router = APIRouter(include_in_schema=False)
for _pages in (drafts, workbench, excel, search):
    router.routes.extend(_pages.router.routes)

__all__ = ["router"]
