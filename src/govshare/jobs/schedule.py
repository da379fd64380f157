"""The periodic jobs the worker's scheduler queues: one job per kind and period, whichever worker (or
however many) notices the period first, because the period is the job's dedupe key (`<kind>@<period>`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from govshare.audit import jobs as audit_jobs
from govshare.jobs import handlers, registry
from govshare.jobs.repository import JobRepository

FIVE_MINUTES, HOUR, DAY = 300, 3600, 86_400


@dataclass(frozen=True)
class Periodic:
    kind: str
    every_seconds: float

    def period(self, now: datetime) -> int:
        return int(now.timestamp() // self.every_seconds)

    def key(self, now: datetime) -> str:
        return f"{self.kind}@{self.period(now)}"


def periodic_jobs(checkpoint_minutes: int) -> list[Periodic]:
    """The node's periodic work; checkpoints every `GOVSHARE_AUDIT_CHECKPOINT_MINUTES` (0: none)."""
    jobs = [
        Periodic(handlers.RUN_DUE.name, FIVE_MINUTES),
        Periodic(handlers.WATCHDOG.name, FIVE_MINUTES),
        Periodic(handlers.PURGE_SESSIONS.name, HOUR),
        Periodic(handlers.VERIFY.name, DAY),
        Periodic(handlers.PRUNE.name, DAY),
    ]
    if checkpoint_minutes > 0:
        jobs.append(Periodic(handlers.CHECKPOINT.name, checkpoint_minutes * audit_jobs.MINUTE_SECONDS))
    return jobs


def enqueue_due(session: Session, jobs: list[Periodic], now: datetime, worker: str) -> list[str]:
    """Queue this period's job of each kind unless it exists; the keys queued."""
    repo, queued = JobRepository(session), []
    for job in jobs:
        key = job.key(now)
        inserted = repo.add_once(
            {
                "kind": job.kind,
                "payload": {},
                "state": "queued",
                "attempts": 0,
                "max_attempts": registry.KINDS[job.kind].max_attempts,
                "run_after": now,
                "dedupe_key": key,
                "created_by": f"scheduler:{worker}"[:100],
                "created_at": now,
                "updated_at": now,
            }
        )
        if inserted:
            queued.append(key)
    return queued
