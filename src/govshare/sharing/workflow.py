"""What every step of the sharing workflow shares: the published resource a request is about, its items
and scope checks, the working-day clock, the request looked up for update, state expectations, the
reasons the services insist on, and the audit entry of each step. Used by service.py (applications,
decisions, grants) and negotiation.py (协商)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from govshare.applications import readers as application_readers
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import internal, require_scope
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import readers as catalog_readers
from govshare.catalog.vocabulary import ShareType, VersionState
from govshare.core.clock import BEIJING
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.models import Application, Resource, ResourceItem, ResourceVersion, ShareGrant, ShareRequest
from govshare.sharing.repository import SharingRepository
from govshare.sharing.vocabulary import (
    CLOCKED_STATES,
    GrantAction,
    GrantState,
    RequestAction,
    RequestKind,
    RequestState,
)
from govshare.sharing.workdays import WorkCalendar

S = RequestState
OPEN = (S.PREREVIEW.value, S.PENDING.value)
NEGOTIABLE = (S.REFUSED.value, S.PREREVIEW_REJECTED.value, S.PARTIAL.value)


@dataclass(frozen=True)
class Published:
    resource: Resource
    version: ResourceVersion

    @property
    def items(self) -> dict[str, ResourceItem]:
        return {item.field_name: item for item in self.version.items}

    def item_share(self, item: ResourceItem) -> ShareType:
        return ShareType(item.share_type or self.version.share_type)

    @property
    def share_type(self) -> ShareType:
        return ShareType(self.version.share_type)


@internal("the sharing actions call it after their own check")
def published(session: Session, code: str) -> Published:
    resource = catalog_readers.resource_by_code(session, code)
    if resource is None:
        raise NotFound(f"信息资源“{code}”不存在")
    version = next((v for v in resource.versions if v.state == VersionState.PUBLISHED.value), None)
    if version is None or resource.status != "active":
        raise Conflict(f"信息资源“{code}”未发布或已下架")
    return Published(resource, version)


def work_calendar(session: Session) -> WorkCalendar:
    return WorkCalendar(node_config(session).jurisdiction.sharing)


def application_for(session: Session, actor: Actor, code: str, action_name: str) -> Application:
    application = application_readers.application_by_code(session, code)
    if application is None or not application.is_active:
        raise NotFound(f"应用系统“{code}”不存在或已停用")
    require_scope(
        actor,
        Permission.SHARING_APPLY,
        department_id=application.department_id,
        action_name=action_name,
        target_type="application",
        target_id=code,
    )
    return application


def local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(UTC)


def local_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=BEIJING).astimezone(UTC)


def check_items(target: Published, fields: list[str], where: str) -> None:
    items = target.items
    for position, name in enumerate(fields):
        item = items.get(name)
        if item is None:
            raise InvalidInput.on(f"{where}[{position}]", f"资源“{target.version.name}”没有信息项“{name}”")
        if target.item_share(item) == ShareType.NONE:
            raise InvalidInput.on(f"{where}[{position}]", f"信息项“{item.name}”为不予共享，不能申请")


def check_scope(target: Published, scope: dict[str, list[str]], where: str) -> None:
    items = target.items
    for name in scope:
        if name not in items:
            raise InvalidInput.on(f"{where}.{name}", f"资源没有信息项“{name}”，不能作为记录范围")


def reason_text(text: str, field: str = "reason") -> str:
    """A reason the service itself insists on (the API models check it too; other callers may not)."""
    cleaned = (text or "").strip()
    problem = text_problem(cleaned)
    if problem:
        raise InvalidInput.on(field, problem)
    if len(cleaned) < 2:
        raise InvalidInput.on(field, "须说明理由")
    return cleaned


def request_number(request: ShareRequest) -> str:
    return f"SQ-{request.submitted_at.astimezone(BEIJING).year}-{request.id:06d}"


def start_clock(session: Session, request: ShareRequest, days: int, now: datetime) -> None:
    deadline = work_calendar(session).add_working_days(now, days)
    request.stage_started_at, request.due_at = now, deadline.due_at
    request.provisional_calendar = deadline.provisional
    request.reminded_at = request.escalated_at = None


def audit_request(session: Session, actor: Actor, name: str, request: ShareRequest, **detail: object) -> None:
    audit.record(
        session,
        actor,
        name,
        target_type="share_request",
        target_id=request.number,
        detail={"state": request.state, **detail},
    )


def request_for_update(session: Session, number: str) -> ShareRequest:
    request = SharingRepository(session).request_by_number(number, lock=True)
    if request is None:
        raise NotFound(f"共享申请“{number}”不存在")
    return request


def expect_state(request: ShareRequest, *states: str) -> None:
    if request.state not in states:
        labels = "、".join(RequestState(s).label for s in states)
        raise Conflict(
            f"申请 {request.number} 当前为“{RequestState(request.state).label}”，只有“{labels}”的申请可以办理"
        )


def consumer_may(actor: Actor, request: ShareRequest, action_name: str) -> None:
    require_scope(
        actor,
        Permission.SHARING_APPLY,
        department_id=request.consumer_department_id,
        action_name=action_name,
        target_type="share_request",
        target_id=request.number,
    )


# ---------------------------------------------------------------- who may take which step, and the clock


@dataclass(frozen=True)
class StepRule:
    """One step of the workflow: the party that takes it (by the permission it needs), the states it may be
    taken in, and the kinds of application it applies to. The services check the same rule when the step is
    taken (`expect_state(request, *STEPS[name].states)`), so what a page or API client is offered is what
    the service will accept."""

    permission: Permission
    party: str  # "provider", "consumer" (the permission for that department) or "supervisor" (any scope)
    states: tuple[str, ...]
    kinds: tuple[str, ...] = (RequestKind.APPLY.value, RequestKind.NEGOTIATE.value)


STEPS: dict[RequestAction, StepRule] = {
    "approve": StepRule(
        Permission.SHARING_APPROVE, "provider", (S.PENDING.value,), (RequestKind.APPLY.value,)
    ),
    "refuse": StepRule(
        Permission.SHARING_APPROVE, "provider", (S.PENDING.value,), (RequestKind.APPLY.value,)
    ),
    "answer": StepRule(Permission.SHARING_APPROVE, "provider", (S.NEGOTIATING.value,)),
    "withdraw": StepRule(Permission.SHARING_APPLY, "consumer", (*OPEN, S.NEGOTIATING.value)),
    "dispute": StepRule(Permission.SHARING_APPLY, "consumer", NEGOTIABLE),
    "escalate": StepRule(Permission.SHARING_APPLY, "consumer", (S.NEGOTIATING.value,)),
    "prereview": StepRule(Permission.SHARING_SUPERVISE, "supervisor", (S.PREREVIEW.value,)),
    "settle": StepRule(Permission.SHARING_SUPERVISE, "supervisor", (S.ESCALATED.value, S.NEGOTIATING.value)),
}
# What waits for the 主管部门 (its inbox, `service.list_requests(side="supervise")`): every state in which
# one of its steps may be taken.
SUPERVISOR_STATES = tuple(
    dict.fromkeys(state for rule in STEPS.values() if rule.party == "supervisor" for state in rule.states)
)


def _takes_part(actor: Actor, rule: StepRule, request: ShareRequest) -> bool:
    scope = actor.scope_of(rule.permission)
    if rule.party == "supervisor" or scope == Scope.ALL:
        return scope is not None
    department = (
        request.provider_department_id if rule.party == "provider" else request.consumer_department_id
    )
    return scope == Scope.OWN_DEPARTMENT and actor.department_id == department


@internal(
    "a predicate over the actor's own grants and a request the caller already read through a guarded action"
)
def allowed_actions(actor: Actor, request: ShareRequest) -> list[RequestAction]:
    """The steps `actor` may take on `request` in its present state, in the order of `STEPS`: what the
    request page offers as forms and the API returns as `allowed_actions`."""
    return [
        name
        for name, rule in STEPS.items()
        if request.state in rule.states and request.kind in rule.kinds and _takes_part(actor, rule, request)
    ]


def working_days_left(calendar: WorkCalendar, request: ShareRequest, now: datetime) -> int | None:
    """Working days until the request's deadline (negative once overdue) while its clock runs; None when no
    clock runs (decided, withdrawn, or no deadline)."""
    if request.due_at is None or request.state not in CLOCKED_STATES:
        return None
    return calendar.working_days_left(now, request.due_at)


@internal(
    "a predicate over the actor's own grants and a grant the caller already read through a guarded action"
)
def may_revoke(actor: Actor, grant: ShareGrant) -> bool:
    """The provider department revokes a grant, or the consumer department gives it up; `service.revoke_grant`
    refuses everyone else."""
    approve = actor.scope_of(Permission.SHARING_APPROVE)
    as_provider = approve == Scope.ALL or (
        approve is not None and actor.department_id == grant.provider_department_id
    )
    as_consumer = (
        actor.scope_of(Permission.SHARING_APPLY) is not None
        and actor.department_id == grant.consumer_department_id
    )
    return as_provider or as_consumer


@internal(
    "a predicate over the actor's own grants and a grant the caller already read through a guarded action"
)
def grant_actions(actor: Actor, grant: ShareGrant, state: GrantState) -> list[GrantAction]:
    """What `actor` may do with `grant` in its state: revoke it while it is in force or yet to be."""
    live = state in (GrantState.ACTIVE, GrantState.NOT_YET)
    return ["revoke"] if live and may_revoke(actor, grant) else []
