"""Who may do what with collection, as named rules the service and the tests share.

- A department collects into its own resources only: collection:run (sources, runs, quarantine download,
  reprocessing) and collection:push (a system pushing records) are scoped to the resource's provider.
- collection:read shows batches and counts: the platform admin and the auditor see every department's,
  a department's staff their own. The quarantined records themselves (personal data, verbatim) are shown
  only to those who may run the resource's collection.
- One batch runs per resource at a time; a running batch without a heartbeat for
  `collection_dead_after_minutes`, or whose process is gone from this host, is failed ("中断").
"""

from __future__ import annotations

from govshare.auth.actor import Actor
from govshare.auth.guard import require_scope
from govshare.auth.permissions import Permission, Scope

RUN = Permission.COLLECTION_RUN
PUSH = Permission.COLLECTION_PUSH
READ = Permission.COLLECTION_READ


def check(actor: Actor, permission: Permission, department_id: int, action_name: str, target: str) -> None:
    require_scope(
        actor,
        permission,
        department_id=department_id,
        action_name=action_name,
        target_type="resource",
        target_id=target,
    )


def visible_department(actor: Actor, permission: Permission = READ) -> int | None:
    """None when the actor sees every department; else its own."""
    return None if actor.scope_of(permission) == Scope.ALL else actor.department_id
