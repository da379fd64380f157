"""The overview portal: the home page (`home.py`: `/`) and the department dashboard (`dashboard.py`:
`/dashboard`). Their paths never overlap, so the order below is only for reading.

The routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.overview.portal import dashboard, home

router = APIRouter(include_in_schema=False)
for _pages in (home, dashboard):
    router.routes.extend(_pages.router.routes)

__all__ = ["router"]
