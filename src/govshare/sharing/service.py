"""Applications for data (共享申请), their approval on the legal deadlines, and the grants they compile into.

无条件 items are subscribed to and granted at once; 有条件 data is applied for and the provider department
approves (possibly fewer items, fewer rows, a shorter period or smaller quotas) or refuses with a reason,
after an optional 符合性审查 by the 主管部门; 不予共享 resources can never be granted, only negotiated (协商)
and escalated. A grant never exceeds what the catalog allows, nor what was asked for; the provider imposes
no condition beyond the structured ones (国务院令第809号).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from govshare.applications import readers as application_readers
from govshare.applications import service as applications
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action, require_scope
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import readers as catalog_readers
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import BEIJING, utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, DenialContext, InvalidInput, NotFound, PermissionDenied
from govshare.models import Application, ShareGrant, ShareRequest
from govshare.sharing import overlap
from govshare.sharing.policies import can_see, row_scope
from govshare.sharing.repository import SharingRepository
from govshare.sharing.schemas import ApplyIn, DecisionIn, SubscribeIn
from govshare.sharing.vocabulary import GrantKind, RequestKind
from govshare.sharing.workflow import (
    OPEN,
    STEPS,
    SUPERVISOR_STATES,
    Published,
    S,
    application_for,
    audit_request,
    check_items,
    check_scope,
    consumer_may,
    expect_state,
    local_end,
    local_start,
    may_revoke,
    published,
    reason_text,
    request_for_update,
    request_number,
    start_clock,
    work_calendar,
)


@action(Permission.SHARING_APPLY)
def apply(session: Session, actor: Actor, data: ApplyIn) -> ShareRequest:
    """File an application for a 有条件 resource on behalf of one of the department's applications."""
    application = application_for(session, actor, data.application, "sharing.apply")
    target = published(session, data.resource)
    if target.resource.department_id == application.department_id:
        raise InvalidInput.on("resource", "本部门的信息资源无需共享申请")
    if target.share_type == ShareType.NONE:
        raise InvalidInput.on("resource", "该资源为不予共享，不能申请；如确有需要，可发起协商")
    if target.share_type == ShareType.UNCONDITIONAL:
        raise InvalidInput.on("resource", "该资源为无条件共享，请直接订阅，无需申请")
    check_items(target, data.items, "items")
    extra = [f for f in data.clear_items if f not in data.items]
    if extra:
        raise InvalidInput.on("clear_items", f"明文信息项须在申请的信息项之内：{'、'.join(extra)}")
    check_scope(target, data.row_scope, "row_scope")
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
    start_clock(session, request, rules.prereview_days if prereview else rules.provider_days, now)
    session.add(request)
    session.flush()
    request.number = request_number(request)
    request.resource, request.application = target.resource, application
    session.flush()
    audit_request(
        session, actor, "sharing.apply", request, resource=target.resource.code, items=",".join(data.items)
    )
    return request


@action(Permission.SHARING_SUPERVISE)
def prereview(session: Session, actor: Actor, number: str, *, passed: bool, comment: str) -> ShareRequest:
    """符合性审查 by the 主管部门: pass (the provider's clock starts) or reject with the reason."""
    request = request_for_update(session, number)
    expect_state(request, *STEPS["prereview"].states)
    if not passed and not comment.strip():
        raise InvalidInput.on("comment", "审查不通过时必须说明理由")
    now = utcnow()
    request.prereview_by, request.prereview_at, request.prereview_comment = actor.name, now, comment or None
    if passed:
        request.state = S.PENDING.value
        start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, now)
    else:
        request.state, request.due_at, request.closed_at = S.PREREVIEW_REJECTED.value, None, now
    session.flush()
    audit_request(session, actor, "sharing.prereview", request, passed=passed)
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
    request = request_for_update(session, number)
    require_scope(
        actor,
        Permission.SHARING_APPROVE,
        department_id=request.provider_department_id,
        action_name="sharing.decide",
        target_type="share_request",
        target_id=number,
    )
    expect_state(request, *STEPS["approve"].states)  # refusing follows the same rule
    if request.kind != RequestKind.APPLY.value:
        raise Conflict("协商申请不能审批为授权：不予共享的资源不能授权，请答复协商意见或提请主管部门协调")
    now = utcnow()

    def close() -> None:  # only once the decision is known to be valid: a refused input changes nothing
        request.decided_by, request.decided_at = actor.name, now
        request.provider_working_days = work_calendar(session).working_days_between(
            request.stage_started_at, now
        )
        request.due_at, request.closed_at = None, now

    if data.decision == "refuse":
        if len(data.reason.strip()) < 4:
            raise InvalidInput.on("reason", "不同意共享必须说明理由（至少 4 个字）")
        close()
        request.state, request.decision_reason = S.REFUSED.value, data.reason
        session.flush()
        audit_request(session, actor, "sharing.refuse", request, reason=data.reason)
        return request
    items = data.items if data.items is not None else list(request.items)
    outside = [f for f in items if f not in request.items]
    if outside or not items:
        raise InvalidInput.on("items", f"同意的信息项须在申请范围内：{'、'.join(outside) or '至少一项'}")
    target = published(session, request.resource.code or "")
    check_items(target, items, "items")  # the catalog may have changed since the application
    clear = (
        data.clear_items if data.clear_items is not None else [f for f in request.clear_items if f in items]
    )
    unasked = [f for f in clear if f not in request.clear_items or f not in items]
    if unasked:
        raise InvalidInput.on(
            "clear_items", f"明文信息项须是申请了明文且已同意的信息项：{'、'.join(unasked)}"
        )
    scope = data.row_scope if data.row_scope is not None else dict(request.row_scope)
    check_scope(target, scope, "row_scope")
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
    terms = overlap.Terms(
        items=[f for f in target.items if f in items or f in kept],
        clear=clear,
        scope=scope,
        valid_to=local_end(valid_to),
        requests_per_day=min(requests_per_day, request.requests_per_day),
        rows_per_day=min(rows_per_day, request.rows_per_day),
    )
    terms, superseded = _against_existing(session, request, target, terms, data.existing_grant, now)
    grant = _grant(
        session,
        actor,
        kind=GrantKind.APPROVAL,
        application=request.application,
        target=target,
        items=terms.items,
        clear=terms.clear,
        scope=terms.scope,
        purpose_kind=request.purpose_kind,
        purpose=request.purpose,
        valid_from=max(now, local_start(request.period_start)),
        valid_to=terms.valid_to,
        requests_per_day=terms.requests_per_day,
        rows_per_day=terms.rows_per_day,
        request=request,
        superseding=superseded,
        choice=data.existing_grant,
    )
    session.flush()
    audit_request(
        session, actor, "sharing.approve", request, grant=grant.id, items=",".join(items), partial=partial
    )
    return request


def _against_existing(
    session: Session,
    request: ShareRequest,
    target: Published,
    terms: overlap.Terms,
    choice: str | None,
    now: datetime,
) -> tuple[overlap.Terms, dict[int, overlap.Narrowing]]:
    """The approval's terms after the approver's choice about the application's existing approval grants
    (a subscription's 无条件 items are carried on by the caller). Refuses, before anything is written, an
    approval that would narrow an existing grant unless the approver chose to merge or to replace it."""
    existing = [
        g
        for g in SharingRepository(session).unrevoked_grants(request.application_id, request.resource_id)
        if g.kind == GrantKind.APPROVAL.value and g.valid_to > now
    ]
    lost = {g.id: overlap.narrowing(g, terms) for g in existing}
    narrowed = {gid: n for gid, n in lost.items() if n}
    if narrowed and choice is None:
        names = {name: item.name for name, item in target.items.items()}
        what = "；".join(f"授权 {gid}：{n.describe(names)}" for gid, n in narrowed.items())
        raise Conflict(
            f"应用“{request.application.code}”已持有此资源的授权，本次同意将收窄它（{what}）。"
            "请选择“合并”（保留原授权的范围并加入本次同意的内容）或“取代”（以本次同意为准，原授权撤销）"
        )
    if choice == "merge" and existing:
        terms = overlap.merged(existing, terms, list(target.items))
        lost = {g.id: overlap.narrowing(g, terms) for g in existing}
    return terms, lost


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
    superseding: dict[int, overlap.Narrowing] | None = None,
    choice: str | None = None,
) -> ShareGrant:
    """One grant per application and resource: a new one supersedes the one before. Each superseded grant
    is revoked as its own audited act, naming its successor and what (if anything) the consumer lost."""
    now = utcnow()
    previous = SharingRepository(session).unrevoked_grants(application.id, target.resource.id)
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
    names = {name: item.name for name, item in target.items.items()}
    for old in previous:
        lost = (superseding or {}).get(old.id)
        how = "并入" if choice == "merge" else "取代"
        reason = f"被授权 {grant.id} {how}" + (f"（{lost.describe(names)}）" if lost else "")
        old.revoked_at, old.revoked_by, old.revoked_reason = now, actor.name, reason
        old.superseded_by = grant.id
        audit.record(
            session,
            actor,
            "sharing.grant.merge" if choice == "merge" else "sharing.grant.supersede",
            target_type="share_grant",
            target_id=str(old.id),
            detail={
                "successor": grant.id,
                "application": application.code,
                "resource": target.resource.code,
                "reason": reason,
                **(lost.as_dict() if lost else {}),
            },
        )
    session.flush()
    return grant


@action(Permission.SHARING_APPLY)
def subscribe(session: Session, actor: Actor, data: SubscribeIn) -> ShareGrant:
    """无条件 items are granted at once to any government application that subscribes (still recorded)."""
    application = application_for(session, actor, data.application, "sharing.subscribe")
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


@action(Permission.SHARING_APPLY)
def withdraw(session: Session, actor: Actor, number: str) -> ShareRequest:
    request = request_for_update(session, number)
    consumer_may(actor, request, "sharing.withdraw")
    expect_state(request, *STEPS["withdraw"].states)
    request.state, request.due_at, request.closed_at = S.WITHDRAWN.value, None, utcnow()
    session.flush()
    audit_request(session, actor, "sharing.withdraw", request)
    return request


@action(Permission.SHARING_APPROVE, Permission.SHARING_APPLY)
def revoke_grant(session: Session, actor: Actor, grant_id: int, reason: str) -> ShareGrant:
    """The provider revokes, or the consumer gives the grant up; it stops at the next request."""
    grant = SharingRepository(session).grant(grant_id)
    if grant is None or not can_see(actor, grant.consumer_department_id, grant.provider_department_id):
        raise NotFound(f"授权 {grant_id} 不存在")
    if not may_revoke(actor, grant):
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
    reason = reason_text(reason)
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


@action(Permission.SHARING_APPLY)
def applications_to_apply_for(session: Session, actor: Actor) -> list[Application] | None:
    """The active applications the actor may file applications for (the same rule `apply` checks through
    `workflow.application_for`); None when the actor may not list applications (使用人员 hold sharing:apply
    without application:read, and type the application's code instead)."""
    if not actor.scope_of(Permission.APPLICATION_READ):
        return None
    everyone = actor.scope_of(Permission.SHARING_APPLY) == Scope.ALL
    return [
        a
        for a in applications.list_applications(session, actor)
        if a.is_active and (everyone or a.department_id == actor.department_id)
    ]


@action(Permission.SHARING_READ)
def list_requests(
    session: Session, actor: Actor, *, side: str = "all", state: str | None = None
) -> list[ShareRequest]:
    """Requests the actor sees, newest first. `side`: "consumer" (filed by its department), "provider" (asked
    of it), "supervise" (what waits for the 主管部门: `workflow.SUPERVISOR_STATES` unless `state` is given)
    or "all"."""
    states = [state] if state else None
    if side == "supervise":
        side, states = "all", states or list(SUPERVISOR_STATES)
    return SharingRepository(session).requests(row_scope(actor), side=side, states=states)


@action(Permission.SHARING_READ)
def get_request(session: Session, actor: Actor, number: str) -> ShareRequest:
    request = SharingRepository(session).request_by_number(number)
    if request is None or not can_see(actor, request.consumer_department_id, request.provider_department_id):
        raise NotFound(f"共享申请“{number}”不存在")
    return request


@action(Permission.SHARING_READ)
def grant_refs(
    session: Session, actor: Actor, requests: list[ShareRequest]
) -> dict[int, tuple[int, str | None]]:
    """Each request's grant and, when it was revoked or superseded, the reason (shown beside the grant)."""
    return SharingRepository(session).grant_refs_for([r.id for r in requests])


@action(Permission.SHARING_READ)
def existing_grants(session: Session, actor: Actor, request: ShareRequest) -> list[ShareGrant]:
    """The live approval grants the request's application already holds on the resource: what the
    provider sees side by side with the application before deciding (an approval may narrow them)."""
    now = utcnow()
    return [
        g
        for g in SharingRepository(session).unrevoked_grants(request.application_id, request.resource_id)
        if g.kind == GrantKind.APPROVAL.value and g.valid_to > now and g.request_id != request.id
    ]


@action(Permission.SHARING_READ)
def list_grants(
    session: Session, actor: Actor, *, application: str | None = None, resource: str | None = None
) -> list[ShareGrant]:
    application_id = resource_id = None
    if application:
        found = application_readers.application_by_code(session, application)
        application_id = found.id if found else -1
    if resource:
        found_resource = catalog_readers.resource_by_code(session, resource)
        resource_id = found_resource.id if found_resource else -1
    return SharingRepository(session).grants(
        row_scope(actor), application_id=application_id, resource_id=resource_id
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
    calendar = work_calendar(session)
    before = node_config(session).jurisdiction.sharing.remind_before_days
    reminded: list[str] = []
    escalated: list[str] = []
    for request in SharingRepository(session).clocked([*OPEN, S.NEGOTIATING.value]):
        assert request.due_at is not None  # clocked() selects only requests with a deadline
        if request.due_at < now:
            if request.escalated_at is None:
                request.escalated_at = now
                escalated.append(request.number)
                audit_request(session, actor, "sharing.overdue", request, due_at=request.due_at.isoformat())
        elif request.reminded_at is None and calendar.working_days_left(now, request.due_at) <= before:
            request.reminded_at = now
            reminded.append(request.number)
            audit_request(session, actor, "sharing.remind", request, due_at=request.due_at.isoformat())
    session.flush()
    return reminded, escalated
