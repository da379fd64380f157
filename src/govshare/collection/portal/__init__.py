"""The collection (归集) portal: the overview, data sources, guided registration, batches and quarantine.

`router` carries every page's routes, in this order:

1. guided.py: `/collection/sources/guided…` (ahead of the source pages, whose `{source_id}` would otherwise
   take "guided" for a source id);
2. sources.py: the overview `/collection` and `/collection/sources…`;
3. batches.py: `/collection/batches/{batch_id}…`.

The routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.collection.portal import batches, guided, sources

router = APIRouter(include_in_schema=False)
for pages in (guided, sources, batches):
    router.routes.extend(pages.router.routes)

__all__ = ["router"]
