"""Running batches outside a request: a started batch to its end, and the sources that are due.

A batch started from the API or the portal is recorded in the request and queued as a `collection.batch`
job (`enqueue_batch`) in the same transaction; `govshare worker` rebuilds it from its row (`run_batch_job`)
and runs it. Records pushed in a request body are staged first in a private file under the node's work
directory (`stage_records`, 0600), which the job removes when the batch has ended.

`govshare worker`'s scheduler (and `govshare sources run-due` from cron) call `run_due`; each due source runs
as its caller, one at a time, each a batch of its own."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.collection import connections, pipeline, service, store
from govshare.collection.mapping import DATABASE_KINDS, load_mapping
from govshare.collection.plan import build_plan
from govshare.collection.readers.base import SourceUnreadable
from govshare.collection.repository import CollectionRepository
from govshare.collection.service import Started
from govshare.collection.sources import open_reader
from govshare.core.clock import utcnow
from govshare.core.db import PRIVATE_FILE, Database, private_directory
from govshare.errors import GovshareError
from govshare.models import Batch, Resource

BATCH_JOB = "collection.batch"
STAGING_DIRECTORY = "staged"  # under the node's work directory


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


def watchdog(db: Database, actor: Actor) -> list[int]:
    """Fail the batches whose process is gone or silent (`govshare batches watchdog`, and a periodic job)."""
    with db.transaction() as session:
        return service.detect_dead_batches(session, actor)


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


def stage_records(work_dir: Path, records: list[object]) -> str:
    """Write pushed records to a new private file (0600, in a 0700 directory) for the worker; its path."""
    directory = private_directory(work_dir / STAGING_DIRECTORY)
    path = directory / f"records-{secrets.token_hex(8)}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(records, handle, ensure_ascii=False)
    return str(path)


def _staged_records(path: str) -> list[object]:
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    if not isinstance(records, list):
        raise SourceUnreadable("暂存的推送记录已损坏")
    return records


def batch_job_payload(
    started: Started,
    *,
    path: str | None = None,
    records_file: str | None = None,
    allow_removals: bool = False,
) -> dict[str, Any]:
    """What a batch job carries: the batch's id, the source kind, and where its input waits (ids only)."""
    payload: dict[str, Any] = {"batch_id": started.prepared.batch_id, "source_kind": started.kind}
    if path is not None:
        payload["path"] = path
    if records_file is not None:
        payload["records_file"] = records_file
    if allow_removals or started.prepared.allow_removals:
        payload["allow_removals"] = True
    return payload


def _resume(session: Session, batch_id: int, source_kind: str, allow_removals: bool) -> Started | None:
    """The `Started` of a recorded batch, rebuilt from its row in the worker; None when it is no longer
    running (failed by the watchdog, or already finished by an earlier attempt)."""
    repo = CollectionRepository(session)
    batch = repo.batch(batch_id)
    if batch is None or batch.status != "running":
        return None
    resource = session.get_one(Resource, batch.resource_id)
    _found, version = service._published(session, resource.code or "")
    mapping = load_mapping(batch.mapping)
    plan, items = build_plan(session, version, mapping)
    opened = None
    if source_kind in DATABASE_KINDS and mapping.source.connection:
        opened = connections.open_for(
            session,
            mapping.source.connection,
            batch.department_id,
            mapping.source.table,
            mapping.source.query,
        )
    # the batch is this process's now: the watchdog judges it by this worker's pid and heartbeat
    batch.host, batch.pid = pipeline.process_identity()
    batch.heartbeat_at = utcnow()
    table_fields = tuple(store.Field(i.field_name, i.data_type, i.length) for i in items)
    prepared = pipeline.PreparedBatch(
        batch_id=batch.id,
        resource_id=batch.resource_id,
        source_id=batch.source_id,
        plan=plan,
        fields=tuple(f for f in table_fields if f.name in mapping.columns),
        table_fields=table_fields,
        full=batch.mode == "full",
        parent_id=batch.parent_id,
        allow_removals=allow_removals,
    )
    return Started(prepared, mapping, source_kind, batch.cursor_from, opened)


def remove_staged(payload: dict[str, Any]) -> None:
    """Remove the batch's staged input (pushed records, an uploaded file): the batch has ended."""
    for name in ("records_file", "path"):
        value = payload.get(name)
        if isinstance(value, str) and value:
            Path(value).unlink(missing_ok=True)


def run_batch_job(db: Database, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
    """Run a queued batch as the actor who started it. A batch that is no longer running is left as it is;
    either way its staged input is removed once the batch has ended."""
    batch_id = int(payload["batch_id"])
    try:
        with db.transaction() as session:
            kind, removals = str(payload.get("source_kind", "push")), bool(payload.get("allow_removals"))
            started = _resume(session, batch_id, kind, removals)
    except GovshareError as exc:  # the catalog or the connection changed since the start
        batch = pipeline.fail(db, batch_id, exc.message)
        remove_staged(payload)
        return {"batch_id": batch_id, "status": batch.status}
    if started is None:
        remove_staged(payload)
        return {"batch_id": batch_id, "status": "not_running"}
    records_file = payload.get("records_file")
    try:
        records = _staged_records(records_file) if isinstance(records_file, str) else None
    except (OSError, ValueError, SourceUnreadable):
        batch = pipeline.fail(db, batch_id, "暂存的推送记录无法读取，未写入任何数据，请重新推送")
        remove_staged(payload)
        return {"batch_id": batch_id, "status": batch.status}
    path = payload.get("path")
    finished = run_started(db, actor, started, path=path if isinstance(path, str) else None, records=records)
    remove_staged(payload)
    return {"batch_id": batch_id, "status": finished.status}


def end_batch_job(session: Session, payload: dict[str, Any], reason: str) -> None:
    """A batch job that will not run again (dead, cancelled): fail its batch, in the caller's transaction,
    with the reason, and drop its staged input."""
    batch = CollectionRepository(session).batch(int(payload["batch_id"]))
    if batch is not None and batch.status == "running":
        batch.status, batch.phase, batch.finished_at = "failed", "done", utcnow()
        batch.error = f"批次未能运行：{reason}；未提交任何数据，可重新运行"[:2000]
        session.flush()
    remove_staged(payload)
