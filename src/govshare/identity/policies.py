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
    """三员分立: one person is platform admin, security admin or auditor, never two of them."""
    if adding in SECURITY_OFFICER_ROLES:
        clash = (current & SECURITY_OFFICER_ROLES) - {adding}
        if clash:
            held = "、".join(r.label for r in sorted(clash))
            raise Conflict(f"三员分立：已担任{held}的用户不能同时担任{adding.label}")
