"""Requests and grants as a reader sees them. A request (`RequestOut`): its fields, its grant, the working
days left on its clock and the steps this reader may take; a grant (`GrantOut`): its state and whether the
reader may revoke it. One assembly for the API, the CLI and the portal, so an API client gets what a page
shows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.core.clock import utcnow
from govshare.models import ShareGrant, ShareRequest
from govshare.sharing import service, workflow
from govshare.sharing.policies import grant_state
from govshare.sharing.schemas import GrantOut, RequestOut


@action(Permission.SHARING_READ)
def request_views(session: Session, actor: Actor, requests: Sequence[ShareRequest]) -> list[RequestOut]:
    """Each request as `actor` sees it, in the given order (the grants are read in one query)."""
    grants = service.grant_refs(session, actor, list(requests))
    calendar, now = workflow.work_calendar(session), utcnow()
    return [
        RequestOut.of(
            r,
            now=now,
            grant=grants.get(r.id),
            working_days_left=workflow.working_days_left(calendar, r, now),
            allowed_actions=workflow.allowed_actions(actor, r),
        )
        for r in requests
    ]


@action(Permission.SHARING_READ)
def request_view(session: Session, actor: Actor, request: ShareRequest) -> RequestOut:
    """One request as `actor` sees it."""
    return request_views(session, actor, [request])[0]


@action(Permission.SHARING_READ)
def grant_views(session: Session, actor: Actor, grants: Sequence[ShareGrant]) -> list[GrantOut]:
    """Each grant as `actor` sees it: its state now, and `revoke` among its actions when the actor may."""
    now = utcnow()
    views = []
    for grant in grants:
        state = grant_state(grant, now)
        views.append(
            GrantOut.of(
                grant,
                state=state.value,
                state_label=state.label,
                request_number=None,
                allowed_actions=workflow.grant_actions(actor, grant, state),
            )
        )
    return views


@action(Permission.SHARING_READ)
def grant_view(session: Session, actor: Actor, grant: ShareGrant) -> GrantOut:
    """One grant as `actor` sees it."""
    return grant_views(session, actor, [grant])[0]
