"""Audit test helpers: write entries and checkpoints, verify, and act as a database administrator who
drops the append-only triggers before editing the log."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.core.db import Database

AUDITOR = Actor.system("test:auditor")


def entries(db: Database, count: int) -> None:
    with db.transaction() as session:
        for i in range(count):
            audit.record(session, AUDITOR, "test.event", target_type="test", target_id=str(i))


def checkpoint(db: Database) -> audit.CheckpointResult:
    with db.transaction() as session:
        return audit.write_checkpoint(session, AUDITOR)


def verify(db: Database) -> audit.ChainReport:
    with db.transaction() as session:
        return audit.verify(session, AUDITOR)


def checkpoint_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("checkpoint-*.json"))


def as_dba(db: Database, *statements: str) -> None:
    """Drop the append-only triggers (the intruder's first step), then run the statements."""
    with db.transaction() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            session.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        else:
            session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        for statement in statements:
            session.execute(text(statement))
