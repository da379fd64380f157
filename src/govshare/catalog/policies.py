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
