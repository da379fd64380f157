"""The interruption guarantee (docs/collection.md, 中断与重跑): a `govshare ingest` killed with SIGKILL while
reading or inside its final transaction leaves no partial data, is marked failed (批次已中断), and the rerun
gives exactly the counts of a clean run; on SQLite and on PostgreSQL nodes. Also: one running batch per
resource, and how dead batches are recognised.

The ingest runs as a real subprocess (`python -m govshare ingest … --json`) on a generated CSV of 300,030
rows, read in chunks of 20,000 so the batch shows its progress; the test watches `collection_batch`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psutil
import psycopg
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from govshare.collection import jobs, service
from govshare.collection.mapping import load_mapping
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.errors import Conflict
from govshare.models import Batch, QuarantineRow
from govshare.models.audit import AuditEntry
from govshare.models.collection import RecordTable
from govshare.settings import Settings
from tests.collection.helpers import HEADER, MAPPING, OPERATOR, current, ingest, person_id, setup

RESOURCE = "测试人口信息"
ROWS = 300_000  # valid people in the big file
BAD_EVERY = 10_000  # after every 10,000th person a row with a wrong check digit
BAD = ROWS // BAD_EVERY
BIRTH0 = date(1960, 1, 1)
UPDATED = "2026-01-01 08:00:00"
CHUNK_ROWS = "20000"
WAIT_SECONDS = 60

# The previous version (1,000 records): people 0–499 as in the big file, 500–899 at an old address,
# and 100 people (another district) the big file no longer has.
SAME, MOVED, GONE = range(0, 500), range(500, 900), range(100)
EXPECTED = {
    "read": ROWS + BAD,
    "inserted": ROWS - len(SAME) - len(MOVED),
    "updated": len(MOVED),
    "unchanged": len(SAME),
    "superseded": 0,
    "deleted": 0,
    "empty": 0,
    "rejected": BAD,
    "warnings": 0,
    "removed": len(GONE),
}
T = TypeVar("T")


def person(i: int, area: str = "110105") -> tuple[str, str, str]:
    """Person i: a unique valid ID number, the 公安 sex code (0 男, 1 女) and birth date agreeing with it."""
    birth = BIRTH0 + timedelta(days=i // 999)
    sequence = i % 999 + 1
    return (
        person_id(birth.strftime("%Y%m%d"), sequence, area),
        "0" if sequence % 2 else "1",
        birth.isoformat(),
    )


def line(i: int, address: str, *, updated: str = UPDATED, area: str = "110105") -> str:
    number, sex, birth = person(i, area)
    return f"{number},姓名{i},{sex},{birth},{address},{updated}"


def new_address(i: int) -> str:
    return f"北京市朝阳区测试路{i}号"


def write(path: Path, lines: Iterator[str] | list[str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(HEADER) + "\n")
        for row in lines:
            handle.write(row + "\n")
    return path


def big_lines() -> Iterator[str]:
    for i in range(ROWS):
        yield line(i, new_address(i))
        if (i + 1) % BAD_EVERY == 0:
            number, sex, birth = person(i, "110106")
            wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
            yield f"{wrong},坏号码{i},{sex},{birth},无,{UPDATED}"


def previous_lines() -> list[str]:
    return (
        [line(i, new_address(i)) for i in SAME]
        + [line(i, f"旧址{i}号", updated="2025-12-01 08:00:00") for i in MOVED]
        + [line(i, f"北京市海淀区旧址{i}号", area="110108") for i in GONE]
    )


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("kill") / "people.csv", big_lines())


@pytest.fixture
def loaded(db: Database, tmp_path: Path) -> Database:
    """The node with the previous version of the resource loaded (1,000 records)."""
    setup(db)
    batch = ingest(db, write(tmp_path / "previous.csv", previous_lines()))
    assert (batch.status, batch.inserted, batch.read) == ("succeeded", 1000, 1000), batch
    return db


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "ga-rk.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


# --- the subprocess --------------------------------------------------------------------------------------


def cli_environment(settings: Settings) -> dict[str, str]:
    """The environment of a `govshare` subprocess on this test's node (as the `cli_env` fixture sets it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSHARE_")}
    env.update(
        GOVSHARE_DATABASE_URL=settings.resolved_database_url,
        GOVSHARE_ENV="test",
        GOVSHARE_SECRET_KEY=settings.secret_key.get_secret_value(),
        GOVSHARE_AUDIT_KEY=settings.audit_key.get_secret_value(),
        GOVSHARE_DATA_DIR=str(settings.data_dir),
        GOVSHARE_COLLECTION_CHUNK_ROWS=CHUNK_ROWS,
    )
    return env


def govshare(settings: Settings, cwd: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        env=cli_environment(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


class Ingest:
    """`govshare ingest RESOURCE FILE --mapping M --json` running in the background."""

    def __init__(self, settings: Settings, csv: Path, mapping: Path, cwd: Path) -> None:
        self.stdout, self.stderr = cwd / "ingest.out", cwd / "ingest.err"
        command = [sys.executable, "-m", "govshare", "ingest", RESOURCE, str(csv), "--mapping", str(mapping)]
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [*command, "--json"],
                env=cli_environment(settings),
                cwd=cwd,
                stdout=out,
                stderr=err,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return f"exit {self.process.returncode}; stderr: {self.stderr.read_text(errors='replace')[-2000:]}"

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT_SECONDS)  # reaped: the pid no longer exists
        assert self.process.returncode == -signal.SIGKILL, f"the ingest was not killed: {self.output()}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for(probe: Callable[[], T | None], what: str, running: Ingest | None = None) -> T:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = probe()
        if found is not None:
            return found
        if running is not None and running.process.poll() is not None:
            pytest.fail(f"the ingest ended before {what}: {running.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS} s waiting for {what}")
        time.sleep(0.02)


def batch_of(db: Database, pid: int) -> Batch | None:
    with db.transaction(readonly=True) as session:
        return session.scalars(select(Batch).where(Batch.pid == pid).order_by(Batch.id.desc())).first()


def in_phase(db: Database, running: Ingest, phase: str) -> Callable[[], Batch | None]:
    def probe() -> Batch | None:
        batch = batch_of(db, running.pid)
        if batch is not None and batch.status == "running" and batch.phase == phase and batch.read > 0:
            return batch
        return None

    return probe


# --- what is stored --------------------------------------------------------------------------------------


def record_table(db: Database) -> str:
    with db.transaction(readonly=True) as session:
        (name,) = session.scalars(select(RecordTable.table_name)).all()
    return name


def stored_rows(db: Database, batch_id: int | None = None) -> int:
    """Rows of the record table (every version), or those a batch wrote."""
    where = f" WHERE _batch_id = {int(batch_id)}" if batch_id is not None else ""
    with db.transaction(readonly=True) as session:
        return int(session.scalar(text(f"SELECT count(*) FROM {record_table(db)}{where}")) or 0)


def current_count(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        sql = f"SELECT count(*) FROM {record_table(db)} WHERE _valid_to IS NULL"
        return int(session.scalar(text(sql)) or 0)


def quarantine_rows(db: Database, batch_id: int) -> int:
    with db.transaction(readonly=True) as session:
        query = select(func.count()).select_from(QuarantineRow).where(QuarantineRow.batch_id == batch_id)
        return int(session.scalar(query) or 0)


def counts(batch: Any) -> dict[str, Any]:
    source = batch if isinstance(batch, dict) else batch.model_dump()
    return {name: source[name] for name in EXPECTED}


def assert_previous_version_intact(db: Database, before: list[dict[str, Any]], killed: int) -> None:
    assert current(db) == before, "records changed after the killed batch"
    assert stored_rows(db) == 1000, "the killed batch left rows (versions) in the record table"
    assert stored_rows(db, killed) == 0
    assert quarantine_rows(db, killed) == 0, "the killed batch left quarantine rows"
    moved = current(db, gmsfhm=person(600)[0])
    assert [r["jzdz"] for r in moved] == ["旧址600号"]
    with db.transaction(readonly=True) as session:
        batch = session.get_one(Batch, killed)
    assert (batch.status, batch.inserted, batch.updated, batch.removed) == ("running", 0, 0, 0)
    assert batch.finished_at is None and batch.checksum is None


def assert_previous_version_intact_after_failure(
    db: Database, before: list[dict[str, Any]], killed: int
) -> None:
    assert current(db) == before
    assert stored_rows(db) == 1000 and stored_rows(db, killed) == 0 and quarantine_rows(db, killed) == 0


def assert_rerun_is_exact(db: Database, rerun: dict[str, Any], killed: int, before_rerun: datetime) -> None:
    assert rerun["status"] == "succeeded", rerun
    assert counts(rerun) == EXPECTED
    assert rerun["read"] == sum(rerun[n] for n in EXPECTED if n not in ("read", "warnings", "removed"))
    assert current_count(db) == ROWS
    assert stored_rows(db) == 1000 + EXPECTED["inserted"] + EXPECTED["updated"]
    assert stored_rows(db, rerun["id"]) == EXPECTED["inserted"] + EXPECTED["updated"]
    assert quarantine_rows(db, rerun["id"]) == BAD
    assert quarantine_rows(db, killed) == 0
    number = person(600)[0]
    assert [r["jzdz"] for r in current(db, gmsfhm=number)] == [new_address(600)]
    with db.transaction() as session:
        old = service.records(session, OPERATOR, RESOURCE, where={"gmsfhm": number}, as_of=before_rerun)
    assert [r["jzdz"] for r in old] == ["旧址600号"]
    assert current(db, gmsfhm=person(0, "110108")[0]) == []  # gone from the source: removed
    with db.transaction(readonly=True) as session:
        dead = session.get_one(Batch, killed)
    assert dead.status == "failed" and dead.error is not None and "中断" in dead.error, dead.error
    assert (dead.inserted, dead.updated, dead.unchanged, dead.removed) == (0, 0, 0, 0)


# --- the guarantee ---------------------------------------------------------------------------------------


def test_killed_while_reading(
    loaded: Database, settings: Settings, big_csv: Path, mapping_file: Path, tmp_path: Path
) -> None:
    db = loaded
    before = current(db)
    running = Ingest(settings, big_csv, mapping_file, tmp_path)
    try:
        seen = wait_for(in_phase(db, running, "reading"), "the batch reading (read > 0)", running)
        running.kill()
    finally:
        running.stop()
    killed = seen.id
    assert seen.read < EXPECTED["read"] and seen.bytes_done > 0  # progress was being reported
    assert_previous_version_intact(db, before, killed)

    # `govshare batches` notices the dead process and fails the batch.
    code, out, err = govshare(settings, tmp_path, "batches", "--json")
    assert code == 0, err
    listed = {b["id"]: b for b in json.loads(out)}
    assert listed[killed]["status"] == "failed"
    assert f"进程 {running.pid} 已结束" in listed[killed]["error"] and "中断" in listed[killed]["error"]
    with db.transaction(readonly=True) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "batch", AuditEntry.target_id == str(killed)
            )
        ).all()
    assert "collection.batch_dead" in actions and "collection.batch" not in actions
    assert_previous_version_intact_after_failure(db, before, killed)

    before_rerun = utcnow().replace(tzinfo=None)
    code, out, err = govshare(
        settings, tmp_path, "ingest", RESOURCE, str(big_csv), "--mapping", str(mapping_file), "--json"
    )
    assert code == 0, err
    rerun = json.loads(out)
    assert rerun["batch_id"] == rerun["id"] > killed
    assert_rerun_is_exact(db, rerun, killed, before_rerun)


def kill_while_merging(
    db: Database, settings: Settings, csv: Path, mapping: Path, cwd: Path, hold: str | None
) -> tuple[Batch, int]:
    """Run the ingest and kill it inside its final transaction; the batch seen merging and the pid.

    With `hold` (PostgreSQL), a table the transaction writes is locked first, so the transaction blocks
    there until the process is dead; then the lock is let go and the server rolls the orphaned
    transaction back when it finds its client gone. Without (SQLite), the kill comes 0.2 s into the merge."""
    lock = None
    if hold is not None:
        conninfo = make_url(settings.resolved_database_url).set(drivername="postgresql")
        lock = psycopg.connect(conninfo.render_as_string(hide_password=False))
        lock.execute(f"LOCK TABLE {hold} IN ACCESS EXCLUSIVE MODE")
    running = Ingest(settings, csv, mapping, cwd)
    try:
        seen = wait_for(in_phase(db, running, "merging"), "the batch merging", running)
        if lock is None:
            time.sleep(0.2)
            running.kill()
            return seen, running.pid
        with psycopg.connect(lock.info.dsn, autocommit=True) as probe:

            def backend(sql: str, *params: object) -> Callable[[], int | None]:
                def probe_once() -> int | None:
                    row = probe.execute(sql, params).fetchone()
                    return int(row[0]) if row else None

                return probe_once

            blocked = "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
            server = wait_for(
                backend(blocked, lock.info.backend_pid), f"the merge to wait for {hold}", running
            )
            time.sleep(0.5)
            running.kill()
            lock.rollback()
            gone = "SELECT 1 WHERE NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)"
            wait_for(backend(gone, server), "the server to end the dead client's session")
        return seen, running.pid
    finally:
        running.stop()
        if lock is not None:
            lock.close()


def check_kill_while_merging(
    db: Database, settings: Settings, csv: Path, mapping: Path, cwd: Path, hold: str | None
) -> None:
    before = current(db)
    seen, pid = kill_while_merging(db, settings, csv, mapping, cwd, hold)
    killed = seen.id
    assert seen.read == EXPECTED["read"]  # the whole file was read: it died merging
    with db.transaction(readonly=True) as session:
        status = session.get_one(Batch, killed).status
    assert status == "running", (
        f"the batch {status} before it was killed: the merge took under 0.2 s, make the file bigger"
    )
    assert_previous_version_intact(db, before, killed)

    # The next batch for the resource fails the dead one itself, then runs.
    before_rerun = utcnow().replace(tzinfo=None)
    rerun = ingest(db, csv)
    assert_rerun_is_exact(db, rerun.model_dump(), killed, before_rerun)
    with db.transaction(readonly=True) as session:
        dead = session.get_one(Batch, killed)
    assert dead.error is not None and f"进程 {pid} 已结束" in dead.error


def test_killed_inside_the_final_transaction(
    loaded: Database, settings: Settings, big_csv: Path, mapping_file: Path, tmp_path: Path
) -> None:
    """PostgreSQL: blocked on the record table (rs_<id>) inside the transaction; SQLite: 0.2 s in."""
    hold = None if loaded.is_sqlite else record_table(loaded)
    check_kill_while_merging(loaded, settings, big_csv, mapping_file, tmp_path, hold)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_after_the_records_were_merged_before_the_commit(
    loaded: Database, settings: Settings, big_csv: Path, mapping_file: Path, tmp_path: Path
) -> None:
    """Later in the same transaction: the records are merged, the quarantine is being written."""
    check_kill_while_merging(loaded, settings, big_csv, mapping_file, tmp_path, "collection_quarantine")


# --- one batch at a time; dead batches -------------------------------------------------------------------


def start(db: Database) -> service.Started:
    with db.transaction() as session:
        return service.start_ingest(session, OPERATOR, RESOURCE, load_mapping(MAPPING), source_path="x.csv")


def detect(db: Database) -> list[int]:
    with db.transaction() as session:
        return service.detect_dead_batches(session, OPERATOR)


def set_batch(db: Database, batch_id: int, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(update(Batch).where(Batch.id == batch_id).values(**values))


def get(db: Database, batch_id: int) -> Batch:
    with db.transaction(readonly=True) as session:
        return session.get_one(Batch, batch_id)


def test_one_batch_per_resource_while_its_process_lives(db: Database, tmp_path: Path) -> None:
    setup(db)
    first = start(db)
    assert get(db, first.prepared.batch_id).pid == os.getpid()
    with pytest.raises(Conflict, match=f"批次 {first.prepared.batch_id}"):
        start(db)
    assert detect(db) == []  # alive and beating
    assert get(db, first.prepared.batch_id).status == "running"

    # Once it has finished, the next one may start.
    path = tmp_path / "people.csv"
    write(path, [line(i, new_address(i)) for i in range(10)])
    done = jobs.run_started(db, OPERATOR, first, path=str(path))
    assert (done.status, done.inserted) == ("succeeded", 10)
    second = start(db)
    assert get(db, second.prepared.batch_id).status == "running"


def gone_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not psutil.pid_exists(process.pid)
    return process.pid


def test_a_batch_whose_process_is_gone_is_failed_and_cannot_commit(db: Database, tmp_path: Path) -> None:
    setup(db)
    started = start(db)
    batch_id = started.prepared.batch_id
    pid = gone_pid()
    set_batch(db, batch_id, pid=pid)
    assert detect(db) == [batch_id]
    failed = get(db, batch_id)
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.error == f"批次已中断：进程 {pid} 已结束（被终止或崩溃）；未提交任何数据，可重新运行"
    assert detect(db) == []

    # Had that batch still been running somewhere, its results are not committed.
    path = write(tmp_path / "people.csv", [line(i, new_address(i)) for i in range(10)])
    finished = jobs.run_started(db, OPERATOR, started, path=str(path))
    assert finished.status == "failed" and finished.inserted == 0
    assert failed.error is not None and get(db, batch_id).error == failed.error
    assert current(db) == []
    assert quarantine_rows(db, batch_id) == 0

    # The resource is free again.
    again = ingest(db, path)
    assert (again.status, again.inserted) == ("succeeded", 10)


def test_dead_batch_rules_for_reused_pids_and_other_hosts(db: Database) -> None:
    setup(db)
    now = utcnow()

    # A pid now used by a process that started after the batch did.
    other = subprocess.Popen(["sleep", "60"])
    try:
        reused = start(db).prepared.batch_id
        set_batch(db, reused, pid=other.pid, started_at=now - timedelta(hours=1))
        assert detect(db) == [reused]
        assert "已被其他进程使用" in (get(db, reused).error or "")
    finally:
        other.kill()
        other.wait()

    # Another host: its pid means nothing here; only a missing heartbeat counts.
    remote = start(db).prepared.batch_id
    set_batch(db, remote, host="another-host.example", pid=1, heartbeat_at=now - timedelta(minutes=9))
    assert detect(db) == []
    assert get(db, remote).status == "running"
    set_batch(db, remote, heartbeat_at=now - timedelta(minutes=11))
    assert detect(db) == [remote]
    assert "超过 10 分钟没有心跳" in (get(db, remote).error or "")
