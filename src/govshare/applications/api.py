"""/api/v1/applications: business systems and their keys."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from govshare.applications import policies, service
from govshare.applications.schemas import (
    ApplicationCreate,
    ApplicationDetailOut,
    ApplicationOut,
    IssuedKey,
    KeyIssue,
    KeyOut,
    KeyRevoke,
)
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/applications", tags=["应用系统"])


@router.get("", summary="应用列表")
def list_applications(
    session: Session = DB_SESSION, actor: Actor = require(Permission.APPLICATION_READ)
) -> list[ApplicationOut]:
    return [ApplicationOut.of(a) for a in service.list_applications(session, actor)]


@router.post("", status_code=201, summary="登记应用")
def create_application(
    body: ApplicationCreate,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.APPLICATION_MANAGE),
) -> ApplicationOut:
    return ApplicationOut.of(service.create_application(session, actor, body))


@router.get("/{code}", summary="应用详情")
def get_application(
    code: str, session: Session = DB_SESSION, actor: Actor = require(Permission.APPLICATION_READ)
) -> ApplicationDetailOut:
    application = service.get_application(session, actor, code)
    return ApplicationDetailOut(
        **ApplicationOut.of(application).model_dump(),
        allowed_actions=policies.key_actions(actor, application).names(),
    )


@router.get("/{code}/keys", summary="应用的密钥（不含密钥本身）")
def list_keys(
    code: str, session: Session = DB_SESSION, actor: Actor = require(Permission.APPLICATION_READ)
) -> list[KeyOut]:
    return [KeyOut.of(k) for k in service.list_keys(session, actor, code)]


@router.post("/{code}/keys", status_code=201, summary="签发密钥（完整密钥只显示这一次）")
def issue_key(
    code: str,
    body: KeyIssue,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.API_KEY_MANAGE),
) -> IssuedKey:
    issued = service.issue_key(session, actor, code, scopes=body.scopes, days=body.days)
    return IssuedKey(key=issued.secret, **KeyOut.of(issued.key).model_dump())


@router.post("/{code}/keys/{prefix}/revoke", summary="吊销密钥")
def revoke_key(
    code: str,
    prefix: str,
    body: KeyRevoke,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.API_KEY_REVOKE, Permission.API_KEY_MANAGE),
) -> KeyOut:
    return KeyOut.of(service.revoke_key(session, actor, code, prefix, reason=body.reason))
