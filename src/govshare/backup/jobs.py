"""`govshare backup run-scheduled`: what a cron job or systemd timer runs (docs/backup.md).

One run: create a backup (copied off-site when configured), verify it by restoring it into a scratch
database, then prune by `GOVSHARE_BACKUP_KEEP`. Runs do not overlap: a second one finds the lock taken and
stops. A backup that fails verification is kept (for inspection) but the run fails, so the timer reports it.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govshare.auth.actor import Actor
from govshare.backup import policies, service
from govshare.backup.schemas import CreateReport, PruneReport, VerifyReport
from govshare.errors import Conflict
from govshare.settings import Settings


@dataclass(frozen=True)
class ScheduledRun:
    created: CreateReport
    verified: VerifyReport | None
    pruned: PruneReport | None

    @property
    def ok(self) -> bool:
        return self.verified is None or self.verified.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "created": self.created.as_dict(),
            "verified": self.verified.as_dict() if self.verified else None,
            "pruned": self.pruned.as_dict() if self.pruned else None,
        }


def run_scheduled(settings: Settings, actor: Actor, *, verify: bool = True) -> ScheduledRun:
    directory = policies.backup_dir(settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict("另一次定时备份正在运行，本次不再执行") from exc
        created = service.create_backup(settings, actor)
        verified = service.verify_backup(settings, actor, Path(created.path)) if verify else None
        pruned = service.prune_backups(settings, actor) if verified is None or verified.ok else None
        return ScheduledRun(created, verified, pruned)
    finally:
        os.close(fd)
