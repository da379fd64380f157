"""Background work for the audit log: nightly verification and periodic checkpoints.

`govshare worker` runs both (jobs/handlers.py): its scheduler queues an `audit.checkpoint` job every
`GOVSHARE_AUDIT_CHECKPOINT_MINUTES` (one per period, whichever worker claims it; 0: never) and an
`audit.verify` job each night. `govshare audit checkpoint` writes one from cron as well. `WriterLock` (an
flock in the checkpoint directory, released by the OS when the process dies) lets a process that writes
checkpoints on its own schedule (`_tick`) be the only one of its node that does.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import structlog

from govshare.audit import service, verification
from govshare.audit.service import ChainReport, CheckpointResult
from govshare.auth.actor import Actor
from govshare.core.db import Database
from govshare.errors import GovshareError

MINUTE_SECONDS = 60.0  # the scheduler's minute (tests shorten it)
LOCK_FILE = ".writer.lock"

log = structlog.get_logger(__name__)


def verify_chain_job(db: Database) -> ChainReport:
    """Scheduled chain verification (the worker's nightly `audit.verify` job)."""
    actor = Actor.system("job:audit-verify")
    with db.transaction() as session:
        return service.verify(session, actor)


def write_checkpoint_job(db: Database) -> CheckpointResult:
    """Write the next checkpoint (see `service.write_checkpoint`): the entries since the newest checkpoint
    are checked first in a read-only session, so the write transaction, which holds the audit head (and on
    SQLite the write lock), only walks what was appended since."""
    actor = Actor.system("job:audit-checkpoint")
    with db.transaction(readonly=True) as reader:
        verified = verification.precheck(reader)
    with db.short_write() as session:
        return service.write_checkpoint(session, actor, verified=verified)


class WriterLock:
    """An exclusive, non-blocking flock on `<checkpoint dir>/.writer.lock`, held until released.

    Several workers of one node share the directory; the one holding the lock writes the checkpoints.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _tick(db: Database, lock: WriterLock) -> None:
    """Write a checkpoint if this process holds the node's writer lock; a refusal is logged (its audit entry
    was written by the unit of work after its rollback), never raised."""
    try:
        if not lock.acquire():
            return  # another process of this node writes the checkpoints
        result = write_checkpoint_job(db)
    except GovshareError as exc:
        # the refusal's own audit entry was written by the unit of work after its rollback
        log.warning("audit_checkpoint_refused", code=exc.code, detail=exc.message)
    except Exception:
        log.exception("audit_checkpoint_failed")
    else:
        if result.written:
            log.info("audit_checkpoint_written", number=result.number, seq=result.seq)
