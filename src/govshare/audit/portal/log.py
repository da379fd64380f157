"""Portal pages: 审计查看与“谁查看了我”（仅审计员）. Calls the same services as the API.

The audit log newest first, with filters and keyset paging; one entry in full; the verification of the hash
chain; and "who looked at me", whose 公民身份号码 / 统一社会信用代码 travels in a POST body only, so it never
lands in a URL, a browser history or an access log. Reading, verifying and tracing are audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.audit import service
from govshare.audit.schemas import AuditEntryOut, AuditFilter
from govshare.audit.vocabulary import (
    ACTOR_KINDS,
    CATEGORIES,
    OUTCOMES,
    SUBJECT_KINDS,
    action_label,
    target_type_label,
)
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.core.clock import assume_beijing
from govshare.errors import InvalidInput, NotFound
from govshare.identity import service as identity
from govshare.sharing import stats_service
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import beijing, check_csrf, form_errors
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

PAGE = 50
OUTCOME_TAGS = {"success": "tag-unconditional", "denied": "tag-none", "failure": "tag-conditional"}


def _moment(value: str, field_name: str, label: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.on(field_name, f"{label}的格式应为 年-月-日 时:分，如 2026-05-01 08:30") from None
    return assume_beijing(parsed, field_name)


@dataclass(frozen=True)
class Filters:
    """What the auditor asked for, as typed into the form."""

    actor_name: str = ""
    department: str = ""
    category: str = ""
    action: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""

    def query(self, **extra: Any) -> dict[str, Any]:
        return {k: v for k, v in {**vars(self), **extra}.items() if v not in ("", None)}


@dataclass
class Row:
    entry: AuditEntryOut
    at: str
    kind: str
    outcome: str
    tag: str
    label: str
    target_type: str


def _row(entry: AuditEntryOut) -> Row:
    return Row(
        entry=entry,
        at=beijing(entry.occurred_at, "%Y-%m-%d %H:%M:%S"),
        kind=ACTOR_KINDS.get(entry.actor_type, entry.actor_type),
        outcome=OUTCOMES.get(entry.outcome, entry.outcome),
        tag=OUTCOME_TAGS.get(entry.outcome, ""),
        label=action_label(entry.action),
        target_type=target_type_label(entry.target_type),
    )


def _departments(session: Session, actor: Actor) -> list[tuple[str, str]]:
    if not actor.scope_of(Permission.DEPARTMENT_READ):
        return []
    return [(d.code, d.name) for d in identity.list_departments(session, actor)]


@router.get("/audit", response_class=HTMLResponse)
def audit_list(
    request: Request,
    actor_name: str = Query("", max_length=100),
    department: str = Query("", max_length=32),
    category: str = Query("", max_length=32),
    action: str = Query("", max_length=64),
    outcome: str = Query("", max_length=16),
    since: str = Query("", max_length=32),
    until: str = Query("", max_length=32),
    before: int | None = Query(None, ge=1, le=2**62),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.AUDIT_READ),
) -> HTMLResponse:
    filters = Filters(
        actor_name=actor_name.strip(),
        department=department.strip().upper(),
        category=category if category in CATEGORIES else "",
        action=action.strip(),
        outcome=outcome if outcome in OUTCOMES else "",
        since=since.strip(),
        until=until.strip(),
    )
    error, rows, next_before = None, [], None
    try:
        flt = AuditFilter(
            action=filters.action or None,
            actor_name=filters.actor_name or None,
            outcome=filters.outcome or None,
            department_code=filters.department or None,
            action_prefix=filters.category or None,
            since=_moment(filters.since, "since", "开始时间"),
            until=_moment(filters.until, "until", "结束时间"),
        )
    except InvalidInput as exc:
        error = "；".join(e.message for e in exc.errors) or exc.message
    else:
        entries = service.list_entries(session, actor, flt, before_seq=before, limit=PAGE)
        rows = [_row(AuditEntryOut.of(e)) for e in entries]
        if len(entries) == PAGE:
            next_before = entries[-1].seq
    departments = _departments(session, actor)
    return render(
        request,
        "audit_list.html",
        actor,
        status=422 if error else 200,
        error=error,
        rows=rows,
        filters=filters,
        next_query=filters.query(before=next_before) if next_before else None,
        first_query=filters.query() if before else None,
        departments=departments,
        department_names=dict(departments),
        categories=CATEGORIES,
        outcomes=OUTCOMES,
        may_verify=actor.scope_of(Permission.AUDIT_VERIFY) is not None,
        may_trace=actor.scope_of(Permission.ACCESS_TRACE) is not None,
    )


@router.get("/audit/entries/{seq}", response_class=HTMLResponse)
def audit_entry(
    request: Request,
    seq: int = Path(ge=1, le=2**62),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.AUDIT_READ),
) -> HTMLResponse:
    found = service.list_entries(session, actor, AuditFilter(), before_seq=seq + 1, limit=1)
    if not found or found[0].seq != seq:
        raise NotFound(f"第 {seq} 条审计记录不存在")
    entry = AuditEntryOut.of(found[0])
    return render(
        request,
        "audit_entry.html",
        actor,
        row=_row(entry),
        department_names=dict(_departments(session, actor)),
        operator=entry.detail.get("operator"),
        detail_json=json.dumps(entry.detail, ensure_ascii=False, indent=2, sort_keys=True, default=str),
    )


@router.post("/audit/verify", response_class=HTMLResponse)
def audit_verify(
    request: Request,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.AUDIT_VERIFY),
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    report = service.verify(session, actor)
    return render(request, "audit_verify.html", actor, report=report)


# ---------------------------------------------------------------- who looked at me


@dataclass
class Access:
    at: str
    department: str
    application: str
    resource: str
    resource_name: str
    action: str
    purpose: str
    operator: str
    outcome: str
    tag: str
    seq: int | None


def _accesses(found: dict[str, Any], departments: dict[str, str]) -> list[Access]:
    rows = []
    for a in found["accesses"]:
        at = datetime.fromisoformat(a["at"]) if a.get("at") else None
        code = a.get("department") or ""
        rows.append(
            Access(
                at=beijing(at, "%Y-%m-%d %H:%M:%S"),
                department=f"{departments[code]}（{code}）" if code in departments else code,
                application=a.get("application") or "",
                resource=a.get("resource") or "",
                resource_name=a.get("resource_name") or "",
                action=action_label(a.get("action") or "") or (a.get("action") or ""),
                purpose=a.get("purpose") or "",
                operator=a.get("operator") or "",
                outcome=OUTCOMES.get(a.get("outcome") or "", a.get("outcome") or ""),
                tag=OUTCOME_TAGS.get(a.get("outcome") or "", ""),
                seq=a.get("audit_seq"),
            )
        )
    return rows


@router.get("/audit/who-looked", response_class=HTMLResponse)
def who_looked_form(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ACCESS_TRACE),
) -> HTMLResponse:
    return render(request, "audit_who_looked.html", actor, number="", error=None, result=None)


@router.post("/audit/who-looked", response_class=HTMLResponse)
def who_looked_submit(
    request: Request,
    number: str = Form("", max_length=64),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ACCESS_TRACE),
) -> Response:
    check_csrf(request, csrf_token)
    with form_errors(
        lambda _session, form, status: _no_store(
            render(
                request,
                "audit_who_looked.html",
                actor,
                status=status,
                number=number,
                error=form.error,
                result=None,
            )
        ),
        explain_error=_messages,
        catch=(InvalidInput,),
    ):
        if not number.strip():
            raise InvalidInput.on("number", "请输入公民身份号码或统一社会信用代码")
        found = stats_service.who_looked(session, actor, number)
    departments = dict(_departments(session, actor))
    page = render(
        request,
        "audit_who_looked.html",
        actor,
        number=number.strip().upper(),
        error=None,
        result={"kind": SUBJECT_KINDS.get(found["kind"], ""), "accesses": _accesses(found, departments)},
    )
    return _no_store(page)


def _messages(exc: Exception) -> str:
    """The problems with the number, without a field name (the form has one field)."""
    assert isinstance(exc, InvalidInput)
    return "；".join(e.message for e in exc.errors) or exc.message


def _no_store(page: HTMLResponse) -> HTMLResponse:
    """The number asked about is personal data: the browser keeps no copy of the page."""
    page.headers["Cache-Control"] = "no-store"
    return page
