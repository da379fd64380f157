"""The request as a reader sees it (`RequestOut`): its fields, its grant, the working days left on its clock
and the steps this reader may take. One assembly for the API, the CLI and the portal, so an API client gets
what a page shows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.core.clock import utcnow
from govshare.models import ShareRequest
from govshare.sharing import service, workflow
from govshare.sharing.schemas import RequestOut


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
