"""Who sees and edits what in the catalog.

- Published metadata: everyone holding catalog:read.
- Unpublished versions (draft, submitted, returned): the provider's editors, reviewers and platform admins.
- Editing: catalog:edit for the provider department; reviewing: catalog:review; withdrawing: catalog:withdraw
  for the provider (department admin) or any department (reviewer).
"""

from __future__ import annotations

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope


def sees_unpublished(actor: Actor, department_id: int) -> bool:
    if actor.scope_of(Permission.CATALOG_REVIEW) or actor.scope_of(Permission.CATALOG_OVERRIDE):
        return True
    scope = actor.scope_of(Permission.CATALOG_EDIT)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_id == department_id)


def acts_for(actor: Actor, permission: Permission, provider_code: str) -> bool:
    """Whether the actor holds `permission` for resources of the department `provider_code`: node-wide, or
    for its own department (the scope the service's `require_scope` checks when the action runs)."""
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_code == provider_code)


def publishes_directly(actor: Actor) -> bool:
    """Whether the actor may publish what it imports or applies at once, without a separate review: only a
    holder of catalog:review (the import refuses `publish` to anyone else)."""
    return actor.scope_of(Permission.CATALOG_REVIEW) is not None
