"""Portal pages of sharing (共享服务): the department's applications, one application with the forms its
reader may act on, the application form, and the grants. They call the same services as the API and validate
with the API's input models; every action is a plain HTML form (POST with the CSRF token) that redirects back
(303), so the whole flow works without JavaScript.

Invalid input and state conflicts re-render the page with a Chinese message and the values kept, so the person
can correct the form; a refusal (PermissionDenied) and unknown records go to the global error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.applications import service as applications
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import service as catalog
from govshare.catalog.schemas import ResourceOut
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import BEIJING, utcnow
from govshare.errors import Conflict, CsrfFailed, InvalidInput, NotFound
from govshare.identity import service as identity
from govshare.models import ShareRequest
from govshare.sharing import negotiation, service
from govshare.sharing.policies import grant_state
from govshare.sharing.schemas import (
    ApplyIn,
    DecisionIn,
    GrantOut,
    NegotiateIn,
    PrereviewIn,
    ReasonIn,
    RequestOut,
    SettleIn,
    SubscribeIn,
)
from govshare.sharing.vocabulary import GrantState, PurposeKind, RequestKind, RequestState
from govshare.web.deps import DB_SESSION, csrf_valid, require
from govshare.web.portal import render

router = APIRouter(include_in_schema=False)

NUMBER = Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")
GRANT = Path(ge=1, le=2**31 - 1)
CODE_PATTERN = r"^[A-Za-z0-9_-]*$"
TEXT = 2000  # the API's longest free text

S = RequestState
SIDES = {"all": "全部", "consumer": "我申请的", "provider": "待我审批的", "supervise": "待主管部门办理"}
STATE_TAGS = {
    S.PREREVIEW: "tag-conditional",
    S.PENDING: "tag-conditional",
    S.APPROVED: "tag-unconditional",
    S.PARTIAL: "tag-unconditional",
    S.REFUSED: "tag-none",
    S.PREREVIEW_REJECTED: "tag-none",
    S.NEGOTIATING: "tag-open",
    S.ESCALATED: "tag-open",
}
GRANT_TAGS = {GrantState.ACTIVE: "tag-unconditional", GrantState.NOT_YET: "tag-conditional"}
DONE = {
    "applied": "共享申请已提交，请等待提供部门答复。",
    "negotiating": "协商申请已提交，请等待提供部门答复。",
    "decided": "审批答复已办理。",
    "refused": "已答复不同意，申请方可以提出异议。",
    "withdrawn": "申请已撤回。",
    "disputed": "已提出异议，申请进入协商。",
    "escalated": "已提请主管部门协调。",
    "answered": "协商答复已提交。",
    "prereviewed": "符合性审查已办理。",
    "settled": "协调已办理。",
    "subscribed": "订阅成功，无条件信息项的授权已生成。",
    "revoked": "授权已撤销，下一次调用即生效。",
}
FIELD_LABELS = {
    "application": "应用系统",
    "resource": "信息资源",
    "purpose_kind": "使用用途",
    "purpose": "具体用途",
    "basis": "申请依据",
    "items": "信息项",
    "clear_items": "明文信息项",
    "row_scope": "记录范围",
    "period_start": "使用期限开始日期",
    "period_end": "使用期限结束日期",
    "requests_per_day": "每日请求次数",
    "rows_per_day": "每日记录数",
    "reason": "理由",
    "comment": "意见",
    "valid_to": "授权截止日期",
    "outcome": "办理结果",
    "passed": "审查结论",
    "decision": "审批结论",
}
_SPLIT = re.compile(r"[,，、;；\s]+")


# ---------------------------------------------------------------- helpers


class FormError(Exception):
    """Input the page can name before calling a service (an unreadable date, a missing choice)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name, self.message = field_name, message


def _label(field_name: str) -> str:
    return FIELD_LABELS.get(field_name.split(".")[0].split("[")[0], field_name)


def _pydantic_message(error: Any) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "必须填写"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"长度不能少于 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if kind in ("too_short", "list_too_short"):
        return "至少选择一项"
    if kind in ("too_long", "list_too_long"):
        return f"最多 {ctx.get('max_length')} 项"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_pattern_mismatch":
        return "格式不正确"
    if kind in ("enum", "literal_error"):
        return "取值不在允许范围内"
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    return "取值无效"


def _explain(exc: Exception) -> str:
    """A readable Chinese sentence for a form's invalid input, with Chinese field names."""
    if isinstance(exc, FormError):
        return f"{_label(exc.field_name)}：{exc.message}"
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:5]:
            loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
            where = _label(loc[0]) if loc else ""
            parts.append(f"{where}：{_pydantic_message(error)}" if where else _pydantic_message(error))
        return "；".join(parts) or "输入不合法"
    if isinstance(exc, InvalidInput) and exc.errors:
        return "；".join(f"{_label(e.field)}：{e.message}" for e in exc.errors)
    return str(getattr(exc, "message", exc))


def _status(exc: Exception) -> int:
    return 409 if isinstance(exc, Conflict) else 422


def _csrf(request: Request, token: str) -> None:
    if not csrf_valid(request, token):
        raise CsrfFailed()


def _day(value: str, field_name: str) -> date:
    value = value.strip()
    if not value:
        raise FormError(field_name, "必须填写")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(field_name, "日期格式应为 年-月-日，如 2026-05-01") from None


def _optional_day(value: str, field_name: str) -> date | None:
    return _day(value, field_name) if value.strip() else None


def _count(value: str, field_name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise FormError(field_name, "必须是整数") from None


def _values(text: str) -> list[str]:
    return list(dict.fromkeys(v for v in _SPLIT.split(text.strip()) if v))


def beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as Beijing time, the way the portal shows every time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime(fmt)


def _may(actor: Actor, permission: Permission, department_id: int) -> bool:
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_id == department_id)


def _department_names(session: Session, actor: Actor) -> dict[int, str]:
    if actor.scope_of(Permission.DEPARTMENT_READ):
        return {d.id: d.name for d in identity.list_departments(session, actor)}
    return identity.department_codes(session)


class Resources:
    """The catalog entries the page mentions, read once each through the catalog service."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self._seen: dict[str, ResourceOut | None] = {}

    def get(self, code: str | None) -> ResourceOut | None:
        if not code or not self.actor.scope_of(Permission.CATALOG_READ):
            return None
        if code not in self._seen:
            try:
                self._seen[code] = catalog.get_by_code(self.session, self.actor, code)
            except NotFound:
                self._seen[code] = None
        return self._seen[code]

    def name(self, code: str | None) -> str:
        found = self.get(code)
        return found.name if found else (code or "")

    def items(self, code: str | None) -> dict[str, str]:
        """Field name → the item's Chinese name."""
        found = self.get(code)
        version = found.current or found.pending if found else None
        return {i["field"]: i["name"] for i in version.definition["items"]} if version else {}


def _items_text(names: dict[str, str], fields: Iterable[str]) -> str:
    return "、".join(f"{names[f]}（{f}）" if f in names else f for f in fields)


def _scope_text(names: dict[str, str], scope: dict[str, list[str]] | None) -> str:
    if not scope:
        return "不限"
    return "；".join(f"{names.get(f, f)}：{'、'.join(v)}" for f, v in scope.items())


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


# ---------------------------------------------------------------- the list


@router.get("/sharing", response_class=HTMLResponse)
def sharing_list(
    request: Request,
    side: str = Query("all", pattern="^(all|consumer|provider|supervise)$"),
    state: str | None = Query(None, max_length=24),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> HTMLResponse:
    states = {s.value for s in RequestState}
    # 待我审批的 opens on what is waiting; "all" lists every state of that side.
    chosen = state if state in states or state == "all" else ("pending" if side == "provider" else "all")
    if side == "supervise":
        found = {
            r.id: r
            for s in ([chosen] if chosen != "all" else ["prereview", "escalated", "negotiating"])
            for r in service.list_requests(session, actor, state=s)
        }
        requests = sorted(found.values(), key=lambda r: r.id, reverse=True)
    else:
        requests = service.list_requests(session, actor, side=side, state=None if chosen == "all" else chosen)
    grants = service.grant_ids(session, actor, requests)
    now = utcnow()
    rows = [RequestOut.of(r, now=now, grant_id=grants.get(r.id)) for r in requests]
    resources = Resources(session, actor)
    sides = {
        k: v for k, v in SIDES.items() if k != "supervise" or actor.scope_of(Permission.SHARING_SUPERVISE)
    }
    return render(
        request,
        "sharing_list.html",
        actor,
        rows=rows,
        side=side,
        sides=sides,
        state=chosen,
        states=list(RequestState),
        resource_name=resources.name,
        departments=_department_names(session, actor),
        state_tags=STATE_TAGS,
        beijing=beijing,
    )


# ---------------------------------------------------------------- one application


@dataclass
class Step:
    at: datetime | None
    who: str | None
    what: str
    text: str | None = None


@dataclass
class FormState:
    """Which form failed, its message and the values the person entered."""

    name: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


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


def _forms(actor: Actor, out: RequestOut) -> set[str]:
    """The forms this reader may use on this application in its state."""
    provider = _may(actor, Permission.SHARING_APPROVE, out.provider_department_id)
    consumer = _may(actor, Permission.SHARING_APPLY, out.consumer_department_id)
    supervisor = actor.scope_of(Permission.SHARING_SUPERVISE) is not None
    state, forms = out.state, set()
    if provider and state == S.PENDING and out.kind == RequestKind.APPLY:
        forms |= {"approve", "refuse"}
    if provider and state == S.NEGOTIATING:
        forms.add("answer")
    if consumer and state in (S.PREREVIEW, S.PENDING, S.NEGOTIATING):
        forms.add("withdraw")
    if consumer and state in (S.REFUSED, S.PARTIAL, S.PREREVIEW_REJECTED):
        forms.add("dispute")
    if consumer and state == S.NEGOTIATING:
        forms.add("escalate")
    if supervisor and state == S.PREREVIEW:
        forms.add("prereview")
    if supervisor and state in (S.ESCALATED, S.NEGOTIATING):
        forms.add("settle")
    return forms


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
    grants = service.grant_ids(session, actor, [share])
    out = RequestOut.of(share, now=utcnow(), grant_id=grants.get(share.id))
    resources = Resources(session, actor)
    resource = resources.get(out.resource_code)
    names = resources.items(out.resource_code)
    return render(
        request,
        "sharing_request.html",
        actor,
        status=status,
        r=out,
        resource=resource,
        item_names=names,
        items_text=lambda fields: _items_text(names, fields),
        scope_text=lambda scope: _scope_text(names, scope),
        departments=_department_names(session, actor),
        timeline=_timeline(share, out),
        forms=_forms(actor, out),
        form=form or FormState(),
        done=DONE.get(done or ""),
        state_tags=STATE_TAGS,
        beijing=beijing,
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
    session: Session,
    actor: Actor,
    number: str,
    name: str,
    values: dict[str, Any],
    call: Callable[[], object],
    done: str,
) -> Response:
    """Run one action of the request page; invalid input or a conflict shows the page again with the
    message and what the person entered (nothing of the failed action is kept)."""
    try:
        call()
    except (FormError, ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState(name, _explain(exc), values)
        return _detail(request, session, actor, number, status=_status(exc), form=failed)
    return _redirect(f"/sharing/requests/{number}?done={done}")


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
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> Response:
    _csrf(request, csrf_token)
    values = {
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
            if not scope_item.strip() or not _values(scope_values):
                raise FormError("row_scope", "增加记录范围限定时须选择信息项并填写取值")
            row_scope[scope_item.strip()] = _values(scope_values)
        data = DecisionIn(
            decision="approve",
            reason=reason,
            items=items,
            clear_items=clear_items,
            row_scope=row_scope if (row_scope or asked.row_scope) else None,
            valid_to=_optional_day(valid_to, "valid_to"),
            requests_per_day=_count(requests_per_day, "requests_per_day"),
            rows_per_day=_count(rows_per_day, "rows_per_day"),
        )
        service.decide(session, actor, number, data)

    return _act(request, session, actor, number, "approve", values, call, "decided")


@router.post("/sharing/requests/{number}/refuse")
def refuse(
    request: Request,
    number: str = NUMBER,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> Response:
    _csrf(request, csrf_token)

    def call() -> None:
        service.decide(session, actor, number, DecisionIn(decision="refuse", reason=reason))

    return _act(request, session, actor, number, "refuse", {"reason": reason}, call, "refused")


@router.post("/sharing/requests/{number}/withdraw")
def withdraw(
    request: Request,
    number: str = NUMBER,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    _csrf(request, csrf_token)
    return _act(
        request,
        session,
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
    _csrf(request, csrf_token)

    def call() -> None:
        action(session, actor, number, ReasonIn(reason=reason).reason)

    return _act(request, session, actor, number, name, {"reason": reason}, call, done)


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
    _csrf(request, csrf_token)

    def call() -> None:
        if outcome not in ("pass", "reject"):
            raise FormError("passed", "请选择“审查通过”或“审查不通过”")
        data = PrereviewIn(passed=outcome == "pass", comment=comment)
        service.prereview(session, actor, number, passed=data.passed, comment=data.comment)

    values = {"outcome": outcome, "comment": comment}
    return _act(request, session, actor, number, "prereview", values, call, "prereviewed")


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
    _csrf(request, csrf_token)

    def call() -> None:
        if outcome not in ("reopen", "close"):
            raise FormError("outcome", "请选择“责成重新审批”或“协调办结”")
        data = SettleIn(outcome="reopen" if outcome == "reopen" else "close", comment=comment)
        negotiation.settle(session, actor, number, outcome=data.outcome, comment=data.comment)

    values = {"outcome": outcome, "comment": comment}
    return _act(request, session, actor, number, "settle", values, call, "settled")


# ---------------------------------------------------------------- applying, subscribing, negotiating


def _own_applications(session: Session, actor: Actor) -> list[tuple[str, str]] | None:
    """(code, name) of the active applications the actor may apply for; None when the actor may not list
    applications (使用人员 hold sharing:apply without application:read) and types the code instead."""
    if not actor.scope_of(Permission.APPLICATION_READ):
        return None
    everyone = actor.scope_of(Permission.SHARING_APPLY) == Scope.ALL
    return [
        (a.code, a.name)
        for a in applications.list_applications(session, actor)
        if a.is_active and (everyone or a.department_id == actor.department_id)
    ]


@dataclass
class ItemRow:
    field: str
    name: str
    share: ShareType
    mask: str


def _apply_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    status: int = 200,
    form: FormState | None = None,
) -> HTMLResponse:
    resource = catalog.get_by_code(session, actor, code) if code else None
    version = resource.current if resource else None
    share_type: ShareType | None = None
    rows: list[ItemRow] = []
    if version is not None:
        definition = version.definition
        share_type = ShareType(ShareType.parse(definition["share"]["type"]))
        rows = [
            ItemRow(
                i["field"],
                i["name"],
                ShareType(ShareType.parse(i["share"])) if i.get("share") else share_type,
                i.get("mask", ""),
            )
            for i in definition["items"]
        ]
    today = utcnow().astimezone(BEIJING).date()
    return render(
        request,
        "sharing_apply.html",
        actor,
        status=status,
        code=code,
        resource=resource,
        available=resource is not None and version is not None and resource.status == "active",
        own=resource is not None and resource.provider_code == actor.department_code,
        share_type=share_type,
        rows=rows,
        free=[r for r in rows if r.share == ShareType.UNCONDITIONAL],
        apps=_own_applications(session, actor),
        purpose_kinds=list(PurposeKind),
        form=form or FormState(),
        default_start=today.isoformat(),
        default_end=(today + timedelta(days=180)).isoformat(),
    )


@router.get("/sharing/apply", response_class=HTMLResponse)
def apply_page(
    request: Request,
    resource: str = Query("", max_length=64, pattern=CODE_PATTERN),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> HTMLResponse:
    return _apply_page(request, session, actor, resource)


def _on_apply_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    values: dict[str, Any],
    call: Callable[[], str],
) -> Response:
    try:
        target = call()
    except (FormError, ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState(name, _explain(exc), values)
        return _apply_page(request, session, actor, code, status=_status(exc), form=failed)
    return _redirect(target)


@router.post("/sharing/apply")
def apply_submit(
    request: Request,
    resource: str = Form("", max_length=64, pattern=CODE_PATTERN),
    application: str = Form("", max_length=64),
    purpose_kind: str = Form("", max_length=32),
    purpose: str = Form("", max_length=TEXT),
    basis: str = Form("", max_length=TEXT),
    items: list[str] = Form([]),
    clear_items: list[str] = Form([]),
    scope_item: str = Form("", max_length=64),
    scope_values: str = Form("", max_length=TEXT),
    period_start: str = Form("", max_length=10),
    period_end: str = Form("", max_length=10),
    requests_per_day: str = Form("", max_length=12),
    rows_per_day: str = Form("", max_length=12),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    _csrf(request, csrf_token)
    values = {
        "application": application,
        "purpose_kind": purpose_kind,
        "purpose": purpose,
        "basis": basis,
        "items": items,
        "clear_items": clear_items,
        "scope_item": scope_item,
        "scope_values": scope_values,
        "period_start": period_start,
        "period_end": period_end,
        "requests_per_day": requests_per_day,
        "rows_per_day": rows_per_day,
    }

    def call() -> str:
        scope: dict[str, list[str]] = {}
        if scope_item.strip() or scope_values.strip():
            if not scope_item.strip() or not _values(scope_values):
                raise FormError("row_scope", "限定记录范围时须选择信息项并填写取值")
            scope[scope_item.strip()] = _values(scope_values)
        if not items:
            raise FormError("items", "请至少勾选一个信息项")
        volumes = {
            k: v
            for k, v in (
                ("requests_per_day", _count(requests_per_day, "requests_per_day")),
                ("rows_per_day", _count(rows_per_day, "rows_per_day")),
            )
            if v is not None
        }
        data = ApplyIn(
            application=application,
            resource=resource,
            purpose_kind=purpose_kind,
            purpose=purpose,
            basis=basis,
            items=items,
            clear_items=clear_items,
            row_scope=scope,
            period_start=_day(period_start, "period_start"),
            period_end=_day(period_end, "period_end"),
            **volumes,
        )
        filed = service.apply(session, actor, data)
        return f"/sharing/requests/{filed.number}?done=applied"

    return _on_apply_page(request, session, actor, resource, "apply", values, call)


@router.post("/sharing/subscribe")
def subscribe_submit(
    request: Request,
    resource: str = Form("", max_length=64, pattern=CODE_PATTERN),
    application: str = Form("", max_length=64),
    purpose_kind: str = Form("", max_length=32),
    purpose: str = Form("", max_length=TEXT),
    items: list[str] = Form([]),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    _csrf(request, csrf_token)
    values = {"application": application, "purpose_kind": purpose_kind, "purpose": purpose, "items": items}

    def call() -> str:
        if not items:
            raise FormError("items", "请至少勾选一个无条件共享的信息项")
        data = SubscribeIn(
            application=application,
            resource=resource,
            purpose_kind=purpose_kind,
            purpose=purpose,
            items=items,
        )
        grant = service.subscribe(session, actor, data)
        return f"/sharing/grants?done=subscribed#grant-{grant.id}"

    return _on_apply_page(request, session, actor, resource, "subscribe", values, call)


@router.post("/sharing/negotiate")
def negotiate_submit(
    request: Request,
    resource: str = Form("", max_length=64, pattern=CODE_PATTERN),
    application: str = Form("", max_length=64),
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> Response:
    _csrf(request, csrf_token)
    values = {"application": application, "reason": reason}

    def call() -> str:
        data = NegotiateIn(application=application, resource=resource, reason=reason)
        filed = negotiation.negotiate(session, actor, data)
        return f"/sharing/requests/{filed.number}?done=negotiating"

    return _on_apply_page(request, session, actor, resource, "negotiate", values, call)


# ---------------------------------------------------------------- grants


@dataclass
class GrantRow:
    grant: GrantOut
    resource_name: str
    items_text: str
    scope_text: str
    valid_from: str
    valid_to: str
    tag: str
    may_revoke: bool


def _grants_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: int = 200,
    failed: int | None = None,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    now = utcnow()
    resources = Resources(session, actor)
    rows = []
    for grant in service.list_grants(session, actor):
        state = grant_state(grant, now)
        out = GrantOut.of(grant, state=state.value, state_label=state.label, request_number=None)
        names = resources.items(out.resource_code)
        rows.append(
            GrantRow(
                grant=out,
                resource_name=resources.name(out.resource_code),
                items_text=_items_text(names, out.items),
                scope_text=_scope_text(names, out.row_scope),
                valid_from=beijing(out.valid_from, "%Y-%m-%d"),
                valid_to=beijing(out.valid_to - timedelta(seconds=1), "%Y-%m-%d"),
                tag=GRANT_TAGS.get(state, ""),
                may_revoke=state in (GrantState.ACTIVE, GrantState.NOT_YET)
                and (
                    _may(actor, Permission.SHARING_APPROVE, out.provider_department_id)
                    or _may(actor, Permission.SHARING_APPLY, out.consumer_department_id)
                ),
            )
        )
    return render(
        request,
        "sharing_grants.html",
        actor,
        status=status,
        rows=rows,
        departments=_department_names(session, actor),
        failed=failed,
        form=form or FormState(),
        done=DONE.get(done or ""),
    )


@router.get("/sharing/grants", response_class=HTMLResponse)
def grants_page(
    request: Request,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> HTMLResponse:
    return _grants_page(request, session, actor, done=done)


@router.post("/sharing/grants/{grant_id}/revoke")
def revoke(
    request: Request,
    grant_id: int = GRANT,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE, Permission.SHARING_APPLY),
) -> Response:
    _csrf(request, csrf_token)
    try:
        service.revoke_grant(session, actor, grant_id, ReasonIn(reason=reason).reason)
    except (ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState("revoke", _explain(exc), {"reason": reason})
        return _grants_page(request, session, actor, status=_status(exc), failed=grant_id, form=failed)
    return _redirect(f"/sharing/grants?done=revoked#grant-{grant_id}")
