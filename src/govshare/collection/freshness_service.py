"""Whether a resource's data keeps to its update cycle (更新及时性): the last successful collection batch
against the cycle the catalog declares — 按时更新, 已逾期 N 天, or 尚无数据."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import UpdateCycle
from govshare.collection.repository import CollectionRepository
from govshare.collection.service import CYCLES
from govshare.core.clock import utcnow

ON_TIME, OVERDUE, NO_DATA, IRREGULAR = "on_time", "overdue", "no_data", "irregular"


@dataclass(frozen=True)
class Freshness:
    state: str  # on_time / overdue / no_data / irregular
    label: str  # 按时更新 / 已逾期 N 天 / 尚无数据 / 不定期更新
    cycle: str | None
    last_success_at: datetime | None
    due_at: datetime | None  # when the next update is due (None without data or a fixed cycle)
    overdue_days: int = 0


@internal("the status computed from a time and a cycle: reads nothing, decides no access")
def assess(cycle: str | None, last_success_at: datetime | None, now: datetime) -> Freshness:
    """The status of data last loaded at `last_success_at` under `cycle` (an UpdateCycle value)."""
    if last_success_at is None:
        return Freshness(NO_DATA, "尚无数据", cycle, None, None)
    interval: timedelta | None = CYCLES.get(cycle or "")
    if interval is None:
        return Freshness(IRREGULAR, "不定期更新", cycle, last_success_at, None)
    due = last_success_at + interval
    if now <= due:
        return Freshness(ON_TIME, "按时更新", cycle, last_success_at, due)
    days = max(1, (now - due).days)
    return Freshness(OVERDUE, f"已逾期 {days} 天", cycle, last_success_at, due, days)


@action(Permission.CATALOG_READ)
def resource_freshness(
    session: Session, actor: Actor, resource_id: int, cycle: str | None, *, now: datetime | None = None
) -> Freshness:
    """The update status of one resource: its last successful batch (any source) against `cycle`."""
    last = CollectionRepository(session).last_success_at(resource_id)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if cycle is not None:
        try:
            cycle = UpdateCycle.parse(cycle).value
        except ValueError:
            cycle = None
    return assess(cycle, last, now or utcnow())
