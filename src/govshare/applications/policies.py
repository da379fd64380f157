"""Key rules: an application key carries reading permissions (`APPLICATION_GRANTABLE`) and, when asked
for, pushing records to its own department's sources; never administration or audit; only the
application's own department issues its keys; keys are checked against the database on every request."""

from __future__ import annotations

from dataclasses import dataclass

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.errors import DenialContext, PermissionDenied
from govshare.models import Application


def may_issue_key(actor: Actor, application: Application) -> bool:
    """Whether `actor` may issue keys for `application` as far as departments go (the permission aside)."""
    return actor.kind == "system" or actor.department_id == application.department_id


def ensure_may_issue_key(actor: Actor, application: Application) -> None:
    """A key acts as the application, so under its department's grants: issuing one is that department's
    act. A user of another department (the platform admin included) is refused, so nobody reads another
    department's data under its name; the console operator, who holds the database anyway, may, audited
    under their name with the application's department."""
    if may_issue_key(actor, application):
        return
    raise PermissionDenied(
        f"只能为本部门的应用签发密钥：应用“{application.code}”属于{application.department.name}，"
        "请由该部门的管理员签发",
        context=DenialContext(
            action="applications.issue_key",
            permission="own_department_application",
            target_type="application",
            target_id=application.code,
        ),
    )


def may_act_for(actor: Actor, permission: Permission, department_id: int) -> bool:
    """Does the actor hold `permission` for the department: node-wide, or for their own department?"""
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_id == department_id)


@dataclass(frozen=True)
class KeyActions:
    """What the actor may do with an application's keys, as the portal offers it and the API reports it
    (the service checks each again)."""

    may_issue: bool  # only the application's own department issues its keys
    may_revoke: bool

    def names(self) -> list[str]:
        return [name for name, may in (("issue_key", self.may_issue), ("revoke_key", self.may_revoke)) if may]


def key_actions(actor: Actor, application: Application) -> KeyActions:
    department_id = application.department_id
    return KeyActions(
        may_issue=may_act_for(actor, Permission.API_KEY_MANAGE, department_id)
        and may_issue_key(actor, application),
        may_revoke=may_act_for(actor, Permission.API_KEY_REVOKE, department_id)
        or may_act_for(actor, Permission.API_KEY_MANAGE, department_id),
    )
