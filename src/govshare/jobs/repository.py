"""All SQL of the job queue.

Claiming differs by database: PostgreSQL takes the next due row with `FOR UPDATE SKIP LOCKED`, so several
workers claim side by side and never the same row; SQLite has one writer at a time, and the claim runs in
the write transaction the node begins `IMMEDIATE` (core/db.py), so its read and its update are one step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from govshare.models import Job

CLAIMABLE = ("queued", "failed")  # failed: an attempt failed and its retry is due at run_after


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, job: Job) -> Job:
        self.session.add(job)
        self.session.flush()
        return job

    def add_once(self, values: dict[str, Any]) -> bool:
        """Insert a job unless one with its dedupe key exists (a periodic job's period); True if inserted."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        result: CursorResult[Any] = self.session.execute(statement)  # type: ignore[assignment]
        return bool(result.rowcount)

    def get(self, job_id: int) -> Job | None:
        return self.session.get(Job, job_id)

    def page(self, *, state: str | None, kind: str | None, before_id: int | None, limit: int) -> list[Job]:
        """Newest first, keyset-paged by id."""
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if state:
            query = query.where(Job.state == state)
        if kind:
            query = query.where(Job.kind == kind)
        if before_id:
            query = query.where(Job.id < before_id)
        return list(self.session.scalars(query))

    def any_due(self, now: datetime, kinds: tuple[str, ...]) -> bool:
        """Whether a job waits to be claimed: read first, so an idle worker takes no write lock."""
        query = select(Job.id).where(Job.state.in_(CLAIMABLE), Job.run_after <= now, Job.kind.in_(kinds))
        return self.session.scalar(query.limit(1)) is not None

    def any_stale(self, silent_since: datetime) -> bool:
        query = select(Job.id).where(
            Job.state == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < silent_since)
        )
        return self.session.scalar(query.limit(1)) is not None

    def claim_next(self, now: datetime, worker: str, kinds: tuple[str, ...]) -> Job | None:
        """Take the next due job: mark it running for `worker` and count the attempt."""
        query = (
            select(Job)
            .where(Job.state.in_(CLAIMABLE), Job.run_after <= now, Job.kind.in_(kinds))
            .order_by(Job.run_after, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders no lock (its writer is alone)
        )
        job = self.session.scalars(query).one_or_none()
        if job is None:
            return None
        job.state, job.locked_by, job.locked_at, job.heartbeat_at = "running", worker, now, now
        job.attempts += 1
        job.updated_at = now
        self.session.flush()
        return job

    def beat(self, job_ids: list[int], worker: str, now: datetime) -> None:
        if job_ids:
            self.session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.state == "running", Job.locked_by == worker)
                .values(heartbeat_at=now)
            )

    def stale(self, silent_since: datetime) -> list[Job]:
        """Running jobs whose worker has not beaten its heart since `silent_since` (it died)."""
        query = (
            select(Job)
            .where(
                Job.state == "running",
                or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < silent_since),
            )
            .order_by(Job.id)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(query))

    def owned(self, job_id: int, worker: str) -> Job | None:
        """The job, if `worker` still holds it (the watchdog may have requeued it meanwhile)."""
        query = select(Job).where(Job.id == job_id, Job.state == "running", Job.locked_by == worker)
        return self.session.scalars(query.with_for_update()).one_or_none()

    def counts_by_state(self) -> dict[str, int]:
        rows = self.session.execute(select(Job.state, func.count()).group_by(Job.state))
        return dict(rows.tuples().all())

    def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting due job became due (its queue age); None when nothing waits."""
        query = select(func.min(Job.run_after)).where(Job.state.in_(CLAIMABLE), Job.run_after <= now)
        return self.session.scalar(query)

    def prune(self, finished_before: datetime) -> int:
        """Delete jobs that ended before the date (dead ones stay, for someone to read and retry)."""
        statement = delete(Job).where(
            Job.state.in_(("succeeded", "cancelled")), Job.finished_at < finished_before
        )
        result: CursorResult[Any] = self.session.execute(statement)  # type: ignore[assignment]
        return result.rowcount or 0
