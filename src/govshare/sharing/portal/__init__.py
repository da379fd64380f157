"""Portal pages of sharing (共享服务). They call the same services as the API (`sharing/api.py`) and validate
with the API's input models; every action is a plain HTML form (POST with the CSRF token) that redirects back
(303), so the whole flow works without JavaScript. Invalid input and state conflicts show the page again with
a Chinese message and the values kept (`web/forms.py` `form_errors`); a refusal (PermissionDenied) and unknown
records go to the global error page.

`router` carries every page; the app includes it. No two of its paths can match the same URL (the only
parameters are `/sharing/requests/{number}` and `/sharing/grants/{grant_id}/revoke`, under literal segments
no other page uses), so the order below is for reading only.
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.sharing.portal import apply, grants, request_detail, requests

router = APIRouter(include_in_schema=False)

# Routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
# object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
for _pages in (
    requests,  # /sharing: the inbox
    request_detail,  # /sharing/requests/{number}: one application and the forms its reader may act on
    apply,  # /sharing/apply, /sharing/subscribe, /sharing/negotiate: asking for data
    grants,  # /sharing/grants: the grants given or held, and revoking one
):
    router.routes.extend(_pages.router.routes)

__all__ = ["router"]
