"""The collection (归集) portal: the overview, data sources, guided registration, batches and quarantine.

`router` carries every page's routes, in this order (by area; no route depends on it: a source's pages take
`{source_id:int}`, which never matches the literal `/collection/sources/guided` or `…/new`, and a test
requests both kinds):

1. sources.py: the overview `/collection` and `/collection/sources…`;
2. guided.py: registering a file source from a sample, `/collection/sources/guided…`;
3. batches.py: `/collection/batches/{batch_id}…` and its quarantine.

The routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.collection.portal import batches, guided, sources

router = APIRouter(include_in_schema=False)
for pages in (sources, guided, batches):
    router.routes.extend(pages.router.routes)

__all__ = ["router"]
