"""Who may see and act on sharing records.

Departments see the applications and grants where they are the consumer or the provider; the 主管部门's
reviewers, the platform admin and the auditor see all. Data calls are allowed by grants alone
(`govshare.sharing.access`), never by roles.
"""

from __future__ import annotations

from datetime import datetime

from govshare.auth import scope
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.auth.scope import RowScope
from govshare.models import ShareGrant
from govshare.sharing.vocabulary import GrantState


def row_scope(actor: Actor, permission: Permission = Permission.SHARING_READ) -> RowScope:
    """Whose sharing records the actor sees: every department's when it reads node-wide, else those
    where its department is the consumer or the provider (none without a department)."""
    return scope.for_actor(actor, permission)


def can_see(actor: Actor, consumer_department_id: int, provider_department_id: int) -> bool:
    scope = actor.scope_of(Permission.SHARING_READ)
    if scope == Scope.ALL:
        return True
    return scope == Scope.OWN_DEPARTMENT and actor.department_id in (
        consumer_department_id,
        provider_department_id,
    )


def grant_state(grant: ShareGrant, now: datetime) -> GrantState:
    if grant.revoked_at is not None:
        return GrantState.REVOKED
    if grant.valid_to <= now:
        return GrantState.EXPIRED
    if grant.valid_from > now:
        return GrantState.NOT_YET
    return GrantState.ACTIVE
