"""The catalog workbench (目录编制与审核): the list of one's own department's resources and the review queue
(/catalog/manage), and one resource's page (/catalog/manage/{id}) with its forms: submit for review,
approve and publish or return with a comment (目录审核员), withdraw with a reason. Every action is a plain
HTML form (POST with the CSRF token) that redirects back (303) with the outcome named; a refusal shows the
page again with the service's message next to the form (`web/forms.py` `form_errors`: the request's unit of
work rolls the action back, the page is built afresh).

Which forms a page offers, and each resource's stage, come from the service (`ResourceOut.allowed_actions`,
`state`, `state_label`, computed by `catalog/workflow.py`), the same answer the API gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
)
from govshare.catalog.portal.draft_form import ITEM_LABELS, LABELS, field_text
from govshare.catalog.schemas import ResourceOut, VersionDiff
from govshare.catalog.vocabulary import DataType
from govshare.catalog.workflow import CatalogAction, Stage
from govshare.errors import InvalidInput
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import FormState, form_errors, see_other
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


def _row(out: ResourceOut) -> Row:
    version = out.pending or out.current
    returned = out.pending is not None and out.state == "returned"
    return Row(
        resource=out,
        state=out.state,
        state_label=out.state_label,
        tag=STATE_TAGS.get(out.state, ""),
        version=version.number if version else None,
        comment=out.pending.review_comment if out.pending and returned else None,
        reviewer=out.pending.reviewed_by if out.pending and returned else None,
        updated=beijing(out.updated_at),
        editable=CatalogAction.EDIT in out.allowed_actions,
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
        mine = [_row(r) for r in sorted(found, key=lambda r: r.updated_at, reverse=True)]
    counts: dict[str, int] = {}
    for row in mine:
        counts[row.state] = counts.get(row.state, 0) + 1
    queue = [_row(r) for r in service.review_queue(session, actor)] if actor.scope_of(REVIEW) else []
    return render(
        request,
        "catalog_manage.html",
        actor,
        rows=[r for r in mine if state is None or r.state == state],
        counts=counts,
        state=state,
        states={stage.value: stage.label for stage in Stage},
        queue=queue,
        may_edit=bool(actor.scope_of(EDIT) and actor.department_code),
        may_review=bool(actor.scope_of(REVIEW)),
    )


# ---------------------------------------------------------------- one resource: submit, review, withdraw


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
    failed: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    resource = service.get_resource(session, actor, resource_id)
    version = resource.pending or resource.current
    diff = None
    if resource.pending is not None and resource.current is not None:
        diff = service.diff_versions(
            session, actor, resource_id, resource.current.number, resource.pending.number
        )
    return render(
        request,
        "catalog_review.html",
        actor,
        status=status,
        resource=resource,
        version=version,
        definition=version.definition if version else {},
        state=resource.state,
        state_label=resource.state_label,
        tag=STATE_TAGS.get(resource.state, ""),
        diff_fields=_diff_rows(diff),
        diff_items=_item_changes(diff),
        has_diff=diff is not None,
        forms=set(resource.allowed_actions),
        failed=failed or FormState(),
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


def _explain(exc: Exception) -> str:
    """The service's refusal in Chinese, each field error with its field's name."""
    if isinstance(exc, InvalidInput) and exc.errors:
        return "；".join(field_text(e) for e in exc.errors)
    return str(getattr(exc, "message", exc))


def _act(
    request: Request,
    actor: Actor,
    resource_id: int,
    name: str,
    values: dict[str, str],
    call: Callable[[], object],
) -> Response:
    """Run one action of the page; when the service refuses it, show the page again with why."""
    with form_errors(
        lambda session, form, status: _work_page(
            request, session, actor, resource_id, status=status, failed=form
        ),
        name=name,
        values=values,
        explain_error=_explain,
    ):
        call()
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
    return _act(
        request,
        actor,
        resource_id,
        "withdrawn",
        {"reason": reason},
        lambda: service.withdraw(session, actor, resource_id, reason.strip()),
    )
