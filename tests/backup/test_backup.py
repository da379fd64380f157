"""Backup → verify → restore onto a fresh node, on SQLite and PostgreSQL: the same content digest, the
restored audit chain verifies (against the checkpoints restored with it), files come back, the live node
is not touched by verification, and a fresh node only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from govshare.audit import service as audit_service
from govshare.auth.actor import Actor
from govshare.backup import engines, service
from govshare.backup.archive import read_archive, sm3_file
from govshare.core.db import Database
from govshare.errors import Conflict, GovshareError
from govshare.settings import Settings
from tests.backup.conftest import BACKUP_KEY

OPERATOR = Actor.system("test:backup")
AUDIT_TABLES = {"audit_entry", "audit_head"}


def _audit_actions(settings: Settings) -> list[str]:
    db = Database.from_settings(settings)
    try:
        with db.transaction(readonly=True) as session:
            return list(session.scalars(text("SELECT action FROM audit_entry ORDER BY seq")))
    finally:
        db.dispose()


def _write_checkpoint(settings: Settings) -> bool:
    write = getattr(audit_service, "write_checkpoint", None)
    if write is None:
        return False
    db = Database.from_settings(settings)
    try:
        with db.transaction() as session:
            write(session, OPERATOR)
    finally:
        db.dispose()
    return True


def test_backup_restores_onto_a_fresh_node_with_the_same_content_digest(
    seeded: Settings, fresh: Settings
) -> None:
    has_checkpoints = _write_checkpoint(seeded)
    before = service.digest(seeded, OPERATOR)
    assert before.tables["audit_entry"].rows > 0
    assert any(name.startswith("rs_") and t.rows == 3 for name, t in before.tables.items())

    created = service.create_backup(seeded, OPERATOR)
    assert created.content_digest == before.value
    backup = Path(created.path)
    assert backup.stat().st_mode & 0o777 == 0o600
    assert sm3_file(backup) == created.sm3
    assert created.offsite is not None and sm3_file(Path(created.offsite)) == created.sm3
    assert b"\xe5\xbc\xa0\xe4\xb8\x89" not in backup.read_bytes()  # 张三: nothing readable in the file
    with backup.open("rb") as handle:
        manifest = read_archive(handle, BACKUP_KEY, None)
    names = {p.name for p in manifest.parts}
    assert "files/uploads/样例.csv" in names
    assert not any(
        n.startswith("files/work/") or n.endswith((".db", ".gsbk")) for n in names if n.startswith("files/")
    )
    assert has_checkpoints == any(n.startswith("checkpoints/") for n in names)

    # Verification restores into a scratch database: the live node's content is untouched (its audit log
    # gains the entries recording the backup and its verification, nothing else).
    verified = service.verify_backup(seeded, OPERATOR, backup)
    assert verified.ok, verified.message
    assert verified.content_digest == before.value and verified.chain["ok"] is True
    after = service.digest(seeded, OPERATOR)
    assert {n: t for n, t in after.tables.items() if n not in AUDIT_TABLES} == {
        n: t for n, t in before.tables.items() if n not in AUDIT_TABLES
    }
    assert _audit_actions(seeded)[-2:] == ["backup.create", "backup.verify"]

    restored = service.restore_backup(fresh, OPERATOR, backup, target_url=fresh.resolved_database_url)
    assert restored.content_digest == before.value
    assert restored.chain["ok"] is True, restored.chain
    if has_checkpoints:
        assert restored.checkpoints >= 1 and restored.chain["checkpoints"] >= 1

    # Recomputed independently on the restored node: every table as in the live node at backup time; the
    # audit log carries one more entry, the restore itself, and still verifies.
    again = service.digest(fresh, OPERATOR)
    assert {n: t for n, t in again.tables.items() if n not in AUDIT_TABLES} == {
        n: t for n, t in before.tables.items() if n not in AUDIT_TABLES
    }
    assert again.tables["audit_entry"].rows == before.tables["audit_entry"].rows + 1
    assert _audit_actions(fresh)[-1] == "backup.restore"
    restored_db = Database.from_settings(fresh)
    try:
        with restored_db.transaction() as session:
            assert audit_service.verify(session, OPERATOR).ok
    finally:
        restored_db.dispose()
    assert (fresh.data_dir / "uploads" / "样例.csv").read_text(encoding="utf-8") == "身份证号,姓名\n"


def test_restore_refuses_a_node_that_holds_data_unless_forced(seeded: Settings, fresh: Settings) -> None:
    created = service.create_backup(seeded, OPERATOR)
    backup = Path(created.path)
    live_url = seeded.resolved_database_url
    with pytest.raises(Conflict, match="目标数据库不是空的"):
        service.restore_backup(seeded, OPERATOR, backup, target_url=live_url)
    service.restore_backup(fresh, OPERATOR, backup, target_url=fresh.resolved_database_url)
    # The fresh node now holds data (and the restore's own audit entry): a second restore needs --force,
    # and a forced one brings it back to the backup's content.
    with pytest.raises(Conflict, match="--force"):
        service.restore_backup(fresh, OPERATOR, backup, target_url=fresh.resolved_database_url)
    forced = service.restore_backup(
        fresh, OPERATOR, backup, target_url=fresh.resolved_database_url, force=True
    )
    assert forced.content_digest == created.content_digest and forced.chain["ok"] is True


def test_restore_refuses_another_database_kind_and_another_audit_key(
    seeded: Settings, fresh: Settings, tmp_path: Path
) -> None:
    backup = Path(service.create_backup(seeded, OPERATOR).path)
    other_kind = (
        "postgresql+psycopg://postgres@127.0.0.1:5432/nothing_here"
        if engines.backend(seeded.resolved_database_url) == "sqlite"
        else f"sqlite:///{tmp_path / 'other.db'}"
    )
    with pytest.raises(GovshareError, match="只能恢复到同一种数据库"):
        service.restore_backup(fresh, OPERATOR, backup, target_url=other_kind)
    foreign = fresh.model_copy(
        update={"audit_key": type(fresh.audit_key)("another-audit-key-0123456789-abcdefghijk")}
    )
    with pytest.raises(GovshareError, match="审计密钥"):
        service.restore_backup(foreign, OPERATOR, backup, target_url=fresh.resolved_database_url)
    assert engines.occupied_tables(fresh.resolved_database_url)[1] == []  # nothing was written


def _vacuum(url: str) -> None:
    if engines.backend(url) == "sqlite":
        connection = sqlite3.connect(engines.sqlite_path(url), isolation_level=None)
        connection.execute("VACUUM")
        connection.close()
        return
    with psycopg.connect(engines.conninfo(url), autocommit=True) as connection:
        connection.execute("VACUUM FULL")


def test_the_digest_ignores_physical_layout_but_not_content(seeded: Settings) -> None:
    url = seeded.resolved_database_url
    first = engines.content_digest_of(url)
    _vacuum(url)  # rewrite the files: the same rows in another physical layout
    db = Database.from_settings(seeded)
    try:
        assert engines.content_digest_of(url) == first
        with db.transaction() as session:
            session.execute(text("UPDATE department SET name = name || '（改）' WHERE code = 'MZ'"))
    finally:
        db.dispose()
    changed = engines.content_digest_of(url)
    assert changed.value != first.value
    assert [n for n in changed.tables if changed.tables[n] != first.tables[n]] == ["department"]


def test_a_scheduled_run_creates_verifies_and_prunes(seeded: Settings) -> None:
    from govshare.backup import jobs

    node = seeded.model_copy(update={"backup_keep": "2"})
    runs = [jobs.run_scheduled(node, OPERATOR) for _ in range(3)]
    assert all(run.ok for run in runs)
    local = sorted(p.name for p in (node.backup_dir or Path()).glob("*.gsbk"))
    offsite = sorted(p.name for p in (node.backup_offsite_dir or Path()).glob("*.gsbk"))
    newest = [Path(run.created.path).name for run in runs[1:]]
    assert local == sorted(newest) and offsite == sorted(newest)
    assert runs[2].pruned is not None and len(runs[2].pruned.removed) == 2  # one local, one off-site
    assert "backup.prune" in _audit_actions(node)
    assert json.dumps(runs[2].as_dict(), ensure_ascii=False)  # the CLI's --json output is serialisable


@pytest.mark.sqlite_only  # a PostgreSQL target has no database file under the data directory
def test_a_file_of_the_backup_never_lands_on_the_restored_database(seeded: Settings, fresh: Settings) -> None:
    """The live node keeps its database outside its data directory and happens to hold a file named like the
    fresh node's database: restoring it would overwrite the restored database. Refused before any change."""
    clash = engines.sqlite_path(fresh.resolved_database_url).name
    (seeded.data_dir / clash).write_bytes(b"not a database")
    backup = Path(service.create_backup(seeded, OPERATOR).path)
    with pytest.raises(GovshareError, match=f"备份中的文件 {clash} 会落在目标节点的数据库文件"):
        service.restore_backup(fresh, OPERATOR, backup, target_url=fresh.resolved_database_url)
    assert not engines.sqlite_path(fresh.resolved_database_url).exists()


def test_a_fresh_node_whose_schema_was_already_migrated_counts_as_empty(
    seeded: Settings, fresh: Settings
) -> None:
    """`govshare db upgrade` on the new node first leaves the tables that migrations seed (code sets, the
    audit head) and an empty audit log: nobody has used it, so it is still a fresh node."""
    from govshare.core import migrations

    target = Database.from_settings(fresh)
    try:
        migrations.upgrade(target.engine)
    finally:
        target.dispose()
    names, filled = engines.occupied_tables(fresh.resolved_database_url)
    assert "audit_entry" in names and "audit_entry" not in filled
    backup = Path(service.create_backup(seeded, OPERATOR).path)
    restored = service.restore_backup(fresh, OPERATOR, backup, target_url=fresh.resolved_database_url)
    assert restored.chain["ok"] is True
    assert restored.content_digest == service.verify_backup(seeded, OPERATOR, backup).content_digest
    if engines.backend(fresh.resolved_database_url) == "sqlite":
        assert engines.sqlite_path(fresh.resolved_database_url).stat().st_mode & 0o777 == 0o600


def test_an_unwritable_off_site_directory_fails_the_backup_and_is_audited(
    seeded: Settings, tmp_path: Path
) -> None:
    blocked = tmp_path / "offsite-is-a-file"
    blocked.write_text("", encoding="utf-8")
    node = seeded.model_copy(update={"backup_offsite_dir": blocked})
    with pytest.raises(GovshareError, match="备份已写入本地，但复制到异地目录失败"):
        service.create_backup(node, OPERATOR)
    assert len(list((node.backup_dir or Path()).glob("*.gsbk"))) == 1  # the local backup is kept
    db = Database.from_settings(node)
    try:
        with db.transaction(readonly=True) as session:
            action, outcome = session.execute(
                text("SELECT action, outcome FROM audit_entry ORDER BY seq DESC LIMIT 1")
            ).one()
    finally:
        db.dispose()
    assert (action, outcome) == ("backup.create", "failure")
