"""The node's job kinds. Each handler calls its domain's `jobs.py`, which opens its own units of work.

| kind | what | as whom | attempts |
|---|---|---|---|
| `collection.batch` | a batch started from the API or the portal | its starter | 3 |
| `collection.run_due` | the sources that are due (scheduled) | `job:collection.run_due` | 3 |
| `collection.watchdog` | fail stuck batches (scheduled) | `job:collection.watchdog` | 3 |
| `identity.purge_sessions` | delete expired browser sessions (scheduled) | the node | 5 |
| `audit.checkpoint` | write the next audit checkpoint (scheduled) | `job:audit-checkpoint` | 3 |
| `audit.verify` | verify the whole audit chain (nightly) | `job:audit-verify` | 3 |
| `jobs.prune` | delete finished jobs after 30 days (nightly) | the node | 3 |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from govshare.audit import jobs as audit_jobs
from govshare.collection import jobs as collection_jobs
from govshare.core.clock import utcnow
from govshare.errors import Conflict
from govshare.identity import jobs as identity_jobs
from govshare.jobs.registry import JobContext, JobKind, register
from govshare.jobs.repository import JobRepository

KEEP_FINISHED = timedelta(days=30)


def _batch(ctx: JobContext) -> dict[str, Any]:
    return collection_jobs.run_batch_job(ctx.db, ctx.actor, ctx.payload)


def _run_due(ctx: JobContext) -> dict[str, Any]:
    finished = collection_jobs.run_due(ctx.db, ctx.actor)
    return {"batches": [batch.id for batch in finished]}


def _watchdog(ctx: JobContext) -> dict[str, Any]:
    return {"failed_batches": collection_jobs.watchdog(ctx.db, ctx.actor)}


def _purge_sessions(ctx: JobContext) -> dict[str, Any]:
    return {"deleted": identity_jobs.purge_expired_sessions(ctx.db)}


def _checkpoint(ctx: JobContext) -> dict[str, Any]:
    result = audit_jobs.write_checkpoint_job(ctx.db)
    return {"written": result.written, "number": result.number, "seq": result.seq}


def _verify(ctx: JobContext) -> dict[str, Any]:
    report = audit_jobs.verify_chain_job(ctx.db)
    if not report.ok:  # the job ends dead with the problem, where the portal's job list shows it
        raise Conflict(f"审计链校验未通过：{report.message}")
    return {"ok": True, "checked": report.checked, "checkpoints": report.checkpoints}


def _prune(ctx: JobContext) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        return {"deleted": JobRepository(session).prune(utcnow() - KEEP_FINISHED)}


BATCH = register(
    JobKind(
        collection_jobs.BATCH_JOB,
        "归集批次",
        _batch,
        max_attempts=3,
        retry_seconds=10,
        on_end=collection_jobs.end_batch_job,
    )
)
RUN_DUE = register(JobKind("collection.run_due", "运行到期数据源", _run_due, max_attempts=3))
WATCHDOG = register(JobKind("collection.watchdog", "检查中断的批次", _watchdog, max_attempts=3))
PURGE_SESSIONS = register(JobKind("identity.purge_sessions", "清除过期会话", _purge_sessions))
CHECKPOINT = register(JobKind("audit.checkpoint", "写审计检查点", _checkpoint, max_attempts=3))
VERIFY = register(JobKind("audit.verify", "校验审计链", _verify, max_attempts=3))
PRUNE = register(JobKind("jobs.prune", "清理已结束的任务", _prune, max_attempts=3))
