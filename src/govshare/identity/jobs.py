"""Background work for identity, run by `govshare worker` (jobs/handlers.py): the hourly session purge."""

from __future__ import annotations

from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.identity.repository import WebSessionRepository


def purge_expired_sessions(db: Database) -> int:
    """Delete browser sessions past their expiry; returns how many."""
    with db.transaction() as session:
        return WebSessionRepository(session).delete_expired(utcnow())
