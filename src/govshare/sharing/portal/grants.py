"""Portal page of sharing grants (授权): the grants the reader's department gives or holds; revoking one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.sharing import service, views
from govshare.sharing.portal.common import (
    DONE,
    TEXT,
    FormState,
    Resources,
    beijing,
    check_csrf,
    department_names,
    explain,
    items_text,
    scope_text,
)
from govshare.sharing.schemas import GrantOut, ReasonIn
from govshare.sharing.vocabulary import GrantState
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

GRANT = Path(ge=1, le=2**31 - 1)
GRANT_TAGS = {GrantState.ACTIVE: "tag-unconditional", GrantState.NOT_YET: "tag-conditional"}


@dataclass
class GrantRow:
    grant: GrantOut
    resource_name: str
    items_text: str
    scope_text: str
    valid_from: str
    valid_to: str
    tag: str
    may_revoke: bool


def _grants_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: int = 200,
    failed: int | None = None,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    resources = Resources(session, actor)
    rows = []
    for out in views.grant_views(session, actor, service.list_grants(session, actor)):
        names = resources.items(out.resource_code)
        rows.append(
            GrantRow(
                grant=out,
                resource_name=resources.name(out.resource_code),
                items_text=items_text(names, out.items),
                scope_text=scope_text(names, out.row_scope),
                valid_from=beijing(out.valid_from, "%Y-%m-%d"),
                valid_to=beijing(out.valid_to - timedelta(seconds=1), "%Y-%m-%d"),
                tag=GRANT_TAGS.get(GrantState(out.state), ""),
                may_revoke="revoke" in out.allowed_actions,
            )
        )
    return render(
        request,
        "sharing_grants.html",
        actor,
        status=status,
        rows=rows,
        departments=department_names(session, actor),
        failed=failed,
        form=form or FormState(),
        done=DONE.get(done or ""),
    )


@router.get("/sharing/grants", response_class=HTMLResponse)
def grants_page(
    request: Request,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> HTMLResponse:
    return _grants_page(request, session, actor, done=done)


@router.post("/sharing/grants/{grant_id}/revoke")
def revoke(
    request: Request,
    grant_id: int = GRANT,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE, Permission.SHARING_APPLY),
) -> Response:
    check_csrf(request, csrf_token)
    with form_errors(
        lambda session, form, status: _grants_page(
            request, session, actor, status=status, failed=grant_id, form=form
        ),
        name="revoke",
        values={"reason": reason},
        explain_error=explain,
    ):
        service.revoke_grant(session, actor, grant_id, ReasonIn(reason=reason).reason)
    return see_other(f"/sharing/grants?done=revoked#grant-{grant_id}")
