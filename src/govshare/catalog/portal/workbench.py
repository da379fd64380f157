"""The catalog workbench (目录编制与审核): the list of one's own department's resources and the review queue
(/catalog/manage), and one resource's page (/catalog/manage/{id}) with its forms: submit for review,
approve and publish or return with a comment (目录审核员), withdraw with a reason. Every action is a plain
HTML form (POST with the CSRF token) that redirects back (303) with the outcome named; a refusal shows the
page again with the service's message next to the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.catalog import service
from govshare.catalog.portal.common import (
    EDIT,
    RESOURCE_ID,
    REVIEW,
    STATE_TAGS,
    TEXT,
    WITHDRAW,
    beijing,
    check_csrf,
    may,
    state_of,
)
from govshare.catalog.portal.draft_form import ITEM_LABELS, LABELS, field_text
from govshare.catalog.schemas import ResourceOut, VersionDiff
from govshare.catalog.vocabulary import DataType
from govshare.errors import Conflict, InvalidInput
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import error_status, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

DONE = {
    "created": "草稿已保存。",
    "saved": "草稿已保存。",
    "submitted": "已提交审核，请等待目录审核员审核。",
    "approved": "审核通过，信息资源已发布。",
    "returned": "已退回修改，提供部门可以看到审核意见。",
    "withdrawn": "信息资源已下架，记录和历次版本仍保留。",
}
CHANGES = {"added": "新增", "removed": "删除", "changed": "修改"}


# ---------------------------------------------------------------- the workbench list


@dataclass
class Row:
    resource: ResourceOut
    state: str
    state_label: str
    tag: str
    version: int | None
    comment: str | None
    reviewer: str | None
    updated: str
    editable: bool


def _row(actor: Actor, out: ResourceOut) -> Row:
    state, label = state_of(out)
    version = out.pending or out.current
    return Row(
        resource=out,
        state=state,
        state_label=label,
        tag=STATE_TAGS.get(state, ""),
        version=version.number if version else None,
        comment=out.pending.review_comment if out.pending and state == "returned" else None,
        reviewer=out.pending.reviewed_by if out.pending and state == "returned" else None,
        updated=beijing(out.updated_at),
        editable=may(actor, EDIT, out.provider_code) and state != "submitted",
    )


@router.get("/catalog/manage", response_class=HTMLResponse)
def manage(
    request: Request,
    state: str | None = Query(None, pattern="^(draft|submitted|returned|published|withdrawn)$"),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT, REVIEW),
) -> HTMLResponse:
    mine: list[Row] = []
    if actor.scope_of(EDIT) and actor.department_code:
        found = service.list_resources(session, actor, department_code=actor.department_code)
        mine = [_row(actor, r) for r in sorted(found, key=lambda r: r.updated_at, reverse=True)]
    counts: dict[str, int] = {}
    for row in mine:
        counts[row.state] = counts.get(row.state, 0) + 1
    queue = [_row(actor, r) for r in service.review_queue(session, actor)] if actor.scope_of(REVIEW) else []
    return render(
        request,
        "catalog_manage.html",
        actor,
        rows=[r for r in mine if state is None or r.state == state],
        counts=counts,
        state=state,
        states={
            "draft": "草稿",
            "submitted": "待审核",
            "returned": "已退回",
            "published": "已发布",
            "withdrawn": "已下架",
        },
        queue=queue,
        may_edit=bool(actor.scope_of(EDIT) and actor.department_code),
        may_review=bool(actor.scope_of(REVIEW)),
    )


# ---------------------------------------------------------------- one resource: submit, review, withdraw


@dataclass
class Failed:
    name: str | None = None
    error: str | None = None
    values: dict[str, str] = field(default_factory=dict)


def _diff_rows(diff: VersionDiff | None) -> list[tuple[str, str, str]]:
    if diff is None:
        return []
    out = []
    for change in diff.fields:
        out.append((LABELS.get(change.field, change.field), _shown(change.before), _shown(change.after)))
    return out


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


def _item_changes(diff: VersionDiff | None) -> list[tuple[str, str, str]]:
    if diff is None:
        return []
    out = []
    for item in diff.items:
        details = "；".join(
            f"{ITEM_LABELS.get(c.field, c.field)}：{_shown(c.before)} → {_shown(c.after)}"
            for c in item.changes
        )
        out.append((item.field_name, CHANGES.get(item.change, item.change), details))
    return out


def _work_page(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    status: int = 200,
    failed: Failed | None = None,
    done: str | None = None,
) -> HTMLResponse:
    resource = service.get_resource(session, actor, resource_id)
    state, label = state_of(resource)
    version = resource.pending or resource.current
    diff = None
    if resource.pending is not None and resource.current is not None:
        diff = service.diff_versions(
            session, actor, resource_id, resource.current.number, resource.pending.number
        )
    forms = set()
    if may(actor, EDIT, resource.provider_code):
        if state in ("draft", "returned", "published", "withdrawn"):
            forms.add("edit")
        if state in ("draft", "returned"):
            forms.add("submit")
    if actor.scope_of(REVIEW) and state == "submitted":
        forms |= {"approve", "return"}
    if may(actor, WITHDRAW, resource.provider_code) and resource.status == "active":
        forms.add("withdraw")
    return render(
        request,
        "catalog_review.html",
        actor,
        status=status,
        resource=resource,
        version=version,
        definition=version.definition if version else {},
        state=state,
        state_label=label,
        tag=STATE_TAGS.get(state, ""),
        diff_fields=_diff_rows(diff),
        diff_items=_item_changes(diff),
        has_diff=diff is not None,
        forms=forms,
        failed=failed or Failed(),
        done=DONE.get(done or ""),
        type_labels={t.value: t.label for t in DataType},
        beijing=beijing,
    )


@router.get("/catalog/manage/{resource_id}", response_class=HTMLResponse)
def work_page(
    request: Request,
    resource_id: int = RESOURCE_ID,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT, REVIEW, WITHDRAW),
) -> HTMLResponse:
    return _work_page(request, session, actor, resource_id, done=done)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    name: str,
    values: dict[str, str],
    call: Callable[[], object],
) -> Response:
    """Run one action of the page; when the service refuses it, show the page again with why."""
    try:
        call()
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        message = (
            "；".join(field_text(e) for e in exc.errors)
            if isinstance(exc, InvalidInput) and exc.errors
            else exc.message
        )
        failed = Failed(name, message, values)
        return _work_page(request, session, actor, resource_id, status=error_status(exc), failed=failed)
    return see_other(f"/catalog/manage/{resource_id}?done={name}")


@router.post("/catalog/manage/{resource_id}/submit")
def submit(
    request: Request,
    resource_id: int = RESOURCE_ID,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> Response:
    check_csrf(request, csrf_token)
    return _act(
        request,
        session,
        actor,
        resource_id,
        "submitted",
        {},
        lambda: service.submit(session, actor, resource_id),
    )


@router.post("/catalog/manage/{resource_id}/approve")
def approve(
    request: Request,
    resource_id: int = RESOURCE_ID,
    comment: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(REVIEW),
) -> Response:
    check_csrf(request, csrf_token)
    return _act(
        request,
        session,
        actor,
        resource_id,
        "approved",
        {"comment": comment},
        lambda: service.approve(session, actor, resource_id, comment.strip()),
    )


@router.post("/catalog/manage/{resource_id}/return")
def return_for_changes(
    request: Request,
    resource_id: int = RESOURCE_ID,
    comment: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(REVIEW),
) -> Response:
    check_csrf(request, csrf_token)
    return _act(
        request,
        session,
        actor,
        resource_id,
        "returned",
        {"comment": comment},
        lambda: service.return_for_changes(session, actor, resource_id, comment.strip()),
    )


@router.post("/catalog/manage/{resource_id}/withdraw")
def withdraw(
    request: Request,
    resource_id: int = RESOURCE_ID,
    reason: str = Form("", max_length=TEXT),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(WITHDRAW),
) -> Response:
    check_csrf(request, csrf_token)

    def call() -> None:
        if len(reason.strip()) < 2:
            raise InvalidInput.on("reason", "请写明下架理由（至少 2 个字）")
        service.withdraw(session, actor, resource_id, reason.strip())

    return _act(request, session, actor, resource_id, "withdrawn", {"reason": reason}, call)
