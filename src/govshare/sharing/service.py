"""Applications for data (共享申请), their approval on the legal deadlines, and the grants they compile into.

无条件 items are subscribed to and granted at once; 有条件 data is applied for and the provider department
approves (possibly fewer items, fewer rows, a shorter period or smaller quotas) or refuses with a reason,
after an optional 符合性审查 by the 主管部门; 不予共享 resources can never be granted, only negotiated (协商)
and escalated. A grant never exceeds what the catalog allows, nor what was asked for; the provider imposes
no condition beyond the structured ones (国务院令第809号).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from govshare.applications.repository import ApplicationRepository
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal, require_scope
from govshare.auth.permissions import Permission, Scope
from govshare.catalog.repository import CatalogRepository
from govshare.catalog.vocabulary import ShareType, VersionState
from govshare.core.clock import BEIJING, utcnow
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.errors import Conflict, DenialContext, InvalidInput, NotFound, PermissionDenied
from govshare.models import Application, Resource, ResourceItem, ResourceVersion, ShareGrant, ShareRequest
from govshare.sharing.policies import can_see, visible_department
from govshare.sharing.repository import SharingRepository
from govshare.sharing.schemas import ApplyIn, DecisionIn, NegotiateIn, SubscribeIn
from govshare.sharing.vocabulary import GrantKind, RequestKind, RequestState
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
    resource = CatalogRepository(session).by_code(code)
    if resource is None:
        raise NotFound(f"信息资源“{code}”不存在")
    version = next((v for v in resource.versions if v.state == VersionState.PUBLISHED.value), None)
    if version is None or resource.status != "active":
        raise Conflict(f"信息资源“{code}”未发布或已下架")
    return Published(resource, version)


def _calendar(session: Session) -> WorkCalendar:
    return WorkCalendar(node_config(session).jurisdiction.sharing)


def _application(session: Session, actor: Actor, code: str, action_name: str) -> Application:
    application = ApplicationRepository(session).by_code(code)
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


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(UTC)


def _local_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=BEIJING).astimezone(UTC)


def _check_items(target: Published, fields: list[str], where: str) -> None:
    items = target.items
    for position, name in enumerate(fields):
        item = items.get(name)
        if item is None:
            raise InvalidInput.on(f"{where}[{position}]", f"资源“{target.version.name}”没有信息项“{name}”")
        if target.item_share(item) == ShareType.NONE:
            raise InvalidInput.on(f"{where}[{position}]", f"信息项“{item.name}”为不予共享，不能申请")


def _check_scope(target: Published, scope: dict[str, list[str]], where: str) -> None:
    items = target.items
    for name in scope:
        if name not in items:
            raise InvalidInput.on(f"{where}.{name}", f"资源没有信息项“{name}”，不能作为记录范围")


def _reason(text: str, field: str = "reason") -> str:
    """A reason the service itself insists on (the API models check it too; other callers may not)."""
    cleaned = (text or "").strip()
    problem = text_problem(cleaned)
    if problem:
        raise InvalidInput.on(field, problem)
    if len(cleaned) < 2:
        raise InvalidInput.on(field, "须说明理由")
    return cleaned


def _number(request: ShareRequest) -> str:
    return f"SQ-{request.submitted_at.astimezone(BEIJING).year}-{request.id:06d}"


def _start_clock(session: Session, request: ShareRequest, days: int, now: datetime) -> None:
    deadline = _calendar(session).add_working_days(now, days)
    request.stage_started_at, request.due_at = now, deadline.due_at
    request.provisional_calendar = deadline.provisional
    request.reminded_at = request.escalated_at = None


def _audit(session: Session, actor: Actor, name: str, request: ShareRequest, **detail: object) -> None:
    audit.record(
        session,
        actor,
        name,
        target_type="share_request",
        target_id=request.number,
        detail={"state": request.state, **detail},
    )


@action(Permission.SHARING_APPLY)
def apply(session: Session, actor: Actor, data: ApplyIn) -> ShareRequest:
    """File an application for a 有条件 resource on behalf of one of the department's applications."""
    application = _application(session, actor, data.application, "sharing.apply")
    target = published(session, data.resource)
    if target.resource.department_id == application.department_id:
        raise InvalidInput.on("resource", "本部门的信息资源无需共享申请")
    if target.share_type == ShareType.NONE:
        raise InvalidInput.on("resource", "该资源为不予共享，不能申请；如确有需要，可发起协商")
    if target.share_type == ShareType.UNCONDITIONAL:
        raise InvalidInput.on("resource", "该资源为无条件共享，请直接订阅，无需申请")
    _check_items(target, data.items, "items")
    extra = [f for f in data.clear_items if f not in data.items]
    if extra:
        raise InvalidInput.on("clear_items", f"明文信息项须在申请的信息项之内：{'、'.join(extra)}")
    _check_scope(target, data.row_scope, "row_scope")
    rules = node_config(session).jurisdiction.sharing
    today = utcnow().astimezone(BEIJING).date()
    if data.period_end < data.period_start:
        raise InvalidInput.on("period_end", "使用期限的结束日期早于开始日期")
    if data.period_end < today:
        raise InvalidInput.on("period_end", "使用期限已过")
    if (data.period_end - data.period_start).days + 1 > rules.max_grant_days:
        raise InvalidInput.on("period_end", f"使用期限不能超过 {rules.max_grant_days} 天")
    repo = SharingRepository(session)
    if repo.open_request(application.id, target.resource.id, (*OPEN, S.NEGOTIATING.value, S.ESCALATED.value)):
        raise Conflict("该应用对此资源已有办理中的申请，请等待答复或先撤回")
    now = utcnow()
    prereview = rules.prereview_days > 0
    request = ShareRequest(
        number=f"tmp-{now.timestamp()}-{application.id}",
        kind=RequestKind.APPLY.value,
        state=(S.PREREVIEW if prereview else S.PENDING).value,
        resource_id=target.resource.id,
        version_id=target.version.id,
        provider_department_id=target.resource.department_id,
        application_id=application.id,
        consumer_department_id=application.department_id,
        purpose_kind=data.purpose_kind.value,
        purpose=data.purpose,
        basis=data.basis,
        items=data.items,
        clear_items=data.clear_items,
        row_scope=data.row_scope,
        period_start=data.period_start,
        period_end=data.period_end,
        requests_per_day=data.requests_per_day,
        rows_per_day=data.rows_per_day,
        requested_by=actor.name,
        submitted_at=now,
    )
    _start_clock(session, request, rules.prereview_days if prereview else rules.provider_days, now)
    session.add(request)
    session.flush()
    request.number = _number(request)
    request.resource, request.application = target.resource, application
    session.flush()
    _audit(
        session, actor, "sharing.apply", request, resource=target.resource.code, items=",".join(data.items)
    )
    return request


@action(Permission.SHARING_APPLY)
def negotiate(session: Session, actor: Actor, data: NegotiateIn) -> ShareRequest:
    """Record a 协商 request about a 不予共享 resource; the provider answers, or it is escalated."""
    application = _application(session, actor, data.application, "sharing.negotiate")
    target = published(session, data.resource)
    if target.share_type != ShareType.NONE:
        raise InvalidInput.on("resource", "只有不予共享的资源需要协商；其他资源请订阅或申请")
    if target.resource.department_id == application.department_id:
        raise InvalidInput.on("resource", "本部门的信息资源无需协商")
    now = utcnow()
    request = ShareRequest(
        number=f"tmp-{now.timestamp()}-{application.id}",
        kind=RequestKind.NEGOTIATE.value,
        state=S.NEGOTIATING.value,
        resource_id=target.resource.id,
        version_id=target.version.id,
        provider_department_id=target.resource.department_id,
        application_id=application.id,
        consumer_department_id=application.department_id,
        purpose_kind="other",
        purpose=data.reason,
        basis=target.version.legal_basis,
        items=[],
        period_start=now.astimezone(BEIJING).date(),
        period_end=now.astimezone(BEIJING).date(),
        requested_by=actor.name,
        submitted_at=now,
        negotiation_reason=data.reason,
    )
    _start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, now)
    session.add(request)
    session.flush()
    request.number = _number(request)
    request.resource, request.application = target.resource, application
    session.flush()
    _audit(session, actor, "sharing.negotiate", request, resource=target.resource.code)
    return request


def _request(session: Session, number: str) -> ShareRequest:
    request = SharingRepository(session).request_by_number(number, lock=True)
    if request is None:
        raise NotFound(f"共享申请“{number}”不存在")
    return request


def _expect(request: ShareRequest, *states: str) -> None:
    if request.state not in states:
        labels = "、".join(RequestState(s).label for s in states)
        raise Conflict(
            f"申请 {request.number} 当前为“{RequestState(request.state).label}”，只有“{labels}”的申请可以办理"
        )


@action(Permission.SHARING_SUPERVISE)
def prereview(session: Session, actor: Actor, number: str, *, passed: bool, comment: str) -> ShareRequest:
    """符合性审查 by the 主管部门: pass (the provider's clock starts) or reject with the reason."""
    request = _request(session, number)
    _expect(request, S.PREREVIEW.value)
    if not passed and not comment.strip():
        raise InvalidInput.on("comment", "审查不通过时必须说明理由")
    now = utcnow()
    request.prereview_by, request.prereview_at, request.prereview_comment = actor.name, now, comment or None
    if passed:
        request.state = S.PENDING.value
        _start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, now)
    else:
        request.state, request.due_at, request.closed_at = S.PREREVIEW_REJECTED.value, None, now
    session.flush()
    _audit(session, actor, "sharing.prereview", request, passed=passed)
    return request


def _narrower_scope(asked: dict[str, list[str]], given: dict[str, list[str]]) -> str | None:
    """Why `given` is not within `asked` (a narrower scope may add conditions; it cannot drop or widen)."""
    for name, values in asked.items():
        if name not in given:
            return f"记录范围不能去掉申请中对“{name}”的限定"
        wider = [v for v in given[name] if v not in values]
        if wider:
            return f"记录范围“{name}”超出申请：{'、'.join(wider[:5])}"
    return None


@action(Permission.SHARING_APPROVE)
def decide(session: Session, actor: Actor, number: str, data: DecisionIn) -> ShareRequest:
    """The provider department's answer. Approval compiles the grant; refusal needs its reason."""
    request = _request(session, number)
    require_scope(
        actor,
        Permission.SHARING_APPROVE,
        department_id=request.provider_department_id,
        action_name="sharing.decide",
        target_type="share_request",
        target_id=number,
    )
    _expect(request, S.PENDING.value)
    if request.kind != RequestKind.APPLY.value:
        raise Conflict("协商申请不能审批为授权：不予共享的资源不能授权，请答复协商意见或提请主管部门协调")
    now = utcnow()

    def close() -> None:  # only once the decision is known to be valid: a refused input changes nothing
        request.decided_by, request.decided_at = actor.name, now
        request.provider_working_days = _calendar(session).working_days_between(request.stage_started_at, now)
        request.due_at, request.closed_at = None, now

    if data.decision == "refuse":
        if len(data.reason.strip()) < 4:
            raise InvalidInput.on("reason", "不同意共享必须说明理由（至少 4 个字）")
        close()
        request.state, request.decision_reason = S.REFUSED.value, data.reason
        session.flush()
        _audit(session, actor, "sharing.refuse", request, reason=data.reason)
        return request
    items = data.items if data.items is not None else list(request.items)
    outside = [f for f in items if f not in request.items]
    if outside or not items:
        raise InvalidInput.on("items", f"同意的信息项须在申请范围内：{'、'.join(outside) or '至少一项'}")
    target = published(session, request.resource.code or "")
    _check_items(target, items, "items")  # the catalog may have changed since the application
    clear = (
        data.clear_items if data.clear_items is not None else [f for f in request.clear_items if f in items]
    )
    unasked = [f for f in clear if f not in request.clear_items or f not in items]
    if unasked:
        raise InvalidInput.on(
            "clear_items", f"明文信息项须是申请了明文且已同意的信息项：{'、'.join(unasked)}"
        )
    scope = data.row_scope if data.row_scope is not None else dict(request.row_scope)
    _check_scope(target, scope, "row_scope")
    problem = _narrower_scope(request.row_scope, scope)
    if problem:
        raise InvalidInput.on("row_scope", problem)
    valid_to = data.valid_to or request.period_end
    if valid_to > request.period_end or valid_to < request.period_start:
        raise InvalidInput.on("valid_to", "授权截止日期须在申请的使用期限之内")
    requests_per_day = data.requests_per_day or request.requests_per_day
    rows_per_day = data.rows_per_day or request.rows_per_day
    partial = (
        len(items) < len(request.items)
        or scope != request.row_scope
        or len(clear) < len(request.clear_items)
        or valid_to < request.period_end
        or requests_per_day < request.requests_per_day
        or rows_per_day < request.rows_per_day
    )
    if partial and len(data.reason.strip()) < 4:
        raise InvalidInput.on("reason", "部分同意（信息项、记录范围、期限或配额少于申请）须说明理由")
    close()
    request.state = (S.PARTIAL if partial else S.APPROVED).value
    request.decision_reason = data.reason or None
    request.approved_items, request.approved_clear_items, request.approved_row_scope = items, clear, scope
    # A live subscription's 无条件 items stay granted: the approval's grant replaces it and carries them on
    # (within the approved row scope, which then applies to every item).
    subscribed = SharingRepository(session).live_grant(request.application_id, request.resource_id, now)
    kept = [
        f
        for f in (subscribed.items if subscribed and subscribed.kind == GrantKind.SUBSCRIPTION.value else [])
        if f not in items
        and f in target.items
        and target.item_share(target.items[f]) == ShareType.UNCONDITIONAL
    ]
    grant = _grant(
        session,
        actor,
        kind=GrantKind.APPROVAL,
        application=request.application,
        target=target,
        items=[f for f in target.items if f in items or f in kept],
        clear=clear,
        scope=scope,
        purpose_kind=request.purpose_kind,
        purpose=request.purpose,
        valid_from=max(now, _local_start(request.period_start)),
        valid_to=_local_end(valid_to),
        requests_per_day=min(requests_per_day, request.requests_per_day),
        rows_per_day=min(rows_per_day, request.rows_per_day),
        request=request,
    )
    session.flush()
    _audit(session, actor, "sharing.approve", request, grant=grant.id, items=",".join(items), partial=partial)
    return request


def _grant(
    session: Session,
    actor: Actor,
    *,
    kind: GrantKind,
    application: Application,
    target: Published,
    items: list[str],
    clear: list[str],
    scope: dict[str, list[str]],
    purpose_kind: str,
    purpose: str,
    valid_from: datetime,
    valid_to: datetime,
    requests_per_day: int,
    rows_per_day: int,
    request: ShareRequest | None = None,
) -> ShareGrant:
    """One grant per application and resource: a new one supersedes the one before."""
    now = utcnow()
    for old in SharingRepository(session).unrevoked_grants(application.id, target.resource.id):
        old.revoked_at, old.revoked_by, old.revoked_reason = now, actor.name, "被新的授权取代"
    grant = ShareGrant(
        kind=kind.value,
        request_id=request.id if request else None,
        application_id=application.id,
        consumer_department_id=application.department_id,
        resource_id=target.resource.id,
        provider_department_id=target.resource.department_id,
        items=items,
        clear_items=clear,
        row_scope=scope,
        purpose_kind=purpose_kind,
        purpose=purpose,
        valid_from=valid_from,
        valid_to=valid_to,
        requests_per_day=requests_per_day,
        rows_per_day=rows_per_day,
        created_by=actor.name,
        created_at=now,
    )
    grant.resource, grant.application = target.resource, application
    session.add(grant)
    session.flush()
    return grant


@action(Permission.SHARING_APPLY)
def subscribe(session: Session, actor: Actor, data: SubscribeIn) -> ShareGrant:
    """无条件 items are granted at once to any government application that subscribes (still recorded)."""
    application = _application(session, actor, data.application, "sharing.subscribe")
    target = published(session, data.resource)
    if target.share_type == ShareType.NONE:
        raise InvalidInput.on("resource", "该资源为不予共享，不能订阅")
    if target.resource.department_id == application.department_id:
        raise InvalidInput.on("resource", "本部门的信息资源无需订阅")
    items = target.items
    free = [name for name, item in items.items() if target.item_share(item) == ShareType.UNCONDITIONAL]
    wanted = data.items if data.items is not None else free
    for position, name in enumerate(wanted):
        if name not in items:
            raise InvalidInput.on(f"items[{position}]", f"资源没有信息项“{name}”")
        if name not in free:
            raise InvalidInput.on(
                f"items[{position}]", f"信息项“{items[name].name}”不是无条件共享，须提出共享申请"
            )
    if not wanted:
        raise InvalidInput.on("items", "该资源没有无条件共享的信息项，须提出共享申请")
    live = SharingRepository(session).live_grant(application.id, target.resource.id, utcnow())
    if live is not None and live.kind == GrantKind.APPROVAL.value:
        raise Conflict("该应用已持有此资源的审批授权；订阅会取代它，请先撤销该授权")
    config = node_config(session)
    now = utcnow()
    grant = _grant(
        session,
        actor,
        kind=GrantKind.SUBSCRIPTION,
        application=application,
        target=target,
        items=list(wanted),
        clear=[],
        scope={},
        purpose_kind=data.purpose_kind.value,
        purpose=data.purpose,
        valid_from=now,
        valid_to=now + timedelta(days=config.jurisdiction.sharing.max_grant_days),
        requests_per_day=config.subscription_requests_per_day,
        rows_per_day=config.subscription_rows_per_day,
    )
    audit.record(
        session,
        actor,
        "sharing.subscribe",
        target_type="share_grant",
        target_id=str(grant.id),
        detail={"resource": target.resource.code, "application": application.code, "items": ",".join(wanted)},
    )
    return grant


def _consumer_may(actor: Actor, request: ShareRequest, action_name: str) -> None:
    require_scope(
        actor,
        Permission.SHARING_APPLY,
        department_id=request.consumer_department_id,
        action_name=action_name,
        target_type="share_request",
        target_id=request.number,
    )


@action(Permission.SHARING_APPLY)
def withdraw(session: Session, actor: Actor, number: str) -> ShareRequest:
    request = _request(session, number)
    _consumer_may(actor, request, "sharing.withdraw")
    _expect(request, *OPEN, S.NEGOTIATING.value)
    request.state, request.due_at, request.closed_at = S.WITHDRAWN.value, None, utcnow()
    session.flush()
    _audit(session, actor, "sharing.withdraw", request)
    return request


@action(Permission.SHARING_APPLY)
def dispute(session: Session, actor: Actor, number: str, reason: str) -> ShareRequest:
    """The applicant disagrees with a refusal (or a partial approval, or a failed 符合性审查): 协商."""
    request = _request(session, number)
    _consumer_may(actor, request, "sharing.dispute")
    _expect(request, *NEGOTIABLE)
    request.state, request.negotiation_reason = S.NEGOTIATING.value, _reason(reason)
    _start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, utcnow())
    session.flush()
    _audit(session, actor, "sharing.dispute", request, reason=reason)
    return request


@action(Permission.SHARING_APPLY)
def escalate(session: Session, actor: Actor, number: str, reason: str) -> ShareRequest:
    """协商 failed: the applicant takes it to the 共享主管部门."""
    request = _request(session, number)
    _consumer_may(actor, request, "sharing.escalate")
    _expect(request, S.NEGOTIATING.value)
    reason = _reason(reason)
    request.state, request.escalated_at, request.due_at = S.ESCALATED.value, utcnow(), None
    request.negotiation_reason = f"{request.negotiation_reason or ''}\n提请协调：{reason}".strip()
    session.flush()
    _audit(session, actor, "sharing.escalate", request, reason=reason)
    return request


@action(Permission.SHARING_SUPERVISE)
def settle(session: Session, actor: Actor, number: str, *, outcome: str, comment: str) -> ShareRequest:
    """The 主管部门 settles a 协商: directs the provider to decide again (reopen) or closes it."""
    request = _request(session, number)
    _expect(request, S.ESCALATED.value, S.NEGOTIATING.value)
    comment = _reason(comment, "comment")
    if outcome not in ("reopen", "close"):
        raise InvalidInput.on("outcome", "须为 reopen（责成重新审批）或 close（办结）")
    if outcome == "reopen":
        if request.kind != RequestKind.APPLY.value:
            raise Conflict("不予共享资源的协商不能责成审批：不予共享的资源不能授权")
        request.state = S.PENDING.value
        request.decided_by = request.decided_at = request.decision_reason = None
        _start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, utcnow())
    else:
        request.state, request.closed_at, request.due_at = S.SETTLED.value, utcnow(), None
    request.negotiation_outcome = comment
    session.flush()
    _audit(session, actor, "sharing.settle", request, outcome=outcome)
    return request


@action(Permission.SHARING_APPROVE)
def answer_negotiation(session: Session, actor: Actor, number: str, reason: str) -> ShareRequest:
    """The provider's written answer to a 协商 (the applicant may still escalate)."""
    request = _request(session, number)
    require_scope(
        actor,
        Permission.SHARING_APPROVE,
        department_id=request.provider_department_id,
        action_name="sharing.answer",
        target_type="share_request",
        target_id=number,
    )
    _expect(request, S.NEGOTIATING.value)
    request.negotiation_outcome, request.due_at = _reason(reason), None
    session.flush()
    _audit(session, actor, "sharing.answer", request)
    return request


@action(Permission.SHARING_APPROVE, Permission.SHARING_APPLY)
def revoke_grant(session: Session, actor: Actor, grant_id: int, reason: str) -> ShareGrant:
    """The provider revokes, or the consumer gives the grant up; it stops at the next request."""
    grant = SharingRepository(session).grant(grant_id)
    if grant is None or not can_see(actor, grant.consumer_department_id, grant.provider_department_id):
        raise NotFound(f"授权 {grant_id} 不存在")
    as_provider = actor.scope_of(Permission.SHARING_APPROVE) == Scope.ALL or (
        actor.scope_of(Permission.SHARING_APPROVE) and actor.department_id == grant.provider_department_id
    )
    as_consumer = (
        actor.scope_of(Permission.SHARING_APPLY) and actor.department_id == grant.consumer_department_id
    )
    if not (as_provider or as_consumer):
        raise PermissionDenied(
            "只有提供部门或使用部门可以撤销授权",
            context=DenialContext(
                action="sharing.revoke",
                permission=Permission.SHARING_APPROVE,
                target_type="share_grant",
                target_id=str(grant_id),
            ),
        )
    if grant.revoked_at is not None:
        raise Conflict(f"授权 {grant_id} 已于 {grant.revoked_at:%Y-%m-%d %H:%M} 撤销")
    reason = _reason(reason)
    grant.revoked_at, grant.revoked_by, grant.revoked_reason = utcnow(), actor.name, reason
    session.flush()
    audit.record(
        session,
        actor,
        "sharing.revoke",
        target_type="share_grant",
        target_id=str(grant.id),
        detail={"reason": reason},
    )
    return grant


@action(Permission.SHARING_READ)
def list_requests(
    session: Session, actor: Actor, *, side: str = "all", state: str | None = None
) -> list[ShareRequest]:
    return SharingRepository(session).requests(
        department_id=visible_department(actor), side=side, states=[state] if state else None
    )


@action(Permission.SHARING_READ)
def get_request(session: Session, actor: Actor, number: str) -> ShareRequest:
    request = SharingRepository(session).request_by_number(number)
    if request is None or not can_see(actor, request.consumer_department_id, request.provider_department_id):
        raise NotFound(f"共享申请“{number}”不存在")
    return request


@action(Permission.SHARING_READ)
def grant_ids(session: Session, actor: Actor, requests: list[ShareRequest]) -> dict[int, int]:
    return SharingRepository(session).grant_ids_for([r.id for r in requests])


@action(Permission.SHARING_READ)
def list_grants(
    session: Session, actor: Actor, *, application: str | None = None, resource: str | None = None
) -> list[ShareGrant]:
    application_id = resource_id = None
    if application:
        found = ApplicationRepository(session).by_code(application)
        application_id = found.id if found else -1
    if resource:
        found_resource = CatalogRepository(session).by_code(resource)
        resource_id = found_resource.id if found_resource else -1
    return SharingRepository(session).grants(
        department_id=visible_department(actor), application_id=application_id, resource_id=resource_id
    )


@action(Permission.SHARING_READ)
def get_grant(session: Session, actor: Actor, grant_id: int) -> ShareGrant:
    grant = SharingRepository(session).grant(grant_id)
    if grant is None or not can_see(actor, grant.consumer_department_id, grant.provider_department_id):
        raise NotFound(f"授权 {grant_id} 不存在")
    return grant


@action(Permission.SHARING_SUPERVISE)
def check_deadlines(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> tuple[list[str], list[str]]:
    """Remind before the deadline and escalate (to the 主管部门, in the audit log and the portal) after it.
    Idempotent: each request is reminded and escalated once per stage."""
    now = now or utcnow()
    calendar = _calendar(session)
    before = node_config(session).jurisdiction.sharing.remind_before_days
    reminded: list[str] = []
    escalated: list[str] = []
    for request in SharingRepository(session).clocked([*OPEN, S.NEGOTIATING.value]):
        assert request.due_at is not None  # clocked() selects only requests with a deadline
        if request.due_at < now:
            if request.escalated_at is None:
                request.escalated_at = now
                escalated.append(request.number)
                _audit(session, actor, "sharing.overdue", request, due_at=request.due_at.isoformat())
        elif request.reminded_at is None and calendar.working_days_left(now, request.due_at) <= before:
            request.reminded_at = now
            reminded.append(request.number)
            _audit(session, actor, "sharing.remind", request, due_at=request.due_at.isoformat())
    session.flush()
    return reminded, escalated
