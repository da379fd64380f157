"""Background work for the audit log."""

from __future__ import annotations

from govshare.audit import service
from govshare.audit.service import ChainReport
from govshare.auth.actor import Actor
from govshare.core.db import Database


def verify_chain_job(db: Database) -> ChainReport:
    """Scheduled chain verification (run nightly by the scheduler that arrives with collection)."""
    actor = Actor.system("job:audit-verify")
    with db.transaction() as session:
        return service.verify(session, actor)
