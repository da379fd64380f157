"""Portal page of the sharing inbox (共享服务): the applications the reader's department filed, those
waiting for its answer, and those waiting for the 主管部门, filtered by state, each with its working-day
countdown."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.sharing import service, views
from govshare.sharing.portal.common import STATE_TAGS, Resources, beijing, countdown, department_names
from govshare.sharing.vocabulary import RequestState
from govshare.web.deps import DB_SESSION, require
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

SIDES = {"all": "全部", "consumer": "我申请的", "provider": "待我审批的", "supervise": "待主管部门办理"}


# ---------------------------------------------------------------- the list


@router.get("/sharing", response_class=HTMLResponse)
def sharing_list(
    request: Request,
    side: str = Query("all", pattern="^(all|consumer|provider|supervise)$"),
    state: str | None = Query(None, max_length=24),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> HTMLResponse:
    states = {s.value for s in RequestState}
    # 待我审批的 opens on what is waiting; "all" lists every state of that side.
    chosen = state if state in states or state == "all" else ("pending" if side == "provider" else "all")
    requests = service.list_requests(session, actor, side=side, state=None if chosen == "all" else chosen)
    rows = views.request_views(session, actor, requests)
    resources = Resources(session, actor)
    sides = {
        k: v for k, v in SIDES.items() if k != "supervise" or actor.scope_of(Permission.SHARING_SUPERVISE)
    }
    return render(
        request,
        "sharing_list.html",
        actor,
        rows=rows,
        side=side,
        sides=sides,
        state=chosen,
        states=list(RequestState),
        resource_name=resources.name,
        departments=department_names(session, actor),
        state_tags=STATE_TAGS,
        beijing=beijing,
        countdown=countdown,
    )
