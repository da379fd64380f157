"""Named rules about who may hold and hand out which role (三员分立)."""

from __future__ import annotations

from govshare.auth.actor import Actor
from govshare.auth.guard import require_scope
from govshare.auth.permissions import PRIVILEGED_ROLES, SECURITY_OFFICER_ROLES, Permission, Role
from govshare.errors import Conflict, DenialContext, PermissionDenied
from govshare.models import User


def ensure_may_grant(actor: Actor, user: User, role: Role, action_name: str) -> None:
    """Privileged roles only through the security admin; department roles also through whoever manages
    the user. Nobody changes their own roles."""
    target = user.username
    if actor.kind == "user" and actor.id == str(user.id):
        raise PermissionDenied(
            "不能修改自己的角色",
            context=DenialContext(
                action=action_name, permission=Permission.ROLE_ASSIGN, target_type="user", target_id=target
            ),
        )
    if role in PRIVILEGED_ROLES or not actor.scope_of(Permission.USER_MANAGE):
        if not actor.scope_of(Permission.ROLE_ASSIGN):
            raise PermissionDenied(
                f"“{role.label}”角色只能由安全管理员授予或收回",
                context=DenialContext(
                    action=action_name,
                    permission=Permission.ROLE_ASSIGN,
                    target_type="user",
                    target_id=target,
                ),
            )
        return
    require_scope(
        actor,
        Permission.USER_MANAGE,
        department_id=user.department_id,
        action_name=action_name,
        target_type="user",
        target_id=target,
    )


def ensure_separation(current: set[Role], adding: Role) -> None:
    """三员分立: a platform admin, security admin or auditor holds that one role and no other, so no
    officer also acts for a department (or as another officer)."""
    others = current - {adding}
    if adding in SECURITY_OFFICER_ROLES and others:
        held = "、".join(r.label for r in sorted(others))
        raise Conflict(f"三员分立：已担任{held}的用户不能同时担任{adding.label}")
    officer = current & SECURITY_OFFICER_ROLES
    if officer and adding not in current:
        held = "、".join(r.label for r in sorted(officer))
        raise Conflict(f"三员分立：{held}不能再担任其他角色（{adding.label}）")


TWO_PERSON = (
    "三员账号的{what}须经双人确认：由一名平台管理员或安全管理员提议，另一角色的三员确认"
    "（/api/v1/officer-proposals，门户“三员变更”）"
)


def officer_roles(user: User) -> set[Role]:
    return {Role(r.role) for r in user.roles} & SECURITY_OFFICER_ROLES


def ensure_not_alone(actor: Actor, what: str, action_name: str, target: str) -> None:
    """A change to an officer account (its officer role, enabling or disabling it) goes through a
    proposal another officer confirms. The console (`Actor.system()`) may act directly: it is how a node
    is bootstrapped, and whoever runs it holds the database credentials anyway (docs/architecture.md)."""
    if actor.kind == "system":
        return
    raise PermissionDenied(
        TWO_PERSON.format(what=what),
        context=DenialContext(
            action=action_name, permission=Permission.ROLE_ASSIGN, target_type="user", target_id=target
        ),
    )
