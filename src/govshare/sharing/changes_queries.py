"""The SQL of the change feed (sharing/changes_service.py): the batches that bound a round, the records
written in it and the keys removed in it, each narrowed to the grant's row scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from govshare.collection import store
from govshare.models import Batch
from govshare.sharing import records as rec
from govshare.sharing.access import Access


def applied_at(session: Session, resource_id: int, batch_id: int) -> datetime | None:
    """When the resource's batch `batch_id` was applied (naive UTC), None before the first batch."""
    if batch_id <= 0:
        return None
    found = session.scalar(
        select(Batch.applied_at).where(Batch.id == batch_id, Batch.resource_id == resource_id)
    )
    return found.replace(tzinfo=None) if found else None


def latest_succeeded_batch(session: Session, resource_id: int) -> int:
    """The id of the resource's newest succeeded batch (0 when none)."""
    latest = session.scalar(
        select(func.max(Batch.id)).where(Batch.resource_id == resource_id, Batch.status == "succeeded")
    )
    return int(latest or 0)


def upserts(
    session: Session, access: Access, table: Table, *, since: int, upto: int, after_sid: int, limit: int
) -> list[dict[str, Any]]:
    """Current records in scope written by a batch in (since, upto], after `after_sid`, in record order."""
    return rec.fetch(
        session,
        select(*rec.columns(access, table))
        .where(
            store.current(table),
            table.c._batch_id > since,
            table.c._batch_id <= upto,
            table.c._sid > after_sid,
            *rec.scope_filter(access, table),
        )
        .order_by(table.c._sid)
        .limit(limit),
    )


def deleted_keys(
    session: Session,
    access: Access,
    table: Table,
    key: list[str],
    *,
    start: datetime | None,
    end: datetime,
    after_sid: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Keys (with their last `_sid`) whose record was removed in (start, end] and that have no current
    record, in scope, after `after_sid`."""
    alias = table.alias("now")
    still = select(alias.c._sid).where(alias.c._valid_to.is_(None), *(alias.c[k] == table.c[k] for k in key))
    where = [
        table.c._valid_to.is_not(None),
        table.c._valid_to <= end,
        ~still.exists(),
        *rec.scope_filter(access, table),
    ]
    if start is not None:
        where.append(table.c._valid_to > start)
    grouped = (
        select(func.max(table.c._sid).label("_sid"), *(table.c[k] for k in key))
        .where(*where)
        .group_by(*(table.c[k] for k in key))
        .subquery()
    )
    return rec.fetch(
        session, select(grouped).where(grouped.c._sid > after_sid).order_by(grouped.c._sid).limit(limit)
    )
