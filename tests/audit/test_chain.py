"""The audit chain: verified end to end, tampering named by position, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.core.db import Database
from tests import factories

AUDITOR = Actor.system("test:auditor")


def _chain(db: Database, entries: int = 6) -> None:
    for i in range(entries):
        factories.department(db, f"D{i}")


def _verify(db: Database) -> audit.ChainReport:
    with db.transaction() as session:
        return audit.verify(session, AUDITOR)


def _disable_append_only(db: Database) -> None:
    """What an intruder with DDL rights does first; the triggers stop everyone else."""
    with db.transaction() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
            session.execute(text("DROP TRIGGER audit_entry_no_delete"))
        else:
            session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))


def test_intact_chain_verifies(db: Database) -> None:
    _chain(db)
    report = _verify(db)
    assert (report.ok, report.checked, report.head_seq, report.first_bad_seq) == (True, 6, 6, None)
    assert _verify(db).checked == 7  # the first verification is itself an entry


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_entry SET actor_name = 'x' WHERE seq = 2", "DELETE FROM audit_entry WHERE seq = 2"],
)
def test_the_database_refuses_changes_to_entries(db: Database, statement: str) -> None:
    _chain(db, 3)
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text(statement))


def test_a_modified_entry_is_named(db: Database) -> None:
    _chain(db)
    _disable_append_only(db)
    with db.transaction() as session:
        session.execute(text("UPDATE audit_entry SET target_id = 'FORGED' WHERE seq = 3"))
    report = _verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "modified", 3)
    assert "第 3 条" in report.message


def test_a_deleted_entry_is_named(db: Database) -> None:
    _chain(db)
    _disable_append_only(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    report = _verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "deleted", 4)


def test_a_deleted_and_renumbered_entry_is_named(db: Database) -> None:
    _chain(db)
    _disable_append_only(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
        for seq in range(3, 7):
            session.execute(
                text("UPDATE audit_entry SET seq = :new WHERE seq = :old"), {"new": seq - 1, "old": seq}
            )
        session.execute(text("UPDATE audit_head SET seq = 5"))
    report = _verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "deleted", 2)


def test_reordered_entries_are_named(db: Database) -> None:
    _chain(db)
    _disable_append_only(db)
    with db.transaction() as session:
        session.execute(text("UPDATE audit_entry SET seq = -1 WHERE seq = 3"))
        session.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = 4"))
        session.execute(text("UPDATE audit_entry SET seq = 4 WHERE seq = -1"))
    report = _verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "reordered", 3)


def test_a_truncated_tail_is_named(db: Database) -> None:
    _chain(db)
    _disable_append_only(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq >= 5"))
    report = _verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "truncated", 5)


def test_rewriting_with_the_wrong_key_is_detected(db: Database, settings: object) -> None:
    """Someone who recomputes the chain without the audit key (kept outside the database) is caught."""
    from dataclasses import replace

    from govshare.audit import chain
    from govshare.models import AuditEntry

    _chain(db, 3)
    _disable_append_only(db)
    forger = replace(db.config, audit_key=b"not-the-real-key-000000000000000000")
    with db.transaction() as session:
        session.info["node"] = forger
        prev = chain.GENESIS_HASH
        for entry in session.query(AuditEntry).order_by(AuditEntry.seq):
            if entry.seq == 2:
                entry.actor_name = "someone-else"
            entry.prev_hash = prev
            entry.entry_hash = prev = chain.entry_hash(forger.audit_key, prev, entry)
        session.execute(text("UPDATE audit_head SET entry_hash = :h"), {"h": prev})
    report = _verify(db)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "modified", 1)


def test_verification_result_is_audited(db: Database) -> None:
    _chain(db, 2)
    _verify(db)
    with db.transaction(readonly=True) as session:
        row = session.execute(
            text("SELECT action, outcome, actor_name FROM audit_entry ORDER BY seq DESC")
        ).first()
    assert tuple(row or ()) == ("audit.verify", "success", "test:auditor")


def test_a_node_with_a_foreign_key_refuses_to_write_and_says_why(db: Database) -> None:
    from dataclasses import replace

    from govshare.errors import ServiceUnavailable

    _chain(db, 2)
    foreign = Database(db.url, replace(db.config, audit_key=b"another-node-key-00000000000000000000"))
    try:
        with pytest.raises(ServiceUnavailable, match="GOVSHARE_AUDIT_KEY"):
            factories.department(foreign, "X1")
        with foreign.transaction() as session:
            report = audit.verify(session, AUDITOR)
        assert (report.ok, report.problem) == (False, "wrong_key")
    finally:
        foreign.dispose()
    with db.transaction(readonly=True) as session:
        assert session.scalar(text("SELECT count(*) FROM department WHERE code = 'X1'")) == 0
    assert _verify(db).ok  # the real key still verifies: nothing was appended under the foreign one
