"""Test job kinds and small readers of the job table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from govshare.auth.actor import Actor
from govshare.core.db import Database
from govshare.errors import InvalidInput
from govshare.jobs import registry, service
from govshare.jobs.registry import JobContext, JobKind
from govshare.models import Job

OPERATOR = Actor.system("test:jobs")


class Boom(RuntimeError):
    """A transient failure whose text must never reach the job row (it could hold a secret)."""


def _always_fails(_ctx: JobContext) -> dict[str, Any] | None:
    raise Boom("postgresql://user:s3cret@db/prod unreachable")


def _refuses(_ctx: JobContext) -> dict[str, Any] | None:
    raise InvalidInput.on("payload", "参数不对")


def _echo(ctx: JobContext) -> dict[str, Any] | None:
    return {"echo": ctx.payload.get("n"), "actor": ctx.actor.name}


FLAKY = JobKind("test.flaky", "测试：总是失败", _always_fails, max_attempts=3, retry_seconds=10)
REFUSED = JobKind("test.refused", "测试：参数错误", _refuses)
ECHO = JobKind("test.echo", "测试：回显", _echo)


@contextmanager
def kinds_registered(*kinds: JobKind) -> Iterator[None]:
    for kind in kinds:
        registry.register(kind)
    try:
        yield
    finally:
        for kind in kinds:
            registry.KINDS.pop(kind.name, None)


def enqueue(db: Database, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> int:
    with db.transaction() as session:
        return service.enqueue(session, OPERATOR, kind, payload, **options).id


def job(db: Database, job_id: int) -> Job:
    with db.transaction(readonly=True) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def make_due(db: Database, job_id: int) -> None:
    """Move a waiting retry's time to now (instead of sleeping through its backoff)."""
    with db.transaction() as session:
        found = session.get_one(Job, job_id)
        found.run_after = found.created_at


def _slow(ctx: JobContext) -> dict[str, Any] | None:
    """Marks its start and end in `payload["marker"]`; the first attempt takes `payload["seconds"]` (long
    enough to be killed in), later attempts none."""
    marker = Path(str(ctx.payload["marker"]))
    with marker.open("a", encoding="utf-8") as handle:
        handle.write(f"start {ctx.attempt}\n")
    if ctx.attempt == 1:
        time.sleep(float(ctx.payload["seconds"]))
    with marker.open("a", encoding="utf-8") as handle:
        handle.write(f"done {ctx.attempt}\n")
    return {"attempt": ctx.attempt}


SLOW = JobKind("test.slow", "测试：慢任务", _slow)
