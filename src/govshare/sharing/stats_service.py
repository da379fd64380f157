"""Usage statistics, the providers' timeliness (for 绩效评估), and "who looked at me" for the auditor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.guard import action, public_action
from govshare.auth.permissions import Permission
from govshare.auth.scope import RowScope
from govshare.core.clock import BEIJING, utcnow
from govshare.core.node import node_config
from govshare.errors import InvalidInput
from govshare.sharing import policies
from govshare.sharing import stats_queries as queries
from govshare.sharing.access import subject_digest
from govshare.sharing.repository import SharingRepository
from govshare.sharing.schemas import Timeliness, UsageRow
from govshare.sharing.vocabulary import RequestState
from govshare.sharing.workdays import WorkCalendar
from govshare.standards import validators

GROUPS = ("resource", "provider", "consumer", "application")


@action(Permission.SHARING_STATS)
def usage(session: Session, actor: Actor, *, since: date, until: date, group: str) -> list[UsageRow]:
    """Calls, rows and refusals between two days (Beijing), grouped; a department sees the traffic where
    it is provider or consumer."""
    if group not in GROUPS:
        raise InvalidInput.on("group", f"分组须为 {'、'.join(GROUPS)} 之一")
    if until < since:
        raise InvalidInput.on("until", "结束日期早于开始日期")
    if (until - since).days > 3660:
        raise InvalidInput.on("since", "统计区间不能超过 10 年")
    scope = policies.row_scope(actor, Permission.SHARING_STATS)
    rows = SharingRepository(session).usage(scope, since=since, until=until, group=group)
    return [
        UsageRow(key=str(k), name=str(n or k), calls=int(c or 0), rows=int(r or 0), refusals=int(x or 0))
        for k, n, c, r, x in rows
    ]


@action(Permission.SHARING_STATS)
def timeliness(session: Session, actor: Actor, *, since: date) -> list[Timeliness]:
    """Per provider department: applications decided, how many within the deadline, open ones overdue,
    and the average working days taken."""
    now = utcnow()
    start = datetime.combine(since, datetime.min.time(), tzinfo=BEIJING)
    scope = policies.row_scope(actor, Permission.SHARING_STATS)
    stats: dict[int, dict[str, Any]] = {}
    limit = node_config(session).jurisdiction.sharing.provider_days
    for request in SharingRepository(session).decided_requests(start):
        if not scope.allows(request.provider_department_id):
            continue
        entry = stats.setdefault(
            request.provider_department_id, {"decided": 0, "within": 0, "overdue": 0, "days": []}
        )
        if request.decided_at is not None and request.provider_working_days is not None:
            entry["decided"] += 1
            entry["days"].append(request.provider_working_days)
            entry["within"] += request.provider_working_days <= limit
        elif request.state == RequestState.PENDING.value and request.due_at and request.due_at < now:
            entry["overdue"] += 1
    names = queries.departments_by_id(session, stats)
    return [
        Timeliness(
            department_code=names[i].code,
            department_name=names[i].name,
            decided=v["decided"],
            within_deadline=v["within"],
            overdue_open=v["overdue"],
            average_working_days=round(sum(v["days"]) / len(v["days"]), 1) if v["days"] else None,
        )
        for i, v in sorted(stats.items())
    ]


@action(Permission.ACCESS_TRACE)
def who_looked(session: Session, actor: Actor, number: str, *, limit: int = 200) -> dict[str, Any]:
    """Which departments and applications read this person's or organisation's data, when, for what
    purpose and through which resource. The lookup itself is audited (the number is not written)."""
    text = number.strip().upper()
    person, org = validators.id_number(text), validators.uscc(text)
    if not (person.ok or org.ok):
        raise InvalidInput.on("number", "须为有效的公民身份号码或统一社会信用代码")
    value = str((person if person.ok else org).value)
    digest = subject_digest(node_config(session).audit_key, value)
    found = SharingRepository(session).accesses_of(digest, max(1, min(limit, 1000)))
    resources = _resource_names(session, {r for _, r in found})
    accesses = [
        {
            "at": entry.occurred_at.isoformat(),
            "department": entry.department_code,
            "application": entry.application_code,
            "action": entry.action,
            "resource": resources.get(resource_id, ("", ""))[0],
            "resource_name": resources.get(resource_id, ("", ""))[1],
            "purpose": entry.purpose,
            "operator": entry.detail.get("operator"),
            "outcome": entry.outcome,
            "audit_seq": entry.seq,
        }
        for entry, resource_id in found
    ]
    audit.record(
        session,
        actor,
        "audit.trace",
        target_type="subject",
        target_id=digest[:16],
        detail={"kind": "person" if person.ok else "org", "found": len(accesses)},
    )
    return {"kind": "person" if person.ok else "org", "accesses": accesses}


_resource_names = queries.resource_names


@action(Permission.SHARING_STATS)
def default_period(session: Session, actor: Actor) -> tuple[date, date]:
    today = utcnow().astimezone(BEIJING).date()
    return today - timedelta(days=29), today


# --- the portal's home page and department dashboard (aggregated in SQL) ---------------------------------

SIDES = ("provider", "consumer")


class UsageDay(BaseModel):
    day: str  # YYYY-MM-DD (Beijing, as counted)
    calls: int
    rows: int
    refusals: int


class OpenRequest(BaseModel):
    number: str
    state: str  # label
    resource_name: str
    consumer_department: str
    application: str
    submitted_at: datetime
    due_at: datetime | None
    working_days_left: int | None  # negative once overdue
    overdue: bool


def _stats_department(actor: Actor, department_id: int, name: str) -> RowScope:
    return row_scope.for_department(actor, Permission.SHARING_STATS, department_id, action_name=name)


def _side(side: str) -> str:
    if side not in SIDES:
        raise InvalidInput.on(
            "side", "须为 provider（本部门数据被使用）或 consumer（本部门应用使用他部门数据）"
        )
    return side


@action(Permission.SHARING_STATS)
def usage_by_day(
    session: Session, actor: Actor, *, department_id: int, side: str, since: date, until: date
) -> list[UsageDay]:
    """Calls, rows and refusals per day: of the department's data by consumers (provider side) or of
    others' data by the department's applications (consumer side)."""
    side = _side(side)
    scope = _stats_department(actor, department_id, "sharing.usage_by_day")
    rows = queries.usage_by_day(session, scope, side, since, until)
    return [
        UsageDay(day=str(d)[:10], calls=int(c or 0), rows=int(r or 0), refusals=int(x or 0))
        for d, c, r, x in rows
    ]


@action(Permission.SHARING_STATS)
def usage_by_counterpart(
    session: Session, actor: Actor, *, department_id: int, side: str, since: date, until: date
) -> list[UsageRow]:
    """Provider side: which consuming applications used the department's data; consumer side: which
    resources of other departments the department's applications used."""
    side = _side(side)
    scope = _stats_department(actor, department_id, "sharing.usage_by_counterpart")
    return [
        UsageRow(
            key=str(k or ""),
            name=str(n or k or ""),
            calls=int(c or 0),
            rows=int(r or 0),
            refusals=int(x or 0),
        )
        for k, n, c, r, x in queries.usage_by_counterpart(session, scope, side, since, until)
    ]


@action(Permission.SHARING_STATS)
def open_as_provider(session: Session, actor: Actor, *, department_id: int) -> list[OpenRequest]:
    """Applications waiting on the department as provider (or at 符合性审查 before it), with the
    working days left before their deadline, the overdue first."""
    scope = _stats_department(actor, department_id, "sharing.open_as_provider")
    now = utcnow()
    calendar = WorkCalendar(node_config(session).jurisdiction.sharing)
    rows = queries.open_as_provider(session, scope)
    found = [
        OpenRequest(
            number=request.number,
            state=RequestState(request.state).label,
            resource_name=resource_name,
            consumer_department=consumer_name,
            application=application_name,
            submitted_at=request.submitted_at,
            due_at=request.due_at,
            working_days_left=calendar.working_days_left(now, request.due_at) if request.due_at else None,
            overdue=bool(request.due_at and request.due_at < now),
        )
        for request, resource_name, consumer_name, application_name in rows
    ]
    return sorted(found, key=lambda r: not r.overdue)


@action(Permission.SHARING_APPROVE, Permission.SHARING_SUPERVISE)
def awaiting_me(session: Session, actor: Actor) -> int:
    """The "待办" count: applications pending the actor's department's decision (an approver) plus those at
    符合性审查 or escalated for coordination (the 主管部门's reviewer)."""
    total = 0
    if actor.scope_of(Permission.SHARING_APPROVE) is not None:
        total += queries.pending_count(session, policies.row_scope(actor, Permission.SHARING_APPROVE))
    if actor.scope_of(Permission.SHARING_SUPERVISE) is not None:
        total += queries.supervised_count(session)
    return total


@public_action("the home page shows the node's data API calls of the last days: one count")
def node_calls(session: Session, *, days: int = 30) -> int:
    today = utcnow().astimezone(BEIJING).date()
    since = today - timedelta(days=max(1, days) - 1)
    return queries.calls_since(session, since)
