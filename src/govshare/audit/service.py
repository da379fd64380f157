"""Writing, reading and verifying the audit log.

`record` is called by every other service inside the transaction of the action it records, so an action
and its entry commit or roll back together. Refusals are recorded by the edge after it rolls the refused
action back (`record_denial`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import chain, checkpoints, verification
from govshare.audit.checkpoints import Checkpoint
from govshare.audit.repository import AuditRepository
from govshare.audit.schemas import AuditFilter
from govshare.audit.verification import ChainReport
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal
from govshare.auth.permissions import Permission
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.core.uow import unit_of
from govshare.errors import Conflict, PermissionDenied, ServiceUnavailable
from govshare.models import AuditEntry

SUCCESS, DENIED, FAILURE = "success", "denied", "failure"
# Session.info key set once the session has appended to the chain (its head is then uncommitted).
APPENDED = "govshare.audit.appended"

__all__ = ["ChainReport", "CheckpointResult"]


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
    config = node_config(session)
    key = config.audit_key
    refusal = verification.head_refusal(head, config)
    if refusal is not None:
        raise ServiceUnavailable(refusal)
    if head.key_check is None:
        head.key_check = chain.key_check(key)
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
    head.mac = chain.head_mac(key, head.seq, head.entry_hash, head.key_check)
    session.info[APPENDED] = True
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
        detail={
            "permission": ctx.permission if ctx else "",
            "message": error.message,
            **(ctx.extra if ctx else {}),
        },
    )


@internal("a read-only check: called by `verify` and `write_checkpoint`, and after a restore by the backup")
def verify_chain(session: Session, *, checkpoint_dir: Path | None = None) -> ChainReport:
    """The whole chain, its keyed head and every checkpoint (see audit/verification.py); writes nothing."""
    return verification.verify_chain(session, checkpoint_dir=checkpoint_dir)


@action(Permission.AUDIT_VERIFY)
def verify(session: Session, actor: Actor, *, checkpoint_dir: Path | None = None) -> ChainReport:
    """Verify the chain and record the outcome (unless the head refuses appends: then only report)."""
    report = verification.verify_chain(session, checkpoint_dir=checkpoint_dir)
    config = node_config(session)
    if verification.head_refusal(AuditRepository(session).head(), config) is not None:
        return report  # nothing can be appended onto a foreign-keyed or forged head
    record(
        session,
        actor,
        "audit.verify",
        target_type="audit_chain",
        outcome=SUCCESS if report.ok else FAILURE,
        detail=report.as_dict(),
    )
    return report


@dataclass(frozen=True)
class CheckpointResult:
    written: bool  # False when nothing was appended since the newest checkpoint (it is returned instead)
    number: int
    seq: int
    hash: str
    written_at: str
    alg: str
    file_name: str

    @classmethod
    def of(cls, checkpoint: Checkpoint, *, written: bool) -> CheckpointResult:
        doc = checkpoint.doc
        return cls(written, doc.n, doc.seq, doc.hash, doc.written_at, doc.alg, checkpoint.file_name)

    def as_dict(self) -> dict[str, Any]:
        """For answers and the audit entry: the file's directory is never shown."""
        return {k: v for k, v in vars(self).items() if k != "file_name"}


def _is_own_entry(session: Session, seq: int, checkpoint: Checkpoint) -> bool:
    entry = AuditRepository(session).get(seq)
    return (
        entry is not None
        and entry.action == verification.CHECKPOINT_ACTION
        and entry.detail.get("checkpoint") == checkpoint.number
    )


def _refused(session: Session, actor: Actor, problem: str, message: str) -> Conflict:
    """A checkpoint refused because the chain or the newest checkpoint is broken; the edge records the
    refusal after rolling back (`UnitOfWork.after_rollback`), so a broken chain found this way leaves a
    trace."""
    error = Conflict(message)

    def audit_refusal(session: Session) -> None:
        detail = {"problem": problem, "message": message}
        repo = AuditRepository(session)
        head = repo.head()
        newest = repo.get(head.seq) if head and head.seq else None
        if newest is not None and (newest.action, newest.outcome, newest.actor_name, newest.detail) == (
            "audit.checkpoint",
            FAILURE,
            actor.name,
            detail,
        ):
            return  # the same refusal is the newest entry already: a periodic writer does not repeat it
        record(session, actor, "audit.checkpoint", target_type="audit_chain", outcome=FAILURE, detail=detail)

    unit_of(session).after_rollback(audit_refusal)
    return error


@action(Permission.AUDIT_VERIFY)
def write_checkpoint(
    session: Session, actor: Actor, *, verified: verification.Verified | None = None
) -> CheckpointResult:
    """Anchor the committed head outside the database: check the entries since the newest checkpoint, sign
    the head's (seq, hash) into the next checkpoint file, and record that in the log.

    Call it first in its transaction: the head it anchors must already be committed (the file outlives a
    rollback, and a checkpoint ahead of the log reads as a truncation). `verified` (from
    `verification.precheck` in a read-only session just before) lets the locked part start where that
    check ended, if it started from the same newest checkpoint; audited writes wait meanwhile.
    """
    if session.info.get(APPENDED):
        raise RuntimeError("write_checkpoint must run before anything is appended in its transaction")
    config = node_config(session)
    repo = AuditRepository(session)
    head = repo.lock_head()
    refusal = verification.head_refusal(head, config)
    if refusal is not None:
        raise Conflict(refusal.replace("已拒绝写入（操作未执行）", "未写入新检查点"))
    latest = checkpoints.load_latest(config.audit_checkpoint_dir, checkpoints.verifiers(config.audit_key))
    if isinstance(latest, checkpoints.Forged):
        message = (
            f"第 {latest.number} 个检查点{latest.reason}，未写入新检查点：请审计员运行 govshare audit verify"
        )
        raise _refused(session, actor, "checkpoint_forged", message)
    start: Checkpoint | verification.Verified | None = latest
    if verified is not None and verified.number == (latest.number if latest else 0):
        start = verified if verified.seq >= (latest.seq if latest else 0) else latest
    broken = verification.verify_since(session, start, head)
    if broken is not None:
        message = f"{broken.message}；未写入新检查点，请审计员运行 govshare audit verify"
        raise _refused(session, actor, broken.problem or "broken", message)
    if latest is not None and (
        (head.seq, head.entry_hash) == (latest.seq, latest.hash)
        or (head.seq == latest.seq + 1 and _is_own_entry(session, head.seq, latest))
    ):
        return CheckpointResult.of(latest, written=False)
    anchored = repo.get(head.seq) if head.seq else None
    try:
        checkpoint = checkpoints.write_checkpoint(
            config.audit_checkpoint_dir,
            checkpoints.HmacSm3Signer.from_audit_key(config.audit_key),
            node=config.node_name,
            seq=head.seq,
            entry_hash=head.entry_hash,
            occurred_at=anchored.occurred_at if anchored else None,
            previous=latest,
        )
    except FileExistsError as exc:
        raise Conflict("另一进程刚写入了同一编号的审计检查点，请稍后重试") from exc
    except OSError as exc:
        raise ServiceUnavailable(
            "审计检查点目录不可写：请检查 GOVSHARE_AUDIT_CHECKPOINT_DIR 的位置与权限（未写入检查点）"
        ) from exc
    result = CheckpointResult.of(checkpoint, written=True)
    detail = {"checkpoint": checkpoint.number, "seq": checkpoint.seq, "hash": checkpoint.hash}
    record(
        session,
        actor,
        "audit.checkpoint",
        target_type="audit_chain",
        target_id=str(checkpoint.number),
        detail={**detail, "digest": checkpoint.digest, "alg": checkpoint.doc.alg},
    )
    return result


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
