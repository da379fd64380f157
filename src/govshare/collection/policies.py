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

from govshare.auth import scope
from govshare.auth.actor import Actor
from govshare.auth.guard import require_scope
from govshare.auth.permissions import Permission
from govshare.auth.scope import RowScope

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


def department_scope(actor: Actor, department_id: int, action_name: str) -> RowScope:
    """One department's sources and batches, asked for by name: refused (`PermissionDenied`) unless the
    actor may read that department's."""
    return scope.for_department(actor, READ, department_id, action_name=action_name)


def may_run(actor: Actor, department_id: int) -> bool:
    """Whether the actor may run the collection of `department_id`'s resources (run, upload, reprocess,
    read the quarantine): what a page offers and what the API reports, the check `check` makes."""
    return scope.for_actor(actor, RUN).allows(department_id) and bool(actor.scope_of(RUN))


def row_scope(actor: Actor, permission: Permission = READ) -> RowScope:
    """Whose sources and batches the actor sees: every department's with `permission` node-wide, else
    its own department's (none without a department)."""
    return scope.for_actor(actor, permission)
