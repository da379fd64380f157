"""Usage statistics, the providers' timeliness (for 绩效评估), and "who looked at me" for the auditor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission, Scope
from govshare.core.clock import BEIJING, utcnow
from govshare.core.node import node_config
from govshare.errors import InvalidInput
from govshare.models import Department, Resource, ResourceVersion
from govshare.sharing.access import subject_digest
from govshare.sharing.repository import SharingRepository
from govshare.sharing.schemas import Timeliness, UsageRow
from govshare.sharing.vocabulary import RequestState
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
    department = (
        None if actor.scope_of(Permission.SHARING_STATS) == Scope.ALL else (actor.department_id or -1)
    )
    rows = SharingRepository(session).usage(since=since, until=until, group=group, department_id=department)
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
    department = None if actor.scope_of(Permission.SHARING_STATS) == Scope.ALL else actor.department_id
    stats: dict[int, dict[str, Any]] = {}
    limit = node_config(session).jurisdiction.sharing.provider_days
    for request in SharingRepository(session).decided_requests(start):
        if department is not None and request.provider_department_id != department:
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
    names = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(stats)))}
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


def _resource_names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Resource.id, Resource.code, ResourceVersion.name)
        .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
        .where(Resource.id.in_(ids))
        .order_by(ResourceVersion.number)
    )
    return {rid: (code or "", name) for rid, code, name in rows}


@action(Permission.SHARING_STATS)
def default_period(session: Session, actor: Actor) -> tuple[date, date]:
    today = utcnow().astimezone(BEIJING).date()
    return today - timedelta(days=29), today
