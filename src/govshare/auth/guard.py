"""The guard every service action passes (our equivalent of CKAN's check_access).

A service function is declared with `@action(permission)`: the guard refuses callers whose actor lacks the
permission before the body runs, and registers the function, so a test can list every service action and
fail on one that declares nothing. Finer checks (department scope, privileged roles) call
`require_scope` inside the body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.errors import DenialContext, PermissionDenied

P = ParamSpec("P")
R = TypeVar("R")

PUBLIC = "public"
INTERNAL = "internal"


@dataclass(frozen=True)
class ActionSpec:
    name: str
    permissions: tuple[Permission, ...]  # any one of them admits the caller
    kind: str  # "permission", PUBLIC or INTERNAL
    reason: str = ""


ACTIONS: dict[str, ActionSpec] = {}


def _register(func: Callable[..., Any], spec: ActionSpec) -> None:
    ACTIONS[spec.name] = spec
    func.__govshare_action__ = spec  # type: ignore[attr-defined]


def action(*permissions: Permission, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a service action that needs any one of `permissions`. The actor is the second argument
    (after the session) or the `actor` keyword."""
    if not permissions:
        raise ValueError("an action needs at least one permission; use @public_action for public ones")

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        spec = ActionSpec(
            name or f"{func.__module__.split('.')[1]}.{func.__name__}", permissions, "permission"
        )

        @functools.wraps(func)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = kwargs.get("actor", args[1] if len(args) > 1 else None)
            if not isinstance(actor, Actor):
                raise TypeError(f"{spec.name}: the second argument must be the acting Actor")
            if not any(actor.scope_of(p) for p in permissions):
                raise PermissionDenied(
                    f"没有执行“{spec.name}”的权限（需要 {' 或 '.join(permissions)}）",
                    context=DenialContext(action=spec.name, permission="|".join(permissions)),
                )
            return func(*args, **kwargs)

        _register(guarded, spec)
        return guarded

    return decorate


def public_action(reason: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare an action anyone may call (login, key authentication), with the reason why."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        _register(func, ActionSpec(f"{func.__module__.split('.')[1]}.{func.__name__}", (), PUBLIC, reason))
        return func

    return decorate


def internal(reason: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a helper that other services call after their own check (e.g. writing an audit entry)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        _register(func, ActionSpec(f"{func.__module__.split('.')[1]}.{func.__name__}", (), INTERNAL, reason))
        return func

    return decorate


def require_scope(
    actor: Actor,
    permission: Permission,
    *,
    department_id: int | None,
    action_name: str,
    target_type: str | None = None,
    target_id: str | None = None,
) -> None:
    """Refuse unless the actor holds `permission` for the given department."""
    scope = actor.scope_of(permission)
    if scope == Scope.ALL:
        return
    if scope == Scope.OWN_DEPARTMENT and department_id is not None and actor.department_id == department_id:
        return
    raise PermissionDenied(
        "只能管理本部门的数据" if scope == Scope.OWN_DEPARTMENT else f"没有执行“{action_name}”的权限",
        context=DenialContext(
            action=action_name, permission=permission, target_type=target_type, target_id=target_id
        ),
    )
