"""The job queue on both databases: enqueue, claim, complete; retries with backoff, then dead with the
reason; the watchdog requeues a dead worker's job; periodic jobs once per period; the session purge."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from govshare.auth.permissions import Role
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.jobs import handlers, worker
from govshare.jobs.worker import Worker, retry_delay
from govshare.models import Job, User, WebSession
from tests import factories
from tests.jobs.helpers import ECHO, FLAKY, REFUSED, enqueue, job, kinds_registered, make_due


def test_a_job_is_queued_claimed_run_and_completed(db: Database) -> None:
    with kinds_registered(ECHO):
        job_id = enqueue(db, ECHO.name, {"n": 7})
        queued = job(db, job_id)
        assert (queued.state, queued.attempts, queued.max_attempts) == ("queued", 0, 5)
        runner = Worker(db, scheduler=False)
        assert runner.run_next() is True
        done = job(db, job_id)
        assert (done.state, done.attempts, done.locked_by) == ("succeeded", 1, None)
        assert done.result == {"echo": 7, "actor": f"job:{ECHO.name}"}  # run as the node, not as a person
        assert done.finished_at is not None
        assert runner.run_next() is False  # nothing else is due


def test_a_failing_job_is_retried_with_growing_delays_then_dead_with_the_reason(db: Database) -> None:
    with kinds_registered(FLAKY):
        job_id = enqueue(db, FLAKY.name)
        runner = Worker(db, scheduler=False)
        delays = []
        for attempt in (1, 2):
            before = utcnow()
            assert runner.run_next()
            waiting = job(db, job_id)
            assert (waiting.state, waiting.attempts, waiting.error_code) == (
                "failed",
                attempt,
                "internal_error",
            )
            assert waiting.last_error == "内部错误（Boom），详见 worker 日志"  # never the exception's text
            delays.append((waiting.run_after - before).total_seconds())
            assert runner.run_next() is False  # not due before its backoff has passed
            make_due(db, job_id)
        assert 7 <= delays[0] <= 13 and 14 <= delays[1] <= 26  # 10 s, then 20 s, ±25 %
        assert runner.run_next()
        dead = job(db, job_id)
        assert (dead.state, dead.attempts) == ("dead", 3)
        assert dead.last_error == "已尝试 3 次：内部错误（Boom），详见 worker 日志"
        assert "s3cret" not in (dead.last_error or "") and dead.finished_at is not None
        assert runner.run_next() is False  # a dead job is never claimed again


def test_an_error_another_attempt_would_repeat_makes_the_job_dead_at_once(db: Database) -> None:
    with kinds_registered(REFUSED):
        job_id = enqueue(db, REFUSED.name)
        assert Worker(db, scheduler=False).run_next()
        dead = job(db, job_id)
        assert (dead.state, dead.attempts, dead.error_code) == ("dead", 1, "invalid_input")
        assert dead.last_error is not None and dead.last_error.startswith("不可重试的错误：")


def test_the_backoff_doubles_up_to_an_hour_with_jitter() -> None:
    for attempt, base in ((1, 30), (2, 60), (3, 120), (20, 3600)):
        samples = [retry_delay(30, attempt) for _ in range(50)]
        assert all(base * 0.75 <= s <= base * 1.25 for s in samples)
        assert len(set(samples)) > 1  # jittered


def test_a_silent_workers_job_is_requeued_and_completes_once(db: Database) -> None:
    with kinds_registered(ECHO):
        job_id = enqueue(db, ECHO.name, {"n": 1})
        lost = Worker(db, scheduler=False, name="lost-host:1")
        claimed = lost.claim()  # it claims and then dies: no heartbeat, no completion
        assert claimed is not None and job(db, job_id).locked_by == "lost-host:1"
        watchdog = Worker(db, scheduler=False, stale_seconds=0.5)
        assert watchdog.requeue_stale() == []  # still within the timeout
        time.sleep(1.0)
        assert watchdog.requeue_stale() == [job_id]
        requeued = job(db, job_id)
        assert (requeued.state, requeued.error_code, requeued.locked_by) == ("queued", "worker_lost", None)
        assert "lost-host:1" in (requeued.last_error or "")
        assert watchdog.run_next()
        lost._succeeded(job_id, {"late": True})  # the lost worker's late word is not taken
        done = job(db, job_id)
        assert (done.state, done.attempts, done.result) == (
            "succeeded",
            2,
            {"echo": 1, "actor": "job:test.echo"},
        )


def test_the_heartbeat_keeps_a_long_job_from_being_taken_for_dead(db: Database) -> None:
    with kinds_registered(ECHO):
        job_id = enqueue(db, ECHO.name)
        runner = Worker(db, scheduler=False, heartbeat_seconds=0.1, stale_seconds=0.6)
        assert runner.claim() is not None
        for _ in range(8):
            runner.beat(job_id)
            time.sleep(0.1)
            assert Worker(db, scheduler=False, stale_seconds=0.6).requeue_stale() == []
        assert job(db, job_id).state == "running"


def test_a_job_out_of_attempts_whose_worker_died_is_dead_with_the_reason(db: Database) -> None:
    with kinds_registered(ECHO):
        job_id = enqueue(db, ECHO.name)
        for _ in range(5):
            Worker(db, scheduler=False).claim()
            Worker(db, scheduler=False, stale_seconds=0.0).requeue_stale()
        dead = job(db, job_id)
        assert (dead.state, dead.attempts) == ("dead", 5)
        assert dead.last_error is not None and "没有心跳" in dead.last_error


def test_periodic_jobs_are_queued_once_per_period_whoever_notices(db: Database) -> None:
    first, second = Worker(db, checkpoint_minutes=10), Worker(db, checkpoint_minutes=10)
    first.schedule_periodic()
    second.schedule_periodic()
    first.schedule_periodic()
    with db.transaction(readonly=True) as session:
        kinds = sorted(j.kind for j in session.query(Job).all())
    assert kinds == sorted(
        [
            handlers.RUN_DUE.name,
            handlers.WATCHDOG.name,
            handlers.PURGE_SESSIONS.name,
            handlers.VERIFY.name,
            handlers.PRUNE.name,
            handlers.CHECKPOINT.name,
        ]
    )
    assert handlers.CHECKPOINT.name not in {p.kind for p in Worker(db, checkpoint_minutes=0).periodic}


def test_the_periodic_jobs_run_on_an_empty_node(db: Database) -> None:
    Worker(db, checkpoint_minutes=10).schedule_periodic()
    assert worker.drain(db) == 6
    with db.transaction(readonly=True) as session:
        states = {j.kind: (j.state, j.last_error) for j in session.query(Job).all()}
    assert all(state == "succeeded" for state, _ in states.values()), states


def test_the_session_purge_deletes_expired_sessions_only(db: Database) -> None:
    factories.department(db, "GA")
    factories.user(db, "user1", "GA", Role.DATA_USER)
    now = utcnow()
    with db.transaction() as session:
        user = session.query(User).filter(User.username == "user1").one()
        for token, expires in (("a" * 64, now - timedelta(minutes=1)), ("b" * 64, now + timedelta(hours=1))):
            session.add(WebSession(token_digest=token, user_id=user.id, expires_at=expires))
    enqueue(db, handlers.PURGE_SESSIONS.name)
    assert worker.drain(db) == 1
    with db.transaction(readonly=True) as session:
        remaining = [s.token_digest for s in session.query(WebSession).all()]
        purge = session.query(Job).filter(Job.kind == handlers.PURGE_SESSIONS.name).one()
    assert remaining == ["b" * 64]
    assert (purge.state, purge.result) == ("succeeded", {"deleted": 1})


@pytest.mark.sqlite_only
def test_on_sqlite_one_worker_process_claims_and_a_second_waits(db: Database) -> None:
    first = worker._SingleWriter(db.config.work_dir)
    second = worker._SingleWriter(db.config.work_dir)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert Worker(db, scheduler=False).run(once=True) == 0  # on standby, it claims nothing
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()
