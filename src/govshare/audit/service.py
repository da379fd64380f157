"""Writing, reading and verifying the audit log.

`record` is called by every other service inside the transaction of the action it records, so an action
and its entry commit or roll back together. Refusals are recorded by the edge after it rolls the refused
action back (`record_denial`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import chain
from govshare.audit.repository import AuditFilter, AuditRepository
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal
from govshare.auth.permissions import Permission
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import PermissionDenied, ServiceUnavailable
from govshare.models import AuditEntry

SUCCESS, DENIED, FAILURE = "success", "denied", "failure"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _safe(value: str | None, limit: int) -> str | None:
    """What a hostile caller typed is recorded, never allowed to break the write: control characters
    (PostgreSQL refuses NUL) become U+FFFD, lone surrogates are replaced, and text is cut to the column."""
    if value is None:
        return None
    cleaned = _CONTROL.sub("\ufffd", value).encode("utf-8", "replace").decode("utf-8")
    return cleaned[:limit]


def _safe_detail(detail: dict[str, Any]) -> dict[str, Any]:
    return {_safe(str(k), 64) or "": _safe(v, 2000) if isinstance(v, str) else v for k, v in detail.items()}


@internal("every action writes its own audit entry, after its own authorization check")
def record(
    session: Session,
    actor: Actor,
    action_name: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    outcome: str = SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    repo = AuditRepository(session)
    head = repo.lock_head()
    key = node_config(session).audit_key
    if head.key_check is None:
        head.key_check = chain.key_check(key)
    elif head.key_check != chain.key_check(key):
        raise ServiceUnavailable(
            "审计密钥与本节点审计日志使用的不一致，已拒绝写入：请检查 GOVSHARE_AUDIT_KEY（操作未执行）"
        )
    entry = AuditEntry(
        seq=head.seq + 1,
        occurred_at=utcnow(),
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_name=_safe(actor.name, 100) or "",
        department_code=actor.department_code,
        application_code=actor.application_code,
        action=_safe(action_name, 64) or "",
        target_type=target_type,
        target_id=_safe(target_id, 128),
        outcome=outcome,
        request_id=actor.request_id,
        client_addr=actor.client_addr,
        purpose=_safe(actor.purpose, 255),
        detail=_safe_detail(detail or {}),
        prev_hash=head.entry_hash,
    )
    entry.entry_hash = chain.entry_hash(key, head.entry_hash, entry)
    repo.add(entry)
    head.seq, head.entry_hash = entry.seq, entry.entry_hash
    session.flush()
    return entry


@internal("the edge records a refusal after rolling back the refused action")
def record_denial(session: Session, actor: Actor, error: PermissionDenied) -> AuditEntry:
    ctx = error.context
    return record(
        session,
        actor,
        ctx.action if ctx else "unknown",
        target_type=ctx.target_type if ctx else None,
        target_id=ctx.target_id if ctx else None,
        outcome=DENIED,
        detail={"permission": ctx.permission if ctx else "", "message": error.message},
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    first_bad_seq: int | None = None
    problem: str | None = None  # modified / deleted / reordered / truncated / wrong_key
    message: str = "审计日志哈希链完整"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "message": self.message,
        }


def _broken(checked: int, head_seq: int, seq: int, problem: str, message: str) -> ChainReport:
    return ChainReport(False, checked, head_seq, seq, problem, message)


def _walk_chain(session: Session) -> ChainReport:
    """Walk the whole chain and name the first entry that was modified, deleted or reordered."""
    repo = AuditRepository(session)
    key = node_config(session).audit_key
    head = repo.head()
    head_seq, head_hash = (head.seq, head.entry_hash) if head else (0, chain.GENESIS_HASH)
    if head and head.key_check and head.key_check != chain.key_check(key):
        return ChainReport(
            False,
            0,
            head_seq,
            None,
            "wrong_key",
            "当前配置的审计密钥不是本节点审计日志使用的密钥，无法校验（请检查 GOVSHARE_AUDIT_KEY）",
        )
    prev_hash, expected_seq, checked = chain.GENESIS_HASH, 1, 0
    for entry in repo.iterate():
        if chain.entry_hash(key, entry.prev_hash, entry) != entry.entry_hash:
            return _broken(checked, head_seq, entry.seq, "modified", f"第 {entry.seq} 条审计记录的内容被修改")
        if entry.prev_hash != prev_hash:
            successor = repo.first_with_prev_hash(prev_hash, entry.seq)
            if successor is not None:
                return _broken(
                    checked,
                    head_seq,
                    entry.seq,
                    "reordered",
                    f"第 {entry.seq} 条审计记录的位置被调换（原应在其后的第 {successor} 条之后）",
                )
            missing = expected_seq if entry.seq > expected_seq else entry.seq
            return _broken(checked, head_seq, missing, "deleted", f"第 {missing} 条审计记录被删除")
        if entry.seq != expected_seq:
            return _broken(
                checked, head_seq, expected_seq, "reordered", f"第 {expected_seq} 条起审计记录被重新编号"
            )
        prev_hash, expected_seq, checked = entry.entry_hash, entry.seq + 1, checked + 1
    if head_seq != expected_seq - 1 or head_hash != prev_hash:
        return _broken(
            checked,
            head_seq,
            expected_seq,
            "truncated",
            f"第 {expected_seq} 条及之后的审计记录被删除（链头记录为第 {head_seq} 条）",
        )
    return ChainReport(True, checked, head_seq)


@action(Permission.AUDIT_VERIFY)
def verify(session: Session, actor: Actor) -> ChainReport:
    report = _walk_chain(session)
    if report.problem == "wrong_key":
        return report  # nothing can be appended under a foreign key
    record(
        session,
        actor,
        "audit.verify",
        target_type="audit_chain",
        outcome=SUCCESS if report.ok else FAILURE,
        detail=report.as_dict(),
    )
    return report


@action(Permission.AUDIT_READ)
def list_entries(
    session: Session, actor: Actor, flt: AuditFilter, *, before_seq: int | None, limit: int
) -> list[AuditEntry]:
    limit = max(1, min(limit, node_config(session).page_max))
    entries = AuditRepository(session).page(flt, before_seq=before_seq, limit=limit)
    # Reading the audit log is itself audited; the query is recorded, not the entries.
    record(
        session,
        actor,
        "audit.read",
        target_type="audit_log",
        detail={k: str(v) for k, v in vars(flt).items() if v is not None},
    )
    return entries
