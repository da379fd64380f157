"""Checkpoints at the edges: the periodic writer (the worker), one writer per node, the API and the CLI."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from govshare.audit import jobs
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.permissions import Role
from govshare.cli.main import app as cli_app
from govshare.core.db import Database
from govshare.jobs.worker import Worker
from govshare.settings import Settings
from tests import factories

AUDITOR = Actor.system("test:auditor")


def _entries(db: Database, count: int) -> None:
    with db.transaction() as session:
        for i in range(count):
            audit.record(session, AUDITOR, "test.event", target_type="test", target_id=str(i))


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("checkpoint-*.json"))


def _wait_for(directory: Path, count: int, seconds: float = 15.0) -> list[Path]:
    deadline = time.monotonic() + seconds
    while len(_files(directory)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return _files(directory)


@contextlib.contextmanager
def _worker(db: Database, checkpoint_minutes: int) -> Iterator[None]:
    """`govshare worker`'s loop in a thread, with its scheduler, for as long as the block runs."""
    runner = Worker(db, poll_seconds=0.05, checkpoint_minutes=checkpoint_minutes)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        runner.stop.set()
        thread.join(timeout=30)


def test_the_worker_writes_checkpoints_periodically(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "MINUTE_SECONDS", 0.1)
    _entries(db, 3)
    with _worker(db, checkpoint_minutes=1):
        first = _wait_for(db.config.audit_checkpoint_dir, 1)
        assert len(first) == 1
        _entries(db, 2)
        assert len(_wait_for(db.config.audit_checkpoint_dir, 2)) == 2
    with db.transaction(readonly=True) as session:
        actors = set(
            session.scalars(text("SELECT actor_name FROM audit_entry WHERE action = 'audit.checkpoint'"))
        )
    assert actors == {"job:audit-checkpoint"}
    with db.transaction() as session:
        assert audit.verify(session, AUDITOR).ok


def test_zero_minutes_turns_the_periodic_writer_off(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "MINUTE_SECONDS", 0.01)
    _entries(db, 3)
    assert settings.model_copy(update={"audit_checkpoint_minutes": 0}).audit_checkpoint_minutes == 0
    with _worker(db, checkpoint_minutes=0):
        time.sleep(0.5)
    assert _files(db.config.audit_checkpoint_dir) == []


def test_one_writer_per_node(tmp_path: Path) -> None:
    first, second = jobs.WriterLock(tmp_path / "cp"), jobs.WriterLock(tmp_path / "cp")
    try:
        assert first.acquire() and first.acquire()  # the leader keeps its lock
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


def test_the_job_writes_a_checkpoint(db: Database) -> None:
    _entries(db, 2)
    result = jobs.write_checkpoint_job(db)
    assert (result.written, result.seq) == (True, 2)
    assert len(_files(db.config.audit_checkpoint_dir)) == 1


def test_the_auditor_writes_a_checkpoint_through_the_api(client: TestClient, db: Database) -> None:
    factories.department(db, "GA")
    factories.user(db, "auditor1", "GA", Role.AUDITOR)
    factories.user(db, "admin1", "GA", Role.PLATFORM_ADMIN)
    headers = factories.login(client, "admin1")
    denied = client.post("/api/v1/audit/checkpoint", headers=headers)
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert _files(db.config.audit_checkpoint_dir) == []
    headers = factories.login(client, "auditor1")
    response = client.post("/api/v1/audit/checkpoint", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] is True and body["number"] == 1 and body["alg"] == "HMAC-SM3"
    assert str(db.config.audit_checkpoint_dir) not in response.text
    assert len(_files(db.config.audit_checkpoint_dir)) == 1
    assert client.post("/api/v1/audit/verify", headers=headers).json()["checkpoints"] == 1


@pytest.mark.usefixtures("cli_env")
def test_the_cli_writes_a_checkpoint_and_verify_exits_1_on_truncation(
    db: Database, settings: Settings
) -> None:
    runner = CliRunner()
    _entries(db, 8)
    result = runner.invoke(cli_app, ["audit", "checkpoint", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["written"], data["number"], data["seq"]) == (True, 1, 8)
    assert len(_files(settings.data_dir / "audit-checkpoints")) == 1
    with db.transaction() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER audit_entry_no_delete"))
        else:
            session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        session.execute(text("DELETE FROM audit_entry WHERE seq > 3"))
        h3 = session.scalar(text("SELECT entry_hash FROM audit_entry WHERE seq = 3"))
        session.execute(text("UPDATE audit_head SET seq = 3, entry_hash = :h"), {"h": h3})
    result = runner.invoke(cli_app, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["ok"], report["problem"], report["first_bad_seq"]) == (False, "truncated", 4)


def test_the_portal_verification_names_the_checkpoints(client: TestClient, db: Database) -> None:
    from tests.web.portal_helpers import page, portal_login, post

    factories.department(db, "GA")
    factories.user(db, "auditor1", "GA", Role.AUDITOR)
    jobs.write_checkpoint_job(db)
    portal_login(client, "auditor1")
    verified = post(client, "/audit/verify", page(client, "/audit"))
    assert verified.status_code == 200, verified.text
    assert "校验通过：审计日志哈希链完整" in verified.text
    assert "与 1 个审计检查点一致（最新的记到第 2 条）" in verified.text
    assert "写入审计检查点" in page(client, "/audit?action=audit.checkpoint")


def _break_entry(db: Database, seq: int) -> None:
    with db.transaction() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
        else:
            session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        session.execute(text(f"UPDATE audit_entry SET target_id = 'FORGED' WHERE seq = {seq}"))


def _refusals(db: Database) -> list[tuple[str, str]]:
    with db.transaction(readonly=True) as session:
        rows = session.execute(
            text("SELECT actor_name, outcome FROM audit_entry WHERE action = 'audit.checkpoint' ORDER BY seq")
        ).all()
    return [(str(r[0]), str(r[1])) for r in rows]


def test_a_refused_checkpoint_is_audited_by_the_api_and_the_job(client: TestClient, db: Database) -> None:
    factories.department(db, "GA")
    factories.user(db, "auditor1", "GA", Role.AUDITOR)
    _break_entry(db, 1)
    headers = factories.login(client, "auditor1")
    refused = client.post("/api/v1/audit/checkpoint", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    assert "第 1 条" in refused.json()["detail"]
    lock = jobs.WriterLock(db.config.audit_checkpoint_dir)
    try:
        jobs._tick(db, lock)
        jobs._tick(db, lock)  # the same refusal again is not repeated in the log
    finally:
        lock.release()
    assert _refusals(db) == [("auditor1", "failure"), ("job:audit-checkpoint", "failure")]
    assert _files(db.config.audit_checkpoint_dir) == []


@pytest.mark.usefixtures("cli_env")
def test_the_cli_refuses_a_checkpoint_over_a_broken_chain_and_records_it(db: Database) -> None:
    _entries(db, 3)
    _break_entry(db, 2)
    result = CliRunner().invoke(cli_app, ["audit", "checkpoint"])
    assert result.exit_code == 1
    assert "第 2 条" in result.output and "未写入新检查点" in result.output
    assert [outcome for _, outcome in _refusals(db)] == ["failure"]
    assert _files(db.config.audit_checkpoint_dir) == []


def test_the_job_checks_before_locking_and_the_lock_still_checks_what_came_after(db: Database) -> None:
    from govshare.audit import verification
    from govshare.errors import Conflict

    _entries(db, 5)
    with db.transaction(readonly=True) as reader:
        verified = verification.precheck(reader)
        h5 = reader.scalar(text("SELECT entry_hash FROM audit_entry WHERE seq = 5"))
    assert verified == verification.Verified(0, 5, str(h5))
    _entries(db, 2)  # appended between the check and the lock
    with db.transaction() as session:
        assert audit.write_checkpoint(session, AUDITOR, verified=verified).seq == 7
    _entries(db, 2)
    with db.transaction(readonly=True) as reader:
        verified = verification.precheck(reader)
    assert verified is not None and (verified.number, verified.seq) == (1, 10)
    _entries(db, 1)
    _break_entry(db, 11)  # after the check, before the lock: the locked part must still see it
    with pytest.raises(Conflict, match="第 11 条"), db.transaction() as session:
        audit.write_checkpoint(session, AUDITOR, verified=verified)
    with db.transaction(readonly=True) as reader:
        assert verification.precheck(reader) is None  # a broken chain: the locked check reports it
