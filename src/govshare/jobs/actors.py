"""The actor a job runs as, kept in its payload: a batch started by a person runs, and is audited, as that
person (with the grants they held when they started it), never as the worker."""

from __future__ import annotations

from typing import Any

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Role, Scope

ACTOR_KEY = "actor"


def snapshot(actor: Actor) -> dict[str, Any]:
    """The actor as JSON: who, from where, with which grants (no key or secret: the key's prefix only)."""
    return {
        "kind": actor.kind,
        "name": actor.name,
        "id": actor.id,
        "department_id": actor.department_id,
        "department_code": actor.department_code,
        "application_code": actor.application_code,
        "roles": sorted(str(role) for role in actor.roles),
        "grants": {str(permission): str(scope) for permission, scope in actor.grants.items()},
        "request_id": actor.request_id,
        "client_addr": actor.client_addr,
        "purpose": actor.purpose,
        "api_key": actor.api_key,
    }


def restore(data: dict[str, Any]) -> Actor:
    known_permissions, known_roles = {str(p) for p in Permission}, {str(r) for r in Role}
    return Actor(
        kind=str(data["kind"]),
        name=str(data["name"]),
        id=data.get("id"),
        department_id=data.get("department_id"),
        department_code=data.get("department_code"),
        application_code=data.get("application_code"),
        roles=frozenset(Role(r) for r in data.get("roles", []) if r in known_roles),
        grants={Permission(p): Scope(s) for p, s in data.get("grants", {}).items() if p in known_permissions},
        request_id=data.get("request_id"),
        client_addr=data.get("client_addr"),
        purpose=data.get("purpose"),
        api_key=data.get("api_key"),
    )


def actor_for(kind: str, payload: dict[str, Any]) -> Actor:
    """The job's actor: whoever started it, or the node itself (`job:<kind>`)."""
    data = payload.get(ACTOR_KEY)
    if isinstance(data, dict):
        return restore(data)
    return Actor.system(f"job:{kind}")
