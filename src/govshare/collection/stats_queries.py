"""The SQL of 归集统计 (collection/stats_service.py): GROUP BY aggregates over batches and quarantine,
each narrowed to a `RowScope` in SQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from govshare.auth.scope import RowScope, restrict
from govshare.catalog.vocabulary import ResourceStatus, VersionState
from govshare.core.clock import BEIJING
from govshare.core.db import beijing_period
from govshare.models import Batch, QuarantineRow, Resource, ResourceVersion

SUCCEEDED = "succeeded"


def batches_by_day(session: Session, scope: RowScope, since: datetime) -> list[tuple[Any, int, int, int]]:
    """(Beijing day, batches, rows read, rows rejected) of succeeded batches started since `since`."""
    day = beijing_period(session, Batch.started_at)
    query = (
        select(
            day,
            func.count(),
            func.coalesce(func.sum(Batch.read), 0),
            func.coalesce(func.sum(Batch.rejected), 0),
        )
        .where(Batch.started_at >= since, Batch.status == SUCCEEDED)
        .group_by(day)
        .order_by(day)
    )
    query = restrict(query, scope, Batch.department_id)
    return [(d, int(n), int(r), int(x)) for d, n, r, x in session.execute(query)]


def quarantined_batches(session: Session, scope: RowScope) -> int:
    """Batches with unresolved error rows in quarantine."""
    query = (
        select(func.count(func.distinct(QuarantineRow.batch_id)))
        .join(Batch, Batch.id == QuarantineRow.batch_id)
        .where(QuarantineRow.severity == "error", QuarantineRow.resolved_by.is_(None))
    )
    return int(session.scalar(restrict(query, scope, Batch.department_id)) or 0)


def last_loads(session: Session, scope: RowScope) -> list[tuple[str | None, str, str, datetime | None]]:
    """(resource code, published name, update cycle, last successful load) of each active resource in
    scope, by code."""
    last = (
        select(Batch.resource_id, func.max(Batch.finished_at).label("last"))
        .where(Batch.status == SUCCEEDED)
        .group_by(Batch.resource_id)
        .subquery()
    )
    query = (
        select(Resource.code, ResourceVersion.name, ResourceVersion.update_cycle, last.c.last)
        .join(
            ResourceVersion,
            and_(
                ResourceVersion.resource_id == Resource.id,
                ResourceVersion.state == VersionState.PUBLISHED.value,
            ),
        )
        .outerjoin(last, last.c.resource_id == Resource.id)
        .where(Resource.status == ResourceStatus.ACTIVE.value)
        .order_by(Resource.code)
    )
    rows = session.execute(restrict(query, scope, Resource.department_id))
    return [(code, name, cycle, loaded_at) for code, name, cycle, loaded_at in rows]


def records_loaded(session: Session, since: date | None) -> int:
    """Rows loaded by successful batches (read - rejected), node-wide."""
    query = select(func.coalesce(func.sum(Batch.read - Batch.rejected), 0)).where(Batch.status == SUCCEEDED)
    if since is not None:
        query = query.where(Batch.started_at >= datetime.combine(since, datetime.min.time(), tzinfo=BEIJING))
    return int(session.scalar(query) or 0)
