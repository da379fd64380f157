"""`govshare worker` as a process: it runs a queued batch end to end; killed with SIGKILL mid-job, its job
is requeued once the heartbeat timeout has passed and completes once; on PostgreSQL two workers never run
one job twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from govshare.collection import service as collection
from govshare.collection.schemas import SourceCreate
from govshare.core.db import Database
from govshare.jobs import service as jobs
from govshare.jobs.registry import JobContext, JobKind
from govshare.jobs.worker import Worker
from govshare.models import Batch, Job
from tests.collection.helpers import OPERATOR, current, person_id, setup
from tests.jobs.helpers import SLOW, enqueue, job, kinds_registered

ROOT = Path(__file__).resolve().parents[2]
PUSH_MAPPING = """
source: {kind: push}
mode: incremental
columns:
  gmsfhm: 身份证号
  xm: 姓名
"""
WORKER_WITH_SLOW_KIND = """
from govshare.core.db import Database
from govshare.jobs.worker import Worker
from govshare.settings import get_settings
from tests.jobs.helpers import SLOW, kinds_registered

with kinds_registered(SLOW):
    db = Database.from_settings(get_settings())
    Worker(db, scheduler=False, heartbeat_seconds=0.2, poll_seconds=0.1).run()
"""


@pytest.mark.usefixtures("cli_env")
def test_a_worker_process_runs_a_queued_batch_end_to_end(db: Database) -> None:
    setup(db)
    with db.transaction() as session:
        source = collection.register_source(
            session, OPERATOR, SourceCreate(resource="测试人口信息", name="推送", mapping=PUSH_MAPPING)
        )
        started = collection.start_push(session, OPERATOR, source.id, 2)
        records = [
            {"身份证号": person_id("19900307", 123), "姓名": "张三"},
            {"身份证号": "坏号", "姓名": "李四"},
        ]
        queued = jobs.queue_batch(session, OPERATOR, started, records=records)
        staged = Path(queued.payload["records_file"])
    finished = subprocess.run(
        [sys.executable, "-m", "govshare", "worker", "--once", "--no-scheduler"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert "共运行 1 个任务" in finished.stderr
    done = job(db, queued.id)
    assert (done.state, done.attempts, done.locked_by) == ("succeeded", 1, None)
    with db.transaction(readonly=True) as session:
        batch = session.get_one(Batch, started.prepared.batch_id)
        assert (batch.status, batch.read, batch.inserted, batch.rejected) == ("succeeded", 2, 1, 1)
        assert batch.pid != os.getpid()  # the worker's process ran it and took it over
    assert [row["xm"] for row in current(db)] == ["张三"]
    assert not staged.exists()


@pytest.mark.usefixtures("cli_env")
def test_a_job_of_a_killed_worker_is_requeued_after_the_timeout_and_completes_once(
    db: Database, tmp_path: Path
) -> None:
    marker = tmp_path / "marker.txt"
    with kinds_registered(SLOW):
        job_id = enqueue(db, SLOW.name, {"marker": str(marker), "seconds": 120})
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_WITH_SLOW_KIND],
            cwd=ROOT,
            env=os.environ.copy(),
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while "start 1" not in (marker.read_text(encoding="utf-8") if marker.exists() else ""):
                assert process.poll() is None, "the worker exited"
                assert time.monotonic() < deadline, "the worker never started the job"
                time.sleep(0.1)
            time.sleep(0.5)  # a few heartbeats
            running = job(db, job_id)
            assert running.state == "running" and running.heartbeat_at is not None
            assert running.heartbeat_at > running.locked_at  # type: ignore[operator]
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        watchdog = Worker(db, scheduler=False, stale_seconds=2.0)
        assert watchdog.requeue_stale() == []  # silent for less than the timeout: still taken for alive
        time.sleep(2.5)
        assert watchdog.requeue_stale() == [job_id]
        assert watchdog.run_next()
        assert watchdog.run_next() is False
    done = job(db, job_id)
    assert (done.state, done.attempts, done.result) == ("succeeded", 2, {"attempt": 2})
    assert marker.read_text(encoding="utf-8").splitlines() == ["start 1", "start 2", "done 2"]


@pytest.mark.postgres_only
def test_two_workers_never_run_one_job_twice(db: Database) -> None:
    runs: list[int] = []
    threads_that_ran: set[str] = set()
    lock = threading.Lock()

    def count(ctx: JobContext) -> dict[str, Any] | None:
        with lock:
            runs.append(ctx.job_id)
            threads_that_ran.add(threading.current_thread().name)
        time.sleep(0.002)
        return None

    kind = JobKind("test.count", "测试：计数", count)
    with kinds_registered(kind):
        with db.transaction() as session:
            ids = [jobs.enqueue(session, OPERATOR, kind.name, {"n": n}).id for n in range(300)]
        workers = [Worker(db, scheduler=False, poll_seconds=0.01) for _ in range(4)]
        threads = [threading.Thread(target=w.run, kwargs={"once": True}) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert sorted(runs) == sorted(ids)  # every job ran, none twice
    with db.transaction(readonly=True) as session:
        rows = session.query(Job).filter(Job.kind == kind.name).all()
        assert {(r.state, r.attempts) for r in rows} == {("succeeded", 1)}
    assert len(threads_that_ran) > 1  # the workers really claimed side by side
