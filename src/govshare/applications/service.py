"""Applications and their keys: issue (shown once, stored as a digest), scope, expire, revoke."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from govshare.applications.policies import ensure_may_issue_key
from govshare.applications.repository import ApiKeyRepository, ApplicationRepository
from govshare.applications.schemas import ApplicationCreate, key_state
from govshare.audit import service as audit
from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal, public_action, require_scope
from govshare.auth.permissions import (
    APPLICATION_DEFAULT,
    APPLICATION_GRANTABLE,
    APPLICATION_OWN_DEPARTMENT,
    Permission,
    Scope,
)
from govshare.core import security
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.identity import readers as identity_readers
from govshare.models import ApiKey, Application

KEY_PREFIX = "gs"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# Refresh `last_used_at` at most this often, so a busy key does not write on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@action(Permission.APPLICATION_MANAGE)
def create_application(session: Session, actor: Actor, data: ApplicationCreate) -> Application:
    department = identity_readers.department_by_code(session, data.department_code)
    if department is None:
        raise InvalidInput.on("department_code", f"部门“{data.department_code}”不存在")
    require_scope(
        actor,
        Permission.APPLICATION_MANAGE,
        department_id=department.id,
        action_name="applications.create_application",
        target_type="application",
        target_id=data.code,
    )
    repo = ApplicationRepository(session)
    if repo.by_code(data.code):
        raise Conflict(f"应用代码“{data.code}”已存在")
    application = Application(
        code=data.code, name=data.name, department_id=department.id, description=data.description
    )
    application.department = department
    repo.add(application)
    audit.record(
        session,
        actor,
        "applications.create",
        target_type="application",
        target_id=data.code,
        detail={"department": department.code, "name": data.name},
    )
    return application


@action(Permission.APPLICATION_READ)
def list_applications(session: Session, actor: Actor) -> list[Application]:
    return ApplicationRepository(session).list(row_scope.for_actor(actor, Permission.APPLICATION_READ))


def _application(
    session: Session, actor: Actor, code: str, permission: Permission, action_name: str
) -> Application:
    application = ApplicationRepository(session).by_code(code)
    if application is None:
        raise NotFound(f"应用“{code}”不存在")
    require_scope(
        actor,
        permission,
        department_id=application.department_id,
        action_name=action_name,
        target_type="application",
        target_id=code,
    )
    return application


@action(Permission.APPLICATION_READ)
def get_application(session: Session, actor: Actor, code: str) -> Application:
    return _application(session, actor, code, Permission.APPLICATION_READ, "applications.get_application")


@dataclass(frozen=True)
class Issued:
    key: ApiKey
    secret: str


@action(Permission.API_KEY_MANAGE)
def issue_key(
    session: Session,
    actor: Actor,
    code: str,
    *,
    scopes: list[Permission] | None = None,
    days: int | None = None,
) -> Issued:
    application = _application(session, actor, code, Permission.API_KEY_MANAGE, "applications.issue_key")
    ensure_may_issue_key(actor, application)
    cfg = node_config(session)
    chosen = sorted(set(scopes) if scopes is not None else APPLICATION_DEFAULT)
    if not chosen:
        raise InvalidInput.on("scopes", "至少需要一项权限")
    refused = [s for s in chosen if s not in APPLICATION_GRANTABLE]
    if refused:
        raise InvalidInput.on("scopes", f"应用密钥不能持有以下权限：{'、'.join(refused)}")
    days = days or cfg.api_key_default_days
    if days > cfg.api_key_max_days:
        raise InvalidInput.on("days", f"密钥有效期不能超过 {cfg.api_key_max_days} 天")
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(10))
    secret = f"{KEY_PREFIX}_{prefix}_{security.new_token(32)}"
    now = utcnow()
    key = ApiKey(
        application_id=application.id,
        prefix=prefix,
        key_digest=security.token_digest(secret),
        scopes=[str(s) for s in chosen],
        created_by=actor.name,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    key.application = application
    ApiKeyRepository(session).add(key)
    audit.record(
        session,
        actor,
        "applications.key.issue",
        target_type="api_key",
        target_id=prefix,
        detail={
            "application": code,
            "application_department": application.department.code,
            "scopes": ",".join(key.scopes),
            "days": days,
        },
    )
    return Issued(key=key, secret=secret)


@action(Permission.API_KEY_REVOKE, Permission.API_KEY_MANAGE)
def revoke_key(session: Session, actor: Actor, code: str, prefix: str, *, reason: str = "") -> ApiKey:
    """Revoke a key (from the next request on); the reason, when given, is kept in the audit entry."""
    key = ApiKeyRepository(session).by_prefix(prefix)
    if key is None or key.application.code != code:
        raise NotFound(f"应用“{code}”没有前缀为“{prefix}”的密钥")
    permission = (
        Permission.API_KEY_REVOKE if actor.scope_of(Permission.API_KEY_REVOKE) else Permission.API_KEY_MANAGE
    )
    require_scope(
        actor,
        permission,
        department_id=key.application.department_id,
        action_name="applications.revoke_key",
        target_type="api_key",
        target_id=prefix,
    )
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = utcnow(), actor.name
        session.flush()
        audit.record(
            session,
            actor,
            "applications.key.revoke",
            target_type="api_key",
            target_id=prefix,
            detail={"application": key.application.code, **({"reason": reason} if reason else {})},
        )
    return key


@action(Permission.APPLICATION_READ)
def list_keys(session: Session, actor: Actor, code: str) -> list[ApiKey]:
    application = _application(session, actor, code, Permission.APPLICATION_READ, "applications.list_keys")
    return ApiKeyRepository(session).for_application(application.id)


@public_action("an API call is authenticated by the possession of a valid key")
def authenticate_key(session: Session, secret: str, *, touch: bool = True) -> Actor | None:
    """The application actor for a presented key, or None. Revocation and expiry are read from the
    database on every call, so they take effect on the next request. With `touch=False` the key's
    last-used time is left to the caller (`mark_key_used`), for read-only sessions."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 10:
        return None
    key = ApiKeyRepository(session).by_prefix(parts[1])
    if key is None or not security.same(key.key_digest, security.token_digest(secret)):
        return None
    now = utcnow()
    application = key.application
    if key_state(key) != "active" or not application.is_active or not application.department.is_active:
        return None
    stale = key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY
    if stale and touch:
        key.last_used_at = now
    grants = {
        Permission(s): Scope.OWN_DEPARTMENT if Permission(s) in APPLICATION_OWN_DEPARTMENT else Scope.ALL
        for s in key.scopes
        if Permission(s) in APPLICATION_GRANTABLE
    }
    return Actor(
        kind="application",
        name=application.code,
        key_prefix=key.prefix if stale and not touch else None,
        api_key=key.prefix,
        id=str(application.id),
        department_id=application.department_id,
        department_code=application.department.code,
        application_code=application.code,
        grants=grants,
    )


@internal("the data API's edge records the key's use in its write transaction")
def mark_key_used(session: Session, prefix: str) -> None:
    ApiKeyRepository(session).mark_used(prefix, utcnow())


@public_action("the home page shows the node's totals to everyone")
def node_application_count(session: Session) -> int:
    return ApplicationRepository(session).count()
