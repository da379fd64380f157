"""The job queue's actions: queue work (for other domains, in their own transaction), list, show, retry
and cancel jobs (the platform admin), and the figures /metrics shows.

A job is queued in the transaction of the change that needs it, so it exists exactly when the change
commits: a batch recorded by a request and its job commit or roll back together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal, public_action
from govshare.collection import jobs as collection_jobs
from govshare.collection.service import Started
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, NotFound
from govshare.jobs import actors, handlers, registry
from govshare.jobs.policies import MANAGE, VIEW
from govshare.jobs.repository import JobRepository
from govshare.jobs.schemas import STATE_LABELS, JobOut, QueueFigures
from govshare.models import Job

__all__ = ["handlers"]  # importing the service registers the node's job kinds

RETRIABLE = ("dead", "cancelled", "failed")
CANCELLABLE = ("queued", "failed")


@internal("a domain queues its own work after its own authorization check")
def enqueue(
    session: Session,
    actor: Actor,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    as_starter: bool = False,
    run_after: datetime | None = None,
) -> Job:
    """Queue a job in the caller's transaction. `as_starter`: it runs (and is audited) as `actor`; otherwise
    as the node (`job:<kind>`)."""
    known = registry.kind_of(kind)
    if known is None:
        raise ValueError(f"unknown job kind {kind!r}")
    body = dict(payload or {})
    if as_starter:
        body[actors.ACTOR_KEY] = actors.snapshot(actor)
    now = utcnow()
    job = Job(
        kind=kind,
        payload=body,
        state="queued",
        attempts=0,
        max_attempts=known.max_attempts,
        run_after=run_after or now,
        dedupe_key=dedupe_key,
        created_by=actor.name[:100],
        created_at=now,
        updated_at=now,
    )
    return JobRepository(session).add(job)


@internal("the API and the portal queue a batch they have just started (service.start_* checked the actor)")
def queue_batch(
    session: Session,
    actor: Actor,
    started: Started,
    *,
    path: str | None = None,
    records: list[object] | None = None,
) -> Job:
    """Queue a started batch for the worker, as its starter. Pushed records are staged durably first (a
    private file under the work directory), so the worker, another process, can read them."""
    records_file = None
    if records is not None:
        records_file = collection_jobs.stage_records(node_config(session).work_dir, records)
    payload = collection_jobs.batch_job_payload(started, path=path, records_file=records_file)
    batch_id = started.prepared.batch_id
    return enqueue(
        session, actor, collection_jobs.BATCH_JOB, payload, dedupe_key=f"batch:{batch_id}", as_starter=True
    )


def _out(job: Job) -> JobOut:
    out = JobOut.model_validate(job)
    out.label = registry.label_of(job.kind)
    out.state_label = STATE_LABELS.get(job.state, job.state)
    batch_id = job.payload.get("batch_id") if isinstance(job.payload, dict) else None
    out.target = f"批次 {batch_id}" if batch_id is not None else None
    return out


def _job(session: Session, job_id: int) -> Job:
    job = JobRepository(session).get(job_id)
    if job is None:
        raise NotFound(f"任务 {job_id} 不存在")
    return job


@action(VIEW)
def list_jobs(
    session: Session,
    actor: Actor,
    *,
    state: str | None = None,
    kind: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[JobOut]:
    """Newest first; `before_id` pages on (keyset)."""
    rows = JobRepository(session).page(state=state, kind=kind, before_id=before_id, limit=limit)
    return [_out(job) for job in rows]


@action(VIEW)
def get_job(session: Session, actor: Actor, job_id: int) -> JobOut:
    return _out(_job(session, job_id))


@action(MANAGE)
def retry_job(session: Session, actor: Actor, job_id: int) -> JobOut:
    """Run a dead, cancelled or waiting job again now, with its attempts counted afresh."""
    job = _job(session, job_id)
    if job.state not in RETRIABLE:
        raise Conflict(f"任务 {job_id} 当前{STATE_LABELS.get(job.state, job.state)}，不能重试")
    previous = job.state
    now = utcnow()
    job.state, job.attempts, job.run_after, job.updated_at, job.finished_at = "queued", 0, now, now, None
    audit.record(
        session, actor, "jobs.retry", target_type="job", target_id=str(job.id),
        detail={"kind": job.kind, "from": previous},
    )  # fmt: skip
    session.flush()
    return _out(job)


@action(MANAGE)
def cancel_job(session: Session, actor: Actor, job_id: int) -> JobOut:
    """Cancel a job that waits (queued, or waiting for a retry); a running job finishes first. What the job
    held is released (a batch's job: the batch fails and its staged input is removed)."""
    job = _job(session, job_id)
    if job.state not in CANCELLABLE:
        raise Conflict(f"任务 {job_id} 当前{STATE_LABELS.get(job.state, job.state)}，不能取消")
    now = utcnow()
    job.state, job.updated_at, job.finished_at = "cancelled", now, now
    job.error_code, job.last_error = "cancelled", f"由 {actor.name} 取消"
    audit.record(
        session, actor, "jobs.cancel", target_type="job", target_id=str(job.id), detail={"kind": job.kind}
    )
    session.flush()
    known = registry.kind_of(job.kind)
    if known is not None and known.on_end is not None:
        known.on_end(session, dict(job.payload), "任务已取消")
    return _out(job)


@public_action("queue sizes for /metrics, which GOVSHARE_METRICS_TOKEN protects; no job's content")
def queue_figures(session: Session, actor: Actor) -> QueueFigures:
    repo = JobRepository(session)
    now = utcnow()
    oldest = repo.oldest_due(now)
    by_state = dict.fromkeys(STATE_LABELS, 0) | repo.counts_by_state()
    return QueueFigures(
        by_state=by_state, oldest_due_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    )
