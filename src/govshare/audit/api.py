"""/api/v1/audit: for the auditor only (三员分立)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from govshare.audit import service
from govshare.audit.schemas import AuditEntryOut, AuditFilter, AuditPage, ChainReportOut, CheckpointOut
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.core.clock import assume_beijing
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/audit", tags=["安全审计"])


@router.get("/entries", summary="审计记录（新的在前，按 before 翻页）")
def list_entries(
    action: str | None = Query(None, max_length=64),
    actor_name: str | None = Query(None, max_length=100),
    target_id: str | None = Query(None, max_length=128),
    outcome: Literal["success", "denied", "failure"] | None = None,
    department: str | None = Query(None, max_length=32, description="操作人所属部门代码"),
    action_prefix: str | None = Query(None, max_length=64, description="操作代码前缀，如 sharing."),
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = Query(None, ge=1, le=2**62),
    limit: int = Query(100, ge=1, le=10_000),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.AUDIT_READ),
) -> AuditPage:
    flt = AuditFilter(
        action=action,
        actor_name=actor_name,
        target_id=target_id,
        outcome=outcome,
        department_code=department.strip().upper() if department else None,  # codes are upper case
        action_prefix=action_prefix.lower() if action_prefix else None,  # actions are lower case
        since=assume_beijing(since, "since"),
        until=assume_beijing(until, "until"),
    )
    entries = service.list_entries(session, actor, flt, before_seq=before, limit=limit)
    full_page = len(entries) == min(limit, session.info["node"].page_max)
    return AuditPage(
        entries=[AuditEntryOut.of(e) for e in entries],
        next_before=entries[-1].seq if entries and full_page else None,
    )


@router.post("/verify", summary="校验审计哈希链")
def verify(session: Session = DB_SESSION, actor: Actor = require(Permission.AUDIT_VERIFY)) -> ChainReportOut:
    return ChainReportOut(**service.verify(session, actor).as_dict())


@router.post("/checkpoint", summary="写入审计检查点（签名的链位置，写到数据库之外）")
def checkpoint(
    session: Session = DB_SESSION, actor: Actor = require(Permission.AUDIT_VERIFY)
) -> CheckpointOut:
    return CheckpointOut(**service.write_checkpoint(session, actor).as_dict())
