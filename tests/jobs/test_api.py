"""Jobs seen from the edges: a batch pushed through the API runs as a job (records staged, then removed);
the job API and the portal page belong to the platform admin; cancel, retry; /metrics shows the queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.auth.permissions import Permission
from govshare.collection import service as collection
from govshare.collection.schemas import SourceCreate
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.jobs import service as jobs
from govshare.models import Batch, Job
from tests import factories
from tests.collection.helpers import OPERATOR, current, person_id, setup
from tests.web.portal_helpers import HTML, page, portal_login, post

PUSH_MAPPING = """
source: {kind: push}
mode: incremental
columns:
  gmsfhm: 身份证号
  xm: 姓名
"""
ZHANG = person_id("19900307", 123)


@pytest.fixture
def source(db: Database) -> int:
    setup(db)
    with db.transaction() as session:
        created = collection.register_source(
            session, OPERATOR, SourceCreate(resource="测试人口信息", name="推送", mapping=PUSH_MAPPING)
        )
    return created.id


def _staged(db: Database) -> list[Path]:
    directory = db.config.work_dir / "staged"
    return sorted(directory.glob("*")) if directory.exists() else []


def _later(session: Session, job: Job) -> None:
    """Not due for an hour: the test app runs every due job after each request (tests/jobs/drain.py)."""
    job.run_after = utcnow() + timedelta(hours=1)


def _jobs(db: Database) -> list[Job]:
    with db.transaction(readonly=True) as session:
        return list(session.query(Job).order_by(Job.id).all())


def test_a_pushed_batch_runs_as_a_job_as_its_starter_and_its_staged_records_go(
    db: Database, client: TestClient, source: int
) -> None:
    key = factories.application_key(db, "ga-rk", "GA", scopes=[Permission.COLLECTION_PUSH])
    response = client.post(
        f"/api/v1/collection/sources/{source}/records",
        json={"records": [{"身份证号": ZHANG, "姓名": "张三"}]},
        headers=factories.bearer(key),
    )
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]
    (job,) = _jobs(db)
    assert (job.kind, job.state, job.attempts, job.dedupe_key) == (
        "collection.batch",
        "succeeded",
        1,
        f"batch:{batch_id}",
    )
    assert job.payload["batch_id"] == batch_id and job.payload["actor"]["kind"] == "application"
    assert "records" not in job.payload  # the records waited in a staged file, never in the job row
    assert job.result == {"batch_id": batch_id, "status": "succeeded"}
    assert _staged(db) == []
    assert current(db)[0]["xm"] == "张三"
    with db.transaction(readonly=True) as session:
        batch = session.get_one(Batch, batch_id)
        assert batch.status == "succeeded" and batch.started_by == job.created_by


def test_records_are_staged_private_until_the_worker_runs_them(db: Database, source: int) -> None:
    with db.transaction() as session:
        started = collection.start_push(session, OPERATOR, source, 1)
        queued = jobs.queue_batch(session, OPERATOR, started, records=[{"身份证号": ZHANG, "姓名": "张三"}])
        staged = Path(queued.payload["records_file"])
    assert staged.exists() and staged.stat().st_mode & 0o777 == 0o600
    assert staged.parent.stat().st_mode & 0o777 == 0o700
    assert "张三" in staged.read_text(encoding="utf-8")


def test_only_the_platform_admin_sees_and_steers_jobs(db: Database, client: TestClient, source: int) -> None:
    with db.transaction() as session:
        started = collection.start_push(session, OPERATOR, source, 1)
        queued = jobs.queue_batch(session, OPERATOR, started, records=[{"身份证号": ZHANG, "姓名": "张三"}])
        job_id, staged = queued.id, Path(queued.payload["records_file"])
        _later(session, queued)
    for username in ("ga.steward", "ga.admin"):
        headers = factories.login(client, username)
        assert client.get("/api/v1/jobs").status_code == 403
        assert client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers).status_code == 403
        assert client.get("/admin/jobs", headers=HTML).status_code == 403
    assert [j.state for j in _jobs(db)] == ["queued"]  # a refused request left the job where it was

    headers = factories.login(client, "admin")
    listed = client.get("/api/v1/jobs").json()
    assert [(j["id"], j["state"], j["target"]) for j in listed] == [
        (job_id, "queued", f"批次 {started.prepared.batch_id}")
    ]
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    assert not staged.exists()  # what the job held is released
    with db.transaction(readonly=True) as session:
        batch = session.get_one(Batch, started.prepared.batch_id)
        assert batch.status == "failed" and "任务已取消" in (batch.error or "")
    again = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    retried = client.post(f"/api/v1/jobs/{job_id}/retry", headers=headers)
    assert retried.status_code == 200
    done = client.get(f"/api/v1/jobs/{job_id}").json()  # the retry ran: its batch had ended, so nothing ran
    assert (done["state"], done["result"]) == (
        "succeeded",
        {"batch_id": started.prepared.batch_id, "status": "not_running"},
    )


def test_the_portal_lists_jobs_and_retries_a_dead_one(db: Database, client: TestClient, source: int) -> None:
    with db.transaction() as session:
        started = collection.start_push(session, OPERATOR, source, 1)
        queued = jobs.queue_batch(session, OPERATOR, started, records=[])
        job_id = queued.id
        session.get_one(Job, job_id).state = "dead"
    portal_login(client, "admin", "/admin/jobs")
    assert 'href="/admin/jobs"' in page(client, "/admin")  # 系统管理 links to it
    listing = page(client, "/admin/jobs")
    assert "归集批次" in listing and f"/admin/jobs/{job_id}" in listing and "已放弃" in listing
    detail = page(client, f"/admin/jobs/{job_id}")
    assert "重试" in detail
    done = post(client, f"/admin/jobs/{job_id}/retry", detail)
    assert (done.status_code, done.headers["location"]) == (303, f"/admin/jobs/{job_id}?done=retried")
    assert [j.state for j in _jobs(db)] == ["succeeded"]  # the worker ran it again
    portal_login(client, "ga.steward")
    assert client.get("/admin/jobs", headers=HTML).status_code == 403


def test_metrics_show_the_queue(db: Database, client: TestClient, source: int) -> None:
    with db.transaction() as session:
        started = collection.start_push(session, OPERATOR, source, 1)
        _later(session, jobs.queue_batch(session, OPERATOR, started, records=[]))
    text = client.get("/metrics").text
    assert 'govshare_jobs{state="queued"} 1.0' in text
    assert 'govshare_jobs{state="dead"} 0.0' in text
    assert "govshare_jobs_oldest_due_seconds" in text
