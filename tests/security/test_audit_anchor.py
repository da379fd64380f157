"""Issue #12, finding 8: a DBA who truncates the audit log and rewinds its head must be caught.

The intruder holds the database (drops the append-only triggers, rewrites `audit_head`) but neither the
audit key nor the checkpoint directory. Both attacks passed `govshare audit verify` before the keyed head
and the checkpoints outside the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from govshare.audit import chain
from govshare.core.db import Database
from govshare.errors import ServiceUnavailable
from tests import factories
from tests.audit.helpers import as_dba, checkpoint, entries, verify


def _cut_last(db: Database, count: int) -> int:
    """Delete the last `count` entries and rewind the head onto the new last entry (its seq and hash)."""
    with db.transaction(readonly=True) as session:
        head_seq = int(session.scalar(text("SELECT seq FROM audit_head")) or 0)
        keep = head_seq - count
        new_hash = session.scalar(text("SELECT entry_hash FROM audit_entry WHERE seq = :s"), {"s": keep})
    as_dba(
        db,
        f"DELETE FROM audit_entry WHERE seq > {keep}",
        f"UPDATE audit_head SET seq = {keep}, entry_hash = '{new_hash}'",
    )
    return keep


def test_deleting_the_last_50_and_rewinding_the_head_is_caught_by_the_checkpoint(db: Database) -> None:
    entries(db, 70)
    anchored = checkpoint(db)
    assert anchored.written and anchored.seq == 70
    entries(db, 10)
    keep = _cut_last(db, 50)  # 81 entries (one is the checkpoint's own) → 31
    report = verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "truncated", keep + 1)
    assert "检查点" in report.message and "第 70 条" in report.message


def test_a_rewound_head_is_caught_by_its_mac_even_without_a_checkpoint(db: Database) -> None:
    entries(db, 60)
    _cut_last(db, 50)
    report = verify(db)
    assert (report.ok, report.problem) == (False, "head_forged")
    with pytest.raises(ServiceUnavailable, match="链头"):
        factories.department(db, "X1")  # nothing is appended onto a forged head
    with db.transaction(readonly=True) as session:
        assert session.scalar(text("SELECT count(*) FROM department")) == 0


def test_a_rewound_head_with_its_mac_removed_is_caught(db: Database) -> None:
    entries(db, 60)
    checkpoint(db)
    keep = _cut_last(db, 50)
    as_dba(db, "UPDATE audit_head SET mac = NULL")
    report = verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "truncated", keep + 1)
    with pytest.raises(ServiceUnavailable, match="检查点"):
        factories.department(db, "X1")


@pytest.mark.parametrize(
    "reset",
    [
        "UPDATE audit_head SET seq = 0, entry_hash = '{genesis}', key_check = NULL, mac = NULL",
        "DELETE FROM audit_head",
    ],
    ids=["head-reset-to-empty", "head-deleted"],
)
def test_wiping_every_entry_and_resetting_the_head_is_caught(db: Database, reset: str) -> None:
    entries(db, 20)
    checkpoint(db)
    as_dba(db, "DELETE FROM audit_entry", reset.format(genesis=chain.GENESIS_HASH))
    report = verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "truncated", 1)
    assert "第 20 条" in report.message
    with pytest.raises(ServiceUnavailable, match="检查点"):
        factories.department(db, "X1")  # the emptied log is not silently restarted


def test_resetting_the_head_to_empty_but_keeping_its_mac_is_caught_without_a_checkpoint(db: Database) -> None:
    entries(db, 20)
    as_dba(
        db, "DELETE FROM audit_entry", f"UPDATE audit_head SET seq = 0, entry_hash = '{chain.GENESIS_HASH}'"
    )
    report = verify(db)
    assert (report.ok, report.problem) == (False, "head_forged")


def test_deleting_the_newest_checkpoint_file_as_well_is_noticed_from_the_log(db: Database) -> None:
    """The intruder also deletes the newest checkpoint file: the log itself names the checkpoint it wrote."""
    entries(db, 10)
    checkpoint(db)
    entries(db, 5)
    newest = checkpoint(db)
    entries(db, 5)
    (db.config.audit_checkpoint_dir / newest.file_name).unlink()
    report = verify(db)
    assert (report.ok, report.problem) == (False, "checkpoint_missing")
    assert f"第 {newest.number} 个检查点" in report.message
