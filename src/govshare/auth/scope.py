"""Row scope as a type: which departments' rows a list or look-up may return.

Before this type, "which departments may this actor see" was an `int | None` (None meaning all) that
each service computed by hand and each repository trusted: a forgotten narrowing, or a `None` passed by
mistake, showed every department's rows. A `RowScope` is built only from the actor's grants by the
functions below (the policy layer: `for_actor`, `for_department`), or by `node_wide` with a written
reason, never from a bare id: its constructor takes a private token. Repository functions that list or
fetch department-owned rows take a `RowScope` and apply it in SQL before LIMIT (`restrict`), and refuse
anything else at runtime too (`TypeError`), so mypy and the tests both catch a bare int or None.

Polar's `AccessibleOrganizationID` is the model: the type proves a policy decided the scope.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import or_

from govshare.auth.actor import Actor
from govshare.auth.guard import require_scope
from govshare.auth.permissions import Permission, Scope

_POLICY = object()  # the constructor's token: only this module's factories hold it

StatementT = TypeVar("StatementT")


class RowScope:
    """Every department (`all_departments`), or exactly `department_ids` (possibly none)."""

    __slots__ = ("_department_ids", "reason")

    def __init__(self, token: object, department_ids: frozenset[int] | None, reason: str) -> None:
        if token is not _POLICY:
            raise TypeError("RowScope is built by govshare.auth.scope (for_actor, for_department, node_wide)")
        self._department_ids = department_ids
        self.reason = reason

    @property
    def all_departments(self) -> bool:
        return self._department_ids is None

    @property
    def department_ids(self) -> frozenset[int]:
        """The departments in scope; only meaningful when not `all_departments`."""
        return self._department_ids or frozenset()

    def allows(self, department_id: int | None) -> bool:
        """Whether a row owned by `department_id` is in scope (for a row already loaded by id)."""
        return self._department_ids is None or department_id in self._department_ids

    def __repr__(self) -> str:
        shown = "all" if self._department_ids is None else sorted(self._department_ids)
        return f"RowScope({shown}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowScope) and other._department_ids == self._department_ids

    def __hash__(self) -> int:
        return hash(self._department_ids)


def require_row_scope(scope: object) -> RowScope:
    """What a repository calls on its `scope` argument: a RowScope, or TypeError (never a bare id)."""
    if not isinstance(scope, RowScope):
        raise TypeError(f"a repository needs a RowScope from govshare.auth.scope, not {type(scope).__name__}")
    return scope


def restrict(statement: StatementT, scope: RowScope, *columns: Any) -> StatementT:
    """`statement` narrowed to the scope's departments: a row is in scope when any of `columns` (the
    department id columns that give a department sight of it, e.g. consumer and provider) is in scope.
    Applied in SQL, so a LIMIT after it counts only rows in scope; an empty scope matches nothing."""
    scope = require_row_scope(scope)
    if scope.all_departments:
        return statement
    if not columns:
        raise ValueError("restrict needs at least one department column")
    ids = sorted(scope.department_ids)
    condition = or_(*(column.in_(ids) for column in columns)) if len(columns) > 1 else columns[0].in_(ids)
    return statement.where(condition)  # type: ignore[attr-defined,no-any-return]


def for_actor(actor: Actor, permission: Permission) -> RowScope:
    """What `actor` may see of rows guarded by `permission`: every department when it holds the
    permission node-wide (Scope.ALL), else its own department (the action's guard has already admitted
    it), else nothing (an actor of no department never sees "all" by accident)."""
    if actor.scope_of(permission) == Scope.ALL:
        return RowScope(_POLICY, None, f"{permission}: all departments")
    if actor.department_id is not None:
        return RowScope(_POLICY, frozenset({actor.department_id}), f"{permission}: own department")
    return RowScope(_POLICY, frozenset(), f"{permission}: no department")


def for_department(
    actor: Actor,
    permission: Permission,
    department_id: int,
    *,
    action_name: str,
    target_id: str | None = None,
) -> RowScope:
    """One department the caller asked for: refused (`PermissionDenied`, audited by the edge) unless
    `actor` may see it under `permission`."""
    require_scope(
        actor,
        permission,
        department_id=department_id,
        action_name=action_name,
        target_type="department",
        target_id=target_id,
    )
    return RowScope(_POLICY, frozenset({department_id}), f"{permission}: department {department_id}")


def node_wide(reason: str) -> RowScope:
    """Every department, for a caller that is not scoped by an actor (a job, a public count); the
    reason says why, and shows in `repr` when debugging."""
    if not reason.strip():
        raise ValueError("node_wide needs a reason")
    return RowScope(_POLICY, None, reason)
