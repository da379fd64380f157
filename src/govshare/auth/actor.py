"""Who is acting, from where, with what rights."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field, replace

from govshare.auth.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    Scope,
)


@dataclass(frozen=True)
class Actor:
    kind: str  # user / application / system / anonymous
    name: str
    id: str | None = None
    department_id: int | None = None
    department_code: str | None = None
    application_code: str | None = None
    roles: frozenset[Role] = frozenset()
    grants: dict[Permission, Scope] = field(default_factory=dict)
    request_id: str | None = None
    client_addr: str | None = None
    purpose: str | None = None
    key_prefix: str | None = None  # set when the key's last-used time is still to be written
    api_key: str | None = None  # the prefix of the API key an application called with (never the secret)
    # A user whose password someone else chose: the session may only change it, read /api/v1/me, log out.
    must_change_password: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    def scope_of(self, permission: Permission) -> Scope | None:
        return self.grants.get(permission)

    def with_request(self, *, request_id: str | None, client_addr: str | None) -> Actor:
        return replace(self, request_id=request_id, client_addr=client_addr)

    @classmethod
    def anonymous(cls, *, request_id: str | None = None, client_addr: str | None = None) -> Actor:
        return cls(kind="anonymous", name="匿名", request_id=request_id, client_addr=client_addr)

    @classmethod
    def system(cls, name: str | None = None) -> Actor:
        """The local operator at the node's console (CLI, jobs). They hold the database credentials,
        so they can do everything; every action they take is still audited under this name."""
        operator = name or f"cli:{_login_name()}"
        return cls(kind="system", name=operator, grants=dict.fromkeys(Permission, Scope.ALL))


def grants_for_roles(roles: frozenset[Role]) -> dict[Permission, Scope]:
    merged: dict[Permission, Scope] = {}
    for role in roles:
        for permission, scope in ROLE_PERMISSIONS[role].items():
            if merged.get(permission) != Scope.ALL:
                merged[permission] = scope
    return merged


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
