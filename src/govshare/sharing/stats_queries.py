"""The SQL of sharing's statistics (sharing/stats_service.py): usage counters per day and per
counterpart, the requests waiting on a provider, the 待办 counts, each narrowed to a `RowScope` in SQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from govshare.auth.scope import RowScope, restrict
from govshare.models import Application, Department, Resource, ResourceVersion, ShareRequest, UsageDaily
from govshare.sharing.vocabulary import RequestState


def side_column(side: str) -> Any:
    """The usage counter's department column for a side: provider or consumer."""
    return UsageDaily.provider_department_id if side == "provider" else UsageDaily.consumer_department_id


def departments_by_id(session: Session, ids: set[int] | dict[int, Any]) -> dict[int, Department]:
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(ids)))}


def resource_names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Resource id -> (code, name of its newest version)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Resource.id, Resource.code, ResourceVersion.name)
        .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
        .where(Resource.id.in_(ids))
        .order_by(ResourceVersion.number)
    )
    return {rid: (code or "", name) for rid, code, name in rows}


def usage_by_day(session: Session, scope: RowScope, side: str, since: date, until: date) -> list[Any]:
    """(day, calls, rows, refusals) per day, for the scope's departments on `side`."""
    query = (
        select(
            UsageDaily.day,
            func.sum(UsageDaily.calls),
            func.sum(UsageDaily.rows),
            func.sum(UsageDaily.refusals),
        )
        .where(UsageDaily.day >= since, UsageDaily.day <= until)
        .group_by(UsageDaily.day)
        .order_by(UsageDaily.day)
    )
    return list(session.execute(restrict(query, scope, side_column(side))))


def usage_by_counterpart(session: Session, scope: RowScope, side: str, since: date, until: date) -> list[Any]:
    """(key, name, calls, rows, refusals): per consuming application (provider side) or per resource
    used (consumer side), most calls first."""
    totals = (func.sum(UsageDaily.calls), func.sum(UsageDaily.rows), func.sum(UsageDaily.refusals))
    query: Any
    if side == "provider":
        query = (
            select(Application.code, func.max(Department.name + "·" + Application.name), *totals)
            .join(Application, Application.id == UsageDaily.application_id)
            .join(Department, Department.id == UsageDaily.consumer_department_id)
            .group_by(Application.code)
        )
    else:
        query = (
            select(Resource.code, func.max(ResourceVersion.name), *totals)
            .join(Resource, Resource.id == UsageDaily.resource_id)
            .outerjoin(
                ResourceVersion,
                and_(ResourceVersion.resource_id == Resource.id, ResourceVersion.state == "published"),
            )
            .group_by(Resource.code)
        )
    query = query.where(UsageDaily.day >= since, UsageDaily.day <= until).order_by(
        func.sum(UsageDaily.calls).desc()
    )
    return list(session.execute(restrict(query, scope, side_column(side))))


def open_as_provider(session: Session, scope: RowScope) -> list[Any]:
    """(request, resource name, consumer department name, application name) of the requests at 符合性审查
    or pending a provider in scope, by deadline."""
    consumer = aliased(Department)
    query = (
        select(ShareRequest, ResourceVersion.name, consumer.name, Application.name)
        .join(ResourceVersion, ResourceVersion.id == ShareRequest.version_id)
        .join(consumer, consumer.id == ShareRequest.consumer_department_id)
        .join(Application, Application.id == ShareRequest.application_id)
        .where(ShareRequest.state.in_([RequestState.PREREVIEW.value, RequestState.PENDING.value]))
        .order_by(ShareRequest.due_at, ShareRequest.id)
    )
    return list(session.execute(restrict(query, scope, ShareRequest.provider_department_id)))


def pending_count(session: Session, scope: RowScope) -> int:
    """Requests pending a provider's decision, for providers in scope."""
    query = select(func.count()).where(ShareRequest.state == RequestState.PENDING.value)
    return int(session.scalar(restrict(query, scope, ShareRequest.provider_department_id)) or 0)


def supervised_count(session: Session) -> int:
    """Requests at 符合性审查 or escalated for coordination (node-wide: the 主管部门's work)."""
    query = select(func.count()).where(
        ShareRequest.state.in_([RequestState.PREREVIEW.value, RequestState.ESCALATED.value])
    )
    return int(session.scalar(query) or 0)


def calls_since(session: Session, since: date) -> int:
    """Data API calls counted since `since`, node-wide."""
    return int(
        session.scalar(select(func.coalesce(func.sum(UsageDaily.calls), 0)).where(UsageDaily.day >= since))
        or 0
    )
