"""归集统计: batch volumes and rejection rates per day, the update timeliness of a department's
resources, quarantined batches awaiting attention, and the node's total of records loaded. Aggregated in
SQL (GROUP BY); a department's staff see their own department, the platform admin and the auditor any."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.orm import Session

from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.guard import action, public_action
from govshare.auth.scope import RowScope
from govshare.catalog.vocabulary import UpdateCycle
from govshare.collection import policies
from govshare.collection import stats_queries as queries
from govshare.collection.service import CYCLES
from govshare.core.clock import utcnow

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


def _scope(actor: Actor, department_id: int | None, name: str) -> RowScope:
    """Every department for a node-wide reader (else its own); or the one asked for, if allowed."""
    if department_id is None:
        return policies.row_scope(actor)
    return row_scope.for_department(actor, policies.READ, department_id, action_name=name)


@action(policies.READ)
def batches_by_day(
    session: Session, actor: Actor, *, department_id: int | None = None, days: int = 30
) -> list[BatchDay]:
    """Per day of the last `days`: batches, rows read, loaded and rejected (to quarantine)."""
    scope = _scope(actor, department_id, "collection.batches_by_day")
    since = utcnow() - timedelta(days=max(1, min(days, 3660)))
    return [
        BatchDay(day=str(d)[:10], batches=n, read=r, loaded=r - x, rejected=x)
        for d, n, r, x in queries.batches_by_day(session, scope, since)
    ]


@action(policies.READ)
def quarantined_batches(session: Session, actor: Actor, *, department_id: int | None = None) -> int:
    """Batches with rejected records nobody has reprocessed yet (待处理的隔离批次)."""
    return queries.quarantined_batches(
        session, _scope(actor, department_id, "collection.quarantined_batches")
    )


@action(policies.READ)
def update_timeliness(
    session: Session, actor: Actor, *, department_id: int, now: datetime | None = None
) -> list[Timeliness]:
    """Each published resource of the department: its update cycle, when a batch last loaded it, and
    whether that is within the cycle."""
    scope = _scope(actor, department_id, "collection.update_timeliness")
    now = now or utcnow()
    result: list[Timeliness] = []
    for code, name, cycle, loaded_at in queries.last_loads(session, scope):
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
    return queries.records_loaded(session, since)
