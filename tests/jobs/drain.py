"""The test app runs the real worker after each request, so a batch started by a request has finished when
the response returns, as it had when it ran in the web process's BackgroundTasks.

`worker.drain` claims and runs every due job through the worker's own claim and run path (jobs/worker.py);
only the process differs from `govshare worker`, which tests/jobs/test_worker_process.py runs for real."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from govshare.core.db import Database
from govshare.jobs import worker


class RunJobsAfterEachRequest:
    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app, self.db = app, db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        # only a write queues work (a batch's start); reads skip the claim and add nothing to their timing
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            await run_in_threadpool(worker.drain, self.db)
