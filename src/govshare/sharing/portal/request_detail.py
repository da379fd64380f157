"""Portal page of one sharing application (共享申请): its details, its timeline and the forms its reader may
act on in its state (approve, refuse, withdraw, dispute, escalate, answer a negotiation, the 主管部门's
prereview and settlement). Each form posts with the CSRF token and redirects back (303); invalid input and
state conflicts show the page again with the message and the values kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.models import ShareRequest
from govshare.sharing import negotiation, service, views
from govshare.sharing.portal.common import (
    DONE,
    STATE_TAGS,
    TEXT,
    FormError,
    FormState,
    Resources,
    beijing,
    check_csrf,
    countdown,
    department_names,
    explain,
    items_text,
    optional_day,
    parse_count,
    scope_text,
    split_values,
)
from govshare.sharing.schemas import DecisionIn, PrereviewIn, ReasonIn, RequestOut, SettleIn
from govshare.sharing.vocabulary import RequestKind, RequestState
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import FORM_ERRORS, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

NUMBER = Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")

S = RequestState


@dataclass
class Step:
    at: datetime | None
    who: str | None
    what: str
    text: str | None = None


def _timeline(share: ShareRequest, out: RequestOut) -> list[Step]:
    """The application's steps as far as its own fields keep them (the steps of an earlier round, before a
    主管部门 directed the provider to decide again, are in the audit log only)."""
    state = out.state
    first = "发起协商" if out.kind == RequestKind.NEGOTIATE else "提出共享申请"
    steps = [Step(out.submitted_at, out.requested_by, first)]
    if out.prereview_by:
        what = "符合性审查未通过" if state == S.PREREVIEW_REJECTED else "符合性审查通过"
        steps.append(Step(share.prereview_at, out.prereview_by, what, out.prereview_comment))
    if out.decided_at:
        if state in (S.APPROVED, S.PARTIAL, S.REFUSED):
            what = state.label
        else:
            what = "同意（含部分同意）" if out.approved_items is not None else "不同意"
        steps.append(Step(out.decided_at, out.decided_by, f"提供部门答复：{what}", out.decision_reason))
    if out.negotiation_reason and out.kind == RequestKind.APPLY:
        steps.append(Step(None, None, "申请方提出异议，进入协商", out.negotiation_reason))
    if out.reminded_at:
        steps.append(Step(out.reminded_at, None, "办理时限临近，已提醒"))
    if out.escalated_at:
        coordinated = state in (S.ESCALATED, S.SETTLED)
        what = "申请方提请主管部门协调" if coordinated else "超过办理时限，已上报主管部门"
        steps.append(Step(out.escalated_at, None, what))
    if out.negotiation_outcome:
        by_supervisor = state == S.SETTLED or (state == S.PENDING and out.negotiation_reason)
        what = "主管部门协调意见" if by_supervisor else "提供部门的协商答复"
        steps.append(Step(None, None, what, out.negotiation_outcome))
    if state in (S.WITHDRAWN, S.SETTLED):
        steps.append(
            Step(share.closed_at, None, "申请方撤回申请" if state == S.WITHDRAWN else "主管部门协调办结")
        )
    return steps


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    number: str,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    share = service.get_request(session, actor, number)
    out = views.request_view(session, actor, share)
    resources = Resources(session, actor)
    resource = resources.get(out.resource_code)
    names = resources.items(out.resource_code)
    existing = service.existing_grants(session, actor, share) if out.state == S.PENDING else []
    return render(
        request,
        "sharing_request.html",
        actor,
        status=status,
        r=out,
        resource=resource,
        item_names=names,
        items_text=lambda fields: items_text(names, fields),
        scope_text=lambda scope: scope_text(names, scope),
        departments=department_names(session, actor),
        timeline=_timeline(share, out),
        forms=set(out.allowed_actions),
        existing=existing,
        form=form or FormState(),
        done=DONE.get(done or ""),
        state_tags=STATE_TAGS,
        beijing=beijing,
        countdown=countdown,
    )


@router.get("/sharing/requests/{number}", response_class=HTMLResponse)
def sharing_request(
    request: Request,
    number: str = NUMBER,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> HTMLResponse:
    return _detail(request, session, actor, number, done=done)


def _act(
    request: Request,
    actor: Actor,
    number: str,
    name: str,
    values: dict[str, Any],
    call: Callable[[], object],
    done: str,
) -> Response:
    """Run one action of the request page; invalid input or a conflict shows the page again with the
    message and what the person entered (the request's unit of work rolls the failed action back)."""
    with form_errors(
        lambda session, form, status: _detail(request, session, actor, number, status=status, form=form),
        name=name,
        values=values,
        explain_error=explain,
        catch=(FormError, *FORM_ERRORS),
    ):
        call()
    return see_other(f"/sharing/requests/{number}?done={done}")


@router.post("/sharing/requests/{number}/approve")
def approve(
    request: Request,
    number: str = NUMBER,
    items: list[str] = Form([]),
    clear_items: list[str] = Form([]),
    scope: list[str] = Form([]),
    scope_item: str = Form("", max_length=64),
    scope_values: str = Form("", max_length=TEXT),
    valid_to: str = Form("", max_length=10),
    requests_per_day: str = Form("", max_length=12),
    rows_per_day: str = Form("", max_length=12),
    reason: str = Form("", max_length=TEXT),
    existing_grant: str = Form("", max_length=16),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> Response:
    check_csrf(request, csrf_token)
    values = {
        "existing_grant": existing_grant,
        "items": items,
        "clear_items": clear_items,
        "scope": scope,
        "scope_item": scope_item,
        "scope_values": scope_values,
        "valid_to": valid_to,
        "requests_per_day": requests_per_day,
        "rows_per_day": rows_per_day,
        "reason": reason,
    }

    def call() -> None:
        asked = service.get_request(session, actor, number)
        row_scope: dict[str, list[str]] = {}
        for entry in scope:  # "field:value", one checkbox per value the application asked for
            name, _, value = entry.partition(":")
            row_scope.setdefault(name, []).append(value)
        if scope_item.strip() or scope_values.strip():
            if not scope_item.strip() or not split_values(scope_values):
                raise FormError("row_scope", "增加记录范围限定时须选择信息项并填写取值")
            row_scope[scope_item.strip()] = split_values(scope_values)
        data = DecisionIn(
            decision="approve",
            reason=reason,
            items=items,
            clear_items=clear_items,
            row_scope=row_scope if (row_scope or asked.row_scope) else None,
            valid_to=optional_day(valid_to, "valid_to"),
            requests_per_day=parse_count(requests_per_day, "requests_per_day"),
            rows_per_day=parse_count(rows_per_day, "rows_per_day"),
            existing_grant=existing_grant or None,
        )
        service.decide(session, actor, number, data)

    return _act(request, actor, number, "approve", values, call, "decided")


@router.post("/sharing/requests/{number}/refuse")
def refuse(
    request: Request,
    number: str = NUMBER,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> Response:
    check_csrf(request, csrf_token)

    def call() -> None:
        service.decide(session, actor, number, DecisionIn(decision="refuse", reason=reason))

    return _act(request, actor, number, "refuse", {"reason": reason}, call, "refused")


@router.post("/sharing/requests/{number}/withdraw")
def withdraw(
    request: Request,
    number: str = NUMBER,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    check_csrf(request, csrf_token)
    return _act(
        request,
        actor,
        number,
        "withdraw",
        {},
        lambda: service.withdraw(session, actor, number),
        "withdrawn",
    )


def _reason_action(
    request: Request,
    session: Session,
    actor: Actor,
    number: str,
    csrf_token: str,
    reason: str,
    name: str,
    action: Callable[[Session, Actor, str, str], object],
    done: str,
) -> Response:
    check_csrf(request, csrf_token)

    def call() -> None:
        action(session, actor, number, ReasonIn(reason=reason).reason)

    return _act(request, actor, number, name, {"reason": reason}, call, done)


@router.post("/sharing/requests/{number}/dispute")
def dispute(
    request: Request,
    number: str = NUMBER,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    return _reason_action(
        request, session, actor, number, csrf_token, reason, "dispute", negotiation.dispute, "disputed"
    )


@router.post("/sharing/requests/{number}/escalate")
def escalate(
    request: Request,
    number: str = NUMBER,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    return _reason_action(
        request, session, actor, number, csrf_token, reason, "escalate", negotiation.escalate, "escalated"
    )


@router.post("/sharing/requests/{number}/answer")
def answer(
    request: Request,
    number: str = NUMBER,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> Response:
    return _reason_action(
        request,
        session,
        actor,
        number,
        csrf_token,
        reason,
        "answer",
        negotiation.answer_negotiation,
        "answered",
    )


@router.post("/sharing/requests/{number}/prereview")
def prereview(
    request: Request,
    number: str = NUMBER,
    outcome: str = Form("", max_length=16),
    comment: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_SUPERVISE),
) -> Response:
    check_csrf(request, csrf_token)

    def call() -> None:
        if outcome not in ("pass", "reject"):
            raise FormError("passed", "请选择“审查通过”或“审查不通过”")
        data = PrereviewIn(passed=outcome == "pass", comment=comment)
        service.prereview(session, actor, number, passed=data.passed, comment=data.comment)

    values = {"outcome": outcome, "comment": comment}
    return _act(request, actor, number, "prereview", values, call, "prereviewed")


@router.post("/sharing/requests/{number}/settle")
def settle(
    request: Request,
    number: str = NUMBER,
    outcome: str = Form("", max_length=16),
    comment: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_SUPERVISE),
) -> Response:
    check_csrf(request, csrf_token)

    def call() -> None:
        if outcome not in ("reopen", "close"):
            raise FormError("outcome", "请选择“责成重新审批”或“协调办结”")
        data = SettleIn(outcome="reopen" if outcome == "reopen" else "close", comment=comment)
        negotiation.settle(session, actor, number, outcome=data.outcome, comment=data.comment)

    values = {"outcome": outcome, "comment": comment}
    return _act(request, actor, number, "settle", values, call, "settled")
