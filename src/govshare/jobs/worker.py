"""`govshare worker`: claims due jobs from the node's database and runs them, outside the web process.

One loop per process: requeue the jobs whose worker died (no heartbeat for `stale_seconds`), queue this
period's periodic jobs (`schedule.py`), claim the next due job and run it, beating its heart meanwhile.

- PostgreSQL: any number of workers, on any hosts; the claim takes the next due row `FOR UPDATE SKIP
  LOCKED` (repository.py), so no two workers ever run one job.
- SQLite: one worker process per node claims (an flock on `<work dir>/.worker.lock`; a second process
  waits on standby and takes over when the first stops). SQLite has one writer at a time: a batch's merge
  holds the write lock, and a second worker would only queue behind it, and behind the web's writes, while
  making the data API's short writes wait longer. The claim is one short IMMEDIATE write transaction.

A job that raises is retried after an exponential backoff with jitter (`retry_delay`) until its kind's
`max_attempts`, then is `dead` with the reason; an error another attempt would only repeat (a refusal,
invalid input, a conflict) makes it dead at once. A refusal is audited, after the rollback, as its actor's.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from govshare.audit import service as audit
from govshare.core.clock import utcnow
from govshare.core.db import PRIVATE_FILE, Database, private_directory
from govshare.errors import GovshareError, PermissionDenied
from govshare.jobs import actors, registry, schedule
from govshare.jobs.registry import JobContext, JobKind
from govshare.jobs.repository import JobRepository
from govshare.models import Job

log = structlog.get_logger(__name__)

WORKER_LOCK = ".worker.lock"
MAX_RETRY_SECONDS = 3600.0
_random = secrets.SystemRandom()


def retry_delay(base_seconds: float, attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: base × 2^(attempt-1), at most an hour, ±25 % jitter so that
    jobs failing together (a database restart) do not all come back in the same second."""
    delay = min(base_seconds * 2 ** max(attempt - 1, 0), MAX_RETRY_SECONDS)
    return float(delay * _random.uniform(0.75, 1.25))


def worker_name() -> str:
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Claimed:
    """A claimed job, read out of its transaction."""

    id: int
    kind: JobKind
    payload: dict[str, Any]
    attempt: int


class Worker:
    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = 2.0,
        heartbeat_seconds: float = 15.0,
        stale_seconds: float = 300.0,
        checkpoint_minutes: int = 0,
        scheduler: bool = True,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_seconds = stale_seconds
        self.periodic = schedule.periodic_jobs(checkpoint_minutes) if scheduler else []
        self.name = name or worker_name()
        self.stop = threading.Event()
        self._periods: dict[str, int] = {}

    # -- the loop ---------------------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> int:
        """Run jobs until `stop` is set (SIGTERM/SIGINT); `once`: until no job is due. Jobs run."""
        lock = _SingleWriter(self.db.config.work_dir) if self.db.is_sqlite else None
        try:
            while lock is not None and not lock.acquire():
                if once or self.stop.wait(self.poll_seconds):
                    log.warning("worker_standby_stopped", worker=self.name)
                    return 0
            log.info("worker_started", worker=self.name, backend=self.db.backend)
            done = 0
            while not self.stop.is_set():
                ran = self.tick()
                done += ran
                if not ran:
                    if once:
                        break
                    self.stop.wait(self.poll_seconds)
            return done
        finally:
            if lock is not None:
                lock.release()
            log.info("worker_stopped", worker=self.name)

    def tick(self) -> bool:
        """One turn: requeue dead workers' jobs, queue periodic jobs, run the next due job (True if one)."""
        self.requeue_stale()
        self.schedule_periodic()
        return self.run_next()

    def drain(self, *, limit: int = 1000) -> int:
        """Run every due job, one after the other, through the same claim and run path; how many ran."""
        done = 0
        while done < limit and self.run_next():
            done += 1
        return done

    # -- claiming and running ---------------------------------------------------------------------------

    def claim(self) -> Claimed | None:
        kinds = tuple(registry.KINDS)
        with self.db.transaction(readonly=True) as reader:  # idle: no write transaction, no write lock
            if not JobRepository(reader).any_due(utcnow(), kinds):
                return None
        with self.db.short_write() as session:
            job = JobRepository(session).claim_next(utcnow(), self.name, kinds)
            if job is None:
                return None
            return Claimed(job.id, registry.KINDS[job.kind], dict(job.payload), job.attempts)

    def run_next(self) -> bool:
        claimed = self.claim()
        if claimed is None:
            return False
        context = JobContext(
            self.db,
            claimed.id,
            claimed.kind.name,
            claimed.payload,
            actors.actor_for(claimed.kind.name, claimed.payload),
            claimed.attempt,
        )
        log.info("job_started", job=claimed.id, kind=claimed.kind.name, attempt=claimed.attempt)
        beat = _Heartbeat(self, claimed.id)
        beat.start()
        try:
            result = claimed.kind.run(context)
        except (KeyboardInterrupt, SystemExit):
            beat.halt()
            self._release(claimed.id)
            raise
        except Exception as exc:
            beat.halt()
            self._failed(claimed, context, exc)
        else:
            beat.halt()
            self._succeeded(claimed.id, result)
        return True

    def _succeeded(self, job_id: int, result: dict[str, Any] | None) -> None:
        with self.db.short_write() as session:
            job = JobRepository(session).owned(job_id, self.name)
            if job is None:  # requeued meanwhile (this worker was taken for dead): the other run counts
                log.warning("job_lost", job=job_id, worker=self.name)
                return
            now = utcnow()
            job.state, job.result, job.finished_at, job.updated_at = "succeeded", result, now, now
            job.locked_by, job.error_code, job.last_error = None, None, None
        log.info("job_succeeded", job=job_id)

    def _failed(self, claimed: Claimed, context: JobContext, exc: Exception) -> None:
        if isinstance(exc, GovshareError):
            code, message = exc.code, exc.message
            log.warning("job_failed", job=claimed.id, kind=claimed.kind.name, code=code, detail=message)
        else:  # never the exception's text: it may hold a connection URL; the log has the traceback
            code, message = "internal_error", f"内部错误（{type(exc).__name__}），详见 worker 日志"
            log.exception("job_failed", job=claimed.id, kind=claimed.kind.name)
        permanent = isinstance(exc, claimed.kind.permanent)
        with self.db.short_write() as session:
            if isinstance(exc, PermissionDenied):  # the refusal, audited after the job's rollback
                audit.record_denial(session, context.actor, exc)
            job = JobRepository(session).owned(claimed.id, self.name)
            if job is None:
                return
            now = utcnow()
            job.error_code, job.last_error, job.updated_at, job.locked_by = code, message[:2000], now, None
            if permanent or job.attempts >= job.max_attempts:
                tried = "不可重试的错误" if permanent else f"已尝试 {job.attempts} 次"
                self._dead(session, job, f"{tried}：{message}", now)
            else:
                job.state = "failed"
                job.run_after = now + timedelta(seconds=retry_delay(claimed.kind.retry_seconds, job.attempts))

    def _dead(self, session: Any, job: Job, reason: str, now: datetime) -> None:
        job.state, job.finished_at, job.last_error = "dead", now, reason[:2000]
        kind = registry.kind_of(job.kind)
        if kind is not None and kind.on_end is not None:
            kind.on_end(session, dict(job.payload), reason)
        log.error("job_dead", job=job.id, kind=job.kind, reason=reason)

    def _release(self, job_id: int) -> None:
        """Give the job back (a forced stop): another worker runs it; this attempt is not counted."""
        with self.db.short_write() as session:
            job = JobRepository(session).owned(job_id, self.name)
            if job is not None:
                now = utcnow()
                job.state, job.locked_by, job.run_after, job.updated_at = "queued", None, now, now
                job.attempts = max(job.attempts - 1, 0)
        log.warning("job_released", job=job_id)

    def beat(self, job_id: int) -> None:
        with self.db.short_write() as session:
            JobRepository(session).beat([job_id], self.name, utcnow())

    # -- the watchdog and the scheduler -----------------------------------------------------------------

    def requeue_stale(self) -> list[int]:
        """Requeue the running jobs whose worker fell silent (it died: kill -9, a crash, a lost host); one
        that has used its attempts is dead instead."""
        now = utcnow()
        silent_since = now - timedelta(seconds=self.stale_seconds)
        with self.db.transaction(readonly=True) as reader:
            if not JobRepository(reader).any_stale(silent_since):
                return []
        with self.db.short_write() as session:
            stale = JobRepository(session).stale(silent_since)
            for job in stale:
                reason = (
                    f"执行该任务的进程 {job.locked_by} 超过 {int(self.stale_seconds)} 秒没有心跳（已停止）"
                )
                job.error_code, job.last_error, job.locked_by, job.updated_at = (
                    "worker_lost",
                    reason,
                    None,
                    now,
                )
                if job.attempts >= job.max_attempts:
                    self._dead(session, job, f"已尝试 {job.attempts} 次：{reason}", now)
                else:
                    job.state, job.run_after = "queued", now
            ids = [job.id for job in stale]
        if ids:
            log.warning("jobs_requeued", jobs=ids)
        return ids

    def schedule_periodic(self) -> None:
        now = utcnow()
        due = [p for p in self.periodic if self._periods.get(p.kind) != p.period(now)]
        if not due:
            return
        with self.db.short_write() as session:
            queued = schedule.enqueue_due(session, due, now, self.name)
        for periodic in due:
            self._periods[periodic.kind] = periodic.period(now)
        if queued:
            log.info("periodic_jobs_queued", periods=queued)


class _Heartbeat(threading.Thread):
    """Refreshes the running job's heartbeat while it runs, so the watchdog of any worker can tell a long
    job from a dead one."""

    def __init__(self, worker: Worker, job_id: int) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.worker, self.job_id = worker, job_id
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.worker.heartbeat_seconds):
            try:
                self.worker.beat(self.job_id)
            except Exception:  # a busy database: the next beat will do; the timeout is many beats long
                log.warning("job_heartbeat_failed", job=self.job_id, exc_info=True)

    def halt(self) -> None:
        self._halt.set()
        self.join(timeout=self.worker.heartbeat_seconds + 15)


class _SingleWriter:
    """On SQLite, one worker process per node claims: an flock on `<work dir>/.worker.lock`, released by
    the OS when the process dies, so a standby worker takes over."""

    def __init__(self, work_dir: Path) -> None:
        self.path = work_dir / WORKER_LOCK
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        private_directory(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def drain(db: Database) -> int:
    """Run every job that is due now, in this process (tests, and `govshare worker --once` in effect)."""
    return Worker(db, scheduler=False).drain()
