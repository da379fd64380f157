"""协商 (negotiation): a 不予共享 resource asked about, or a refusal disputed; the provider answers, the
applicant may escalate to the 共享主管部门, which settles it (reopens the application or closes it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action, require_scope
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import BEIJING, utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput
from govshare.models import ShareRequest
from govshare.sharing.schemas import NegotiateIn
from govshare.sharing.vocabulary import RequestKind
from govshare.sharing.workflow import (
    STEPS,
    S,
    application_for,
    audit_request,
    consumer_may,
    expect_state,
    published,
    reason_text,
    request_for_update,
    request_number,
    start_clock,
)


@action(Permission.SHARING_APPLY)
def negotiate(session: Session, actor: Actor, data: NegotiateIn) -> ShareRequest:
    """Record a 协商 request about a 不予共享 resource; the provider answers, or it is escalated."""
    application = application_for(session, actor, data.application, "sharing.negotiate")
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
    start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, now)
    session.add(request)
    session.flush()
    request.number = request_number(request)
    request.resource, request.application = target.resource, application
    session.flush()
    audit_request(session, actor, "sharing.negotiate", request, resource=target.resource.code)
    return request


@action(Permission.SHARING_APPLY)
def dispute(session: Session, actor: Actor, number: str, reason: str) -> ShareRequest:
    """The applicant disagrees with a refusal (or a partial approval, or a failed 符合性审查): 协商."""
    request = request_for_update(session, number)
    consumer_may(actor, request, "sharing.dispute")
    expect_state(request, *STEPS["dispute"].states)
    request.state, request.negotiation_reason = S.NEGOTIATING.value, reason_text(reason)
    start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, utcnow())
    session.flush()
    audit_request(session, actor, "sharing.dispute", request, reason=reason)
    return request


@action(Permission.SHARING_APPLY)
def escalate(session: Session, actor: Actor, number: str, reason: str) -> ShareRequest:
    """协商 failed: the applicant takes it to the 共享主管部门."""
    request = request_for_update(session, number)
    consumer_may(actor, request, "sharing.escalate")
    expect_state(request, *STEPS["escalate"].states)
    reason = reason_text(reason)
    request.state, request.escalated_at, request.due_at = S.ESCALATED.value, utcnow(), None
    request.negotiation_reason = f"{request.negotiation_reason or ''}\n提请协调：{reason}".strip()
    session.flush()
    audit_request(session, actor, "sharing.escalate", request, reason=reason)
    return request


@action(Permission.SHARING_SUPERVISE)
def settle(session: Session, actor: Actor, number: str, *, outcome: str, comment: str) -> ShareRequest:
    """The 主管部门 settles a 协商: directs the provider to decide again (reopen) or closes it."""
    request = request_for_update(session, number)
    expect_state(request, *STEPS["settle"].states)
    comment = reason_text(comment, "comment")
    if outcome not in ("reopen", "close"):
        raise InvalidInput.on("outcome", "须为 reopen（责成重新审批）或 close（办结）")
    if outcome == "reopen":
        if request.kind != RequestKind.APPLY.value:
            raise Conflict("不予共享资源的协商不能责成审批：不予共享的资源不能授权")
        request.state = S.PENDING.value
        request.decided_by = request.decided_at = request.decision_reason = None
        start_clock(session, request, node_config(session).jurisdiction.sharing.provider_days, utcnow())
    else:
        request.state, request.closed_at, request.due_at = S.SETTLED.value, utcnow(), None
    request.negotiation_outcome = comment
    session.flush()
    audit_request(session, actor, "sharing.settle", request, outcome=outcome)
    return request


@action(Permission.SHARING_APPROVE)
def answer_negotiation(session: Session, actor: Actor, number: str, reason: str) -> ShareRequest:
    """The provider's written answer to a 协商 (the applicant may still escalate)."""
    request = request_for_update(session, number)
    require_scope(
        actor,
        Permission.SHARING_APPROVE,
        department_id=request.provider_department_id,
        action_name="sharing.answer",
        target_type="share_request",
        target_id=number,
    )
    expect_state(request, *STEPS["answer"].states)
    request.negotiation_outcome, request.due_at = reason_text(reason), None
    session.flush()
    audit_request(session, actor, "sharing.answer", request)
    return request
