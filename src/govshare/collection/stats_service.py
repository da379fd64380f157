"""归集统计: batch volumes and rejection rates per day, the update timeliness of a department's
resources, quarantined batches awaiting attention, and the node's total of records loaded. Aggregated in
SQL (GROUP BY); a department's staff see their own department, the platform admin and the auditor any."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action, public_action, require_scope
from govshare.catalog.vocabulary import ResourceStatus, UpdateCycle, VersionState
from govshare.collection import policies
from govshare.collection.service import CYCLES
from govshare.core.clock import BEIJING, utcnow
from govshare.core.db import beijing_period
from govshare.models import Batch, QuarantineRow, Resource, ResourceVersion

SUCCEEDED = "succeeded"


class BatchDay(BaseModel):
    day: str  # YYYY-MM-DD (the day the batch started, in Beijing)
    batches: int
    read: int
    loaded: int  # read - rejected
    rejected: int

    @property
    def rejection_rate(self) -> float:
        return self.rejected / self.read if self.read else 0.0


class Timeliness(BaseModel):
    resource_code: str
    resource_name: str
    cycle: str  # the update cycle's label
    last_loaded_at: datetime | None
    state: str  # 按时 / 逾期 / 未归集 / 不定期


def _department(actor: Actor, department_id: int | None, name: str) -> int | None:
    """None: every department (only for a node-wide reader); else the one asked for, if allowed."""
    if department_id is None:
        if actor.scope_of(policies.READ) is not None and policies.visible_department(actor) is None:
            return None
        return actor.department_id if actor.department_id is not None else -1
    require_scope(
        actor, policies.READ, department_id=department_id, action_name=name, target_type="department"
    )
    return department_id


@action(policies.READ)
def batches_by_day(
    session: Session, actor: Actor, *, department_id: int | None = None, days: int = 30
) -> list[BatchDay]:
    """Per day of the last `days`: batches, rows read, loaded and rejected (to quarantine)."""
    department = _department(actor, department_id, "collection.batches_by_day")
    since = utcnow() - timedelta(days=max(1, min(days, 3660)))
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
    if department is not None:
        query = query.where(Batch.department_id == department)
    return [
        BatchDay(day=str(d)[:10], batches=int(n), read=int(r), loaded=int(r) - int(x), rejected=int(x))
        for d, n, r, x in session.execute(query)
    ]


@action(policies.READ)
def quarantined_batches(session: Session, actor: Actor, *, department_id: int | None = None) -> int:
    """Batches with rejected records nobody has reprocessed yet (待处理的隔离批次)."""
    department = _department(actor, department_id, "collection.quarantined_batches")
    query = (
        select(func.count(func.distinct(QuarantineRow.batch_id)))
        .join(Batch, Batch.id == QuarantineRow.batch_id)
        .where(QuarantineRow.severity == "error", QuarantineRow.resolved_by.is_(None))
    )
    if department is not None:
        query = query.where(Batch.department_id == department)
    return int(session.scalar(query) or 0)


@action(policies.READ)
def update_timeliness(
    session: Session, actor: Actor, *, department_id: int, now: datetime | None = None
) -> list[Timeliness]:
    """Each published resource of the department: its update cycle, when a batch last loaded it, and
    whether that is within the cycle."""
    department = _department(actor, department_id, "collection.update_timeliness")
    now = now or utcnow()
    last = (
        select(Batch.resource_id, func.max(Batch.finished_at).label("last"))
        .where(Batch.status == SUCCEEDED)
        .group_by(Batch.resource_id)
        .subquery()
    )
    rows = session.execute(
        select(Resource.code, ResourceVersion.name, ResourceVersion.update_cycle, last.c.last)
        .join(
            ResourceVersion,
            and_(
                ResourceVersion.resource_id == Resource.id,
                ResourceVersion.state == VersionState.PUBLISHED.value,
            ),
        )
        .outerjoin(last, last.c.resource_id == Resource.id)
        .where(Resource.department_id == department, Resource.status == ResourceStatus.ACTIVE.value)
        .order_by(Resource.code)
    )
    result: list[Timeliness] = []
    for code, name, cycle, loaded_at in rows:
        interval = CYCLES.get(cycle)
        if loaded_at is not None and loaded_at.tzinfo is None:
            loaded_at = loaded_at.replace(tzinfo=UTC)
        if loaded_at is None:
            state = "未归集"
        elif interval is None:
            state = "不定期"
        else:
            state = "按时" if now - loaded_at <= interval else "逾期"
        result.append(
            Timeliness(
                resource_code=code or "",
                resource_name=name,
                cycle=UpdateCycle(cycle).label,
                last_loaded_at=loaded_at,
                state=state,
            )
        )
    return result


@public_action("the home page shows the node's total of records collected, a count")
def node_records_loaded(session: Session, *, since: date | None = None) -> int:
    """Rows loaded by successful batches (read - rejected), over all departments: a count, no content."""
    query = select(func.coalesce(func.sum(Batch.read - Batch.rejected), 0)).where(Batch.status == SUCCEEDED)
    if since is not None:
        query = query.where(Batch.started_at >= datetime.combine(since, datetime.min.time(), tzinfo=BEIJING))
    return int(session.scalar(query) or 0)
