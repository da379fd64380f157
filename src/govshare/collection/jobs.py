"""Running batches outside a request: a started batch to its end, and the sources that are due.

`govshare sources run-due` (from cron or a systemd timer) and `govshare serve --scheduler`-style loops call
`run_due`; each due source runs as the console operator, one at a time, each a batch of its own."""

from __future__ import annotations

from collections.abc import Callable

from govshare.auth.actor import Actor
from govshare.collection import pipeline, service
from govshare.collection.readers.base import SourceUnreadable
from govshare.collection.service import Started
from govshare.collection.sources import open_reader
from govshare.core.db import Database
from govshare.errors import GovshareError
from govshare.models import Batch


def run_started(
    db: Database,
    actor: Actor,
    started: Started,
    *,
    path: str | None = None,
    records: list[object] | None = None,
    on_progress: Callable[[Batch], None] | None = None,
) -> Batch:
    """Open the source and run the batch; a source that cannot be opened fails the batch."""
    try:
        config = db.config
        # the parser and the batch's scratch space each get half of the memory budget
        reader = open_reader(
            started,
            chunk_rows=config.collection_chunk_rows,
            scratch_dir=config.work_dir,
            memory_mb=max(config.collection_memory_mb // 2, 64),
            path=path,
            records=records,
            quote_span=(config.collection_quote_span_lines, config.collection_quote_span_bytes),
        )
    except SourceUnreadable as exc:
        return pipeline.fail(db, started.prepared.batch_id, exc.message)
    except GovshareError as exc:
        return pipeline.fail(db, started.prepared.batch_id, exc.message)
    return pipeline.execute(db, actor, started.prepared, reader, on_progress=on_progress)


def run_due(db: Database, actor: Actor) -> list[Batch]:
    """Run every due source once; a source that cannot start (already running) is skipped. Each round
    first fails stuck batches (the watchdog), so a scheduler frees their resources with nobody looking."""
    with db.transaction() as session:
        service.detect_dead_batches(session, actor)
        due = service.due_sources(session, actor)
    finished: list[Batch] = []
    for item in due:
        try:
            with db.transaction() as session:
                started = service.start_source_run(session, actor, item.source.id)
        except GovshareError:
            continue
        finished.append(run_started(db, actor, started))
    return finished
