"""Signed checkpoints of the audit chain outside the database: written, chained, verified (both databases)."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from govshare.audit import chain, checkpoints
from govshare.audit import service as audit
from govshare.core.db import Database
from govshare.errors import Conflict
from tests.audit.helpers import AUDITOR, as_dba, checkpoint, checkpoint_files, entries, verify


def _files(db: Database) -> list[Path]:
    return checkpoint_files(db.config.audit_checkpoint_dir)


def test_a_valid_chain_with_checkpoints_verifies(db: Database) -> None:
    entries(db, 5)
    first = checkpoint(db)
    entries(db, 3)
    second = checkpoint(db)
    entries(db, 2)
    assert (first.number, first.seq, second.number, second.seq) == (1, 5, 2, 9)
    report = verify(db)
    assert (report.ok, report.problem, report.checkpoints, report.checkpoint_seq) == (True, None, 2, 9)
    assert report.head_seq == 12


def test_a_checkpoint_file_is_signed_chained_and_private(db: Database) -> None:
    entries(db, 3)
    checkpoint(db)
    entries(db, 1)
    checkpoint(db)
    first, second = _files(db)
    assert [p.name for p in _files(db)] == [
        "checkpoint-00000001.json",
        "checkpoint-00000002.json",
    ]
    doc = json.loads(second.read_text("utf-8"))
    assert set(doc) >= {
        "node",
        "seq",
        "hash",
        "occurred_at",
        "written_at",
        "prev_checkpoint_digest",
        "alg",
        "sig",
    }
    assert doc["alg"] == "HMAC-SM3" and doc["seq"] == 5
    with db.transaction(readonly=True) as session:
        assert doc["hash"] == session.scalar(text("SELECT entry_hash FROM audit_entry WHERE seq = 5"))
    assert doc["prev_checkpoint_digest"] == checkpoints.digest(json.loads(first.read_text("utf-8")))
    assert json.loads(first.read_text("utf-8"))["prev_checkpoint_digest"] is None
    assert stat.S_IMODE(second.stat().st_mode) == 0o600
    assert stat.S_IMODE(second.parent.stat().st_mode) == 0o700
    assert db.config.audit_key.decode() not in second.read_text("utf-8")


def test_writing_a_checkpoint_is_audited_and_an_idle_chain_gets_no_new_one(db: Database) -> None:
    entries(db, 2)
    written = checkpoint(db)
    again = checkpoint(db)
    assert (written.written, again.written, again.number) == (True, False, 1)
    assert len(_files(db)) == 1
    with db.transaction(readonly=True) as session:
        rows = session.execute(text("SELECT seq, action, target_type FROM audit_entry ORDER BY seq")).all()
    assert [tuple(r) for r in rows][-1] == (3, "audit.checkpoint", "audit_chain")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda doc: doc.update(seq=doc["seq"] + 1),
        lambda doc: doc.update(hash="a" * 64),
        lambda doc: doc.update(sig="0" * 64),
        lambda doc: doc.update(alg="none"),
    ],
    ids=["seq", "hash", "sig", "alg"],
)
def test_a_forged_checkpoint_is_detected(db: Database, tamper: object) -> None:
    entries(db, 4)
    checkpoint(db)
    path = _files(db)[0]
    doc = json.loads(path.read_text("utf-8"))
    tamper(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc), "utf-8")
    report = verify(db)
    assert (report.ok, report.problem) == (False, "checkpoint_forged")
    assert "第 1 个检查点" in report.message
    assert str(path.parent) not in report.message


def test_an_unreadable_checkpoint_file_is_reported_as_forged(db: Database) -> None:
    entries(db, 2)
    checkpoint(db)
    _files(db)[0].write_bytes(b"\xff{not json")
    report = verify(db)
    assert (report.ok, report.problem) == (False, "checkpoint_forged")


def test_a_checkpoint_signed_with_another_nodes_key_is_forged(db: Database) -> None:
    entries(db, 2)
    other = checkpoints.HmacSm3Signer.from_audit_key(b"another-node-audit-key-0000000000000")
    checkpoints.write_checkpoint(
        db.config.audit_checkpoint_dir, other, node="别的节点", seq=1, entry_hash="b" * 64, occurred_at=None
    )
    report = verify(db)
    assert (report.ok, report.problem) == (False, "checkpoint_forged")


def test_a_missing_checkpoint_in_the_middle_is_noticed(db: Database) -> None:
    for _ in range(3):
        entries(db, 2)
        checkpoint(db)
    _files(db)[1].unlink()
    report = verify(db)
    assert (report.ok, report.problem) == (False, "checkpoint_missing")
    assert "第 2 个检查点" in report.message


def test_a_chain_restored_from_an_older_copy_and_extended_mismatches_its_checkpoint(db: Database) -> None:
    """A restore to an older state followed by new appends: the checkpoint's seq holds another hash."""
    entries(db, 6)
    checkpoint(db)  # anchors seq 6
    with db.transaction(readonly=True) as session:
        kc = session.scalar(text("SELECT key_check FROM audit_head"))
        h3 = str(session.scalar(text("SELECT entry_hash FROM audit_entry WHERE seq = 3")))
    mac = chain.head_mac(db.config.audit_key, 3, h3, kc)  # an old head, genuinely keyed (as in a backup)
    as_dba(
        db,
        "DELETE FROM audit_entry WHERE seq > 3",
        f"UPDATE audit_head SET seq = 3, entry_hash = '{h3}', mac = '{mac}'",
    )
    entries(db, 5)
    report = verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "checkpoint_mismatch", 6)


def test_a_checkpoint_is_refused_when_the_chain_broke_since_the_last_one(db: Database) -> None:
    entries(db, 3)
    checkpoint(db)
    entries(db, 3)
    as_dba(db, "UPDATE audit_entry SET target_id = 'FORGED' WHERE seq = 5")
    with pytest.raises(Conflict, match="第 5 条"):
        checkpoint(db)
    assert len(_files(db)) == 1


def test_a_checkpoint_beyond_a_cut_below_it_is_refused(db: Database) -> None:
    entries(db, 5)
    checkpoint(db)
    as_dba(db, "DELETE FROM audit_entry WHERE seq > 2")
    with pytest.raises(Conflict):
        checkpoint(db)
    assert len(_files(db)) == 1


def test_a_head_from_before_the_keyed_head_is_keyed_by_the_next_append(db: Database) -> None:
    """A head from before migration 0009 has no MAC: verify says so; the next append keys it."""
    entries(db, 3)
    as_dba(db, "UPDATE audit_head SET mac = NULL")
    report = verify(db)  # reports, then its own entry keys the head
    assert (report.ok, report.problem) == (False, "head_unkeyed")
    assert verify(db).ok


def test_the_checkpoint_directory_comes_from_settings(db: Database, tmp_path: Path) -> None:
    from govshare.core.node import NodeConfig
    from govshare.settings import Settings
    from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET

    base = Settings(
        _env_file=None, env="test", data_dir=tmp_path / "d", secret_key=TEST_SECRET, audit_key=TEST_AUDIT_KEY
    )  # type: ignore[call-arg, arg-type]
    assert NodeConfig.from_settings(base).audit_checkpoint_dir == tmp_path / "d" / "audit-checkpoints"
    elsewhere = base.model_copy(update={"audit_checkpoint_dir": tmp_path / "worm"})
    assert NodeConfig.from_settings(elsewhere).audit_checkpoint_dir == tmp_path / "worm"
    assert base.audit_checkpoint_minutes == 10
    other_dir = Database(db.url, replace(db.config, audit_checkpoint_dir=tmp_path / "worm"))
    try:
        entries(other_dir, 1)
        with other_dir.transaction() as session:
            audit.write_checkpoint(session, AUDITOR)
    finally:
        other_dir.dispose()
    assert [p.name for p in (tmp_path / "worm").iterdir() if p.suffix == ".json"] == [
        "checkpoint-00000001.json"
    ]


def test_no_checkpoint_is_chained_to_a_forged_newest_one(db: Database) -> None:
    entries(db, 2)
    checkpoint(db)
    entries(db, 2)
    path = _files(db)[0]
    doc = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**doc, "seq": 1}), "utf-8")
    with pytest.raises(Conflict, match="第 1 个检查点签名不符"):
        checkpoint(db)
    assert len(_files(db)) == 1


def test_a_fifo_or_symlink_in_place_of_a_checkpoint_is_forged_not_followed(
    db: Database, tmp_path: Path
) -> None:
    import os

    entries(db, 2)
    checkpoint(db)
    entries(db, 1)
    directory = db.config.audit_checkpoint_dir
    os.mkfifo(directory / "checkpoint-00000002.json")  # reading it would block verification forever
    report = verify(db)
    assert (report.ok, report.problem) == (False, "checkpoint_forged")
    assert "第 2 个检查点" in report.message and "不是普通文件" in report.message
    (directory / "checkpoint-00000002.json").unlink()
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes(_files(db)[0].read_bytes())
    (directory / "checkpoint-00000002.json").symlink_to(outside)
    assert verify(db).problem == "checkpoint_forged"


def test_checkpoints_are_written_where_the_file_system_has_no_hard_links(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def no_links(*_args: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # e.g. an object-store mount

    monkeypatch.setattr(os, "link", no_links)
    entries(db, 2)
    checkpoint(db)
    entries(db, 1)
    checkpoint(db)
    assert [p.name for p in _files(db)] == [
        "checkpoint-00000001.json",
        "checkpoint-00000002.json",
    ]
    assert stat.S_IMODE(_files(db)[1].stat().st_mode) == 0o600 and not list(
        db.config.audit_checkpoint_dir.glob(".*.tmp")
    )
    assert verify(db).ok


def test_the_documented_recovery_after_a_restore_verifies_again(db: Database) -> None:
    """docs/configuration.md: after a restore, move the checkpoints at or past first_bad_seq aside."""
    entries(db, 5)
    checkpoint(db)  # checkpoint 1 anchors seq 5; its entry is 6
    entries(db, 3)
    checkpoint(db)  # checkpoint 2 anchors seq 9
    with db.transaction(readonly=True) as session:
        kc = session.scalar(text("SELECT key_check FROM audit_head"))
        h6 = str(session.scalar(text("SELECT entry_hash FROM audit_entry WHERE seq = 6")))
    mac = chain.head_mac(db.config.audit_key, 6, h6, kc)  # the head as the backup held it
    as_dba(
        db,
        "DELETE FROM audit_entry WHERE seq > 6",
        f"UPDATE audit_head SET seq = 6, entry_hash = '{h6}', mac = '{mac}'",
    )
    report = verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "truncated", 7)
    with pytest.raises(Conflict):
        checkpoint(db)  # checkpoints stop until the loss is dealt with
    aside = db.config.audit_checkpoint_dir / "superseded-2026-12-06"
    aside.mkdir()
    for path in _files(db):
        if json.loads(path.read_text("utf-8"))["seq"] >= report.first_bad_seq:
            path.rename(aside / path.name)
    assert verify(db).ok
    assert checkpoint(db).number == 2
    assert verify(db).ok
