"""Portal pages for asking for data (共享服务): a resource's application form, with the forms that file an
application (申请), subscribe to its unconditional items (订阅) and ask the provider to negotiate (协商).
A refused or invalid form shows the page again with the message and what the person entered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import service as catalog
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import BEIJING, utcnow
from govshare.sharing import negotiation, service
from govshare.sharing.portal.common import (
    TEXT,
    FormError,
    FormState,
    check_csrf,
    explain,
    parse_count,
    parse_day,
    split_values,
)
from govshare.sharing.schemas import ApplyIn, NegotiateIn, SubscribeIn
from govshare.sharing.vocabulary import PurposeKind
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import FORM_ERRORS, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

CODE_PATTERN = r"^[A-Za-z0-9_-]*$"


def _own_applications(session: Session, actor: Actor) -> list[tuple[str, str]] | None:
    """(code, name) of the applications the actor may apply for; None when the actor types the code."""
    found = service.applications_to_apply_for(session, actor)
    return None if found is None else [(a.code, a.name) for a in found]


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
    actor: Actor,
    code: str,
    name: str,
    values: dict[str, Any],
    call: Callable[[], str],
) -> Response:
    """Run one form of the application page and go where it leads; invalid input or a conflict shows the
    page again with the message and what the person entered (the request's unit of work rolls it back)."""
    with form_errors(
        lambda session, form, status: _apply_page(request, session, actor, code, status=status, form=form),
        name=name,
        values=values,
        explain_error=explain,
        catch=(FormError, *FORM_ERRORS),
    ):
        target = call()
    return see_other(target)


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
    check_csrf(request, csrf_token)
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
            if not scope_item.strip() or not split_values(scope_values):
                raise FormError("row_scope", "限定记录范围时须选择信息项并填写取值")
            scope[scope_item.strip()] = split_values(scope_values)
        if not items:
            raise FormError("items", "请至少勾选一个信息项")
        volumes = {
            k: v
            for k, v in (
                ("requests_per_day", parse_count(requests_per_day, "requests_per_day")),
                ("rows_per_day", parse_count(rows_per_day, "rows_per_day")),
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
            period_start=parse_day(period_start, "period_start"),
            period_end=parse_day(period_end, "period_end"),
            **volumes,
        )
        filed = service.apply(session, actor, data)
        return f"/sharing/requests/{filed.number}?done=applied"

    return _on_apply_page(request, actor, resource, "apply", values, call)


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
    check_csrf(request, csrf_token)
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

    return _on_apply_page(request, actor, resource, "subscribe", values, call)


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
    check_csrf(request, csrf_token)
    values = {"application": application, "reason": reason}

    def call() -> str:
        data = NegotiateIn(application=application, resource=resource, reason=reason)
        filed = negotiation.negotiate(session, actor, data)
        return f"/sharing/requests/{filed.number}?done=negotiating"

    return _on_apply_page(request, actor, resource, "negotiate", values, call)
