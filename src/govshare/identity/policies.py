"""Named rules about who may hold and hand out which role (三员分立)."""

from __future__ import annotations

from dataclasses import dataclass

from govshare.auth.actor import Actor
from govshare.auth.guard import require_scope
from govshare.auth.permissions import PRIVILEGED_ROLES, SECURITY_OFFICER_ROLES, Permission, Role, Scope
from govshare.errors import Conflict, DenialContext, PermissionDenied
from govshare.models import Department, User


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


def may_act_in(actor: Actor, permission: Permission, department_id: int | None) -> bool:
    """Does the actor hold `permission` for the department: node-wide, or for their own department?"""
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_id == department_id)


def grantable_roles(actor: Actor, department_id: int | None) -> list[Role]:
    """The roles the actor may hand out to a user of the department (`ensure_may_grant` decides again on
    each grant): every role for the security admin, the non-privileged ones for whoever manages the user."""
    if actor.scope_of(Permission.ROLE_ASSIGN):
        return list(Role)
    if may_act_in(actor, Permission.USER_MANAGE, department_id):
        return [r for r in Role if r not in PRIVILEGED_ROLES]
    return []


@dataclass(frozen=True)
class UserActions:
    """What the actor may do to one account, as the portal offers it and the API reports it (the service
    checks each action again, including the two-person rule for officer accounts)."""

    addable: list[Role]  # roles the actor may grant that the user does not hold
    removable: list[Role]  # roles the user holds that the actor may revoke
    may_unlock: bool
    may_toggle: bool  # disable an active account, enable a disabled one (an officer's: by proposal only)
    may_reset_password: bool  # never an officer's (the console resets those), never one's own
    is_officer: bool  # its officer role and its state change only by a confirmed proposal

    def direct_grants(self) -> list[Role]:
        """The roles the actor may grant by asking (an officer role, and any role of an officer account,
        only by a confirmed proposal)."""
        if self.is_officer:
            return []
        return [r for r in self.addable if r not in SECURITY_OFFICER_ROLES]

    def names(self, is_active: bool) -> list[str]:
        """The actions as stable names, in the order the API lists them: grant_role, revoke_role, unlock,
        reset_password, disable or enable, propose_officer_change (an officer account's roles and state)."""
        found = []
        if self.direct_grants():
            found.append("grant_role")
        if self.removable and not self.is_officer:
            found.append("revoke_role")
        if self.may_unlock:
            found.append("unlock")
        if self.may_reset_password:
            found.append("reset_password")
        if self.may_toggle and not self.is_officer:
            found.append("disable" if is_active else "enable")
        if self.is_officer and (self.may_toggle or self.addable or self.removable):
            found.append("propose_officer_change")
        return found


def user_actions(actor: Actor, user: User) -> UserActions:
    """What the actor may do to `user`. Nobody changes their own roles or disables themselves."""
    held = {Role(r.role) for r in user.roles}
    is_self = actor.kind == "user" and actor.id == str(user.id)
    is_officer = bool(held & SECURITY_OFFICER_ROLES)
    grantable = [] if is_self else grantable_roles(actor, user.department_id)
    return UserActions(
        addable=[r for r in grantable if r not in held],
        removable=[r for r in grantable if r in held],
        may_unlock=actor.scope_of(Permission.USER_UNLOCK) is not None,
        may_toggle=not is_self and may_act_in(actor, Permission.USER_MANAGE, user.department_id),
        may_reset_password=bool(actor.scope_of(Permission.USER_RESET_PASSWORD))
        and not is_officer
        and actor.name != user.username,
        is_officer=is_officer,
    )


def possible_parents(departments: list[Department], department: Department) -> list[Department]:
    """The departments that may become `department`'s parent: neither itself nor any of its
    sub-departments at any depth (either would make a cycle)."""
    children: dict[int, list[int]] = {}
    for d in departments:
        if d.parent_id is not None:
            children.setdefault(d.parent_id, []).append(d.id)
    excluded = {department.id}
    todo = [department.id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in excluded:
                excluded.add(child)
                todo.append(child)
    return [d for d in departments if d.id not in excluded]
