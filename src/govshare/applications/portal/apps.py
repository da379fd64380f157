"""Portal pages: 应用系统与接口密钥. Calls the same services as the API.

A department's business systems (应用系统), their keys and their live grants. A new key is shown once, on
the page that answers the issuing form (never in a URL, never on a later page, `Cache-Control: no-store`);
the node keeps only its digest. Revoking asks for a reason, which is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.applications import service
from govshare.applications.policies import key_actions
from govshare.applications.schemas import ApplicationCreate, ApplicationOut, KeyIssue, KeyOut
from govshare.auth.actor import Actor
from govshare.auth.permissions import APPLICATION_DEFAULT, APPLICATION_GRANTABLE, Permission, Scope
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput
from govshare.identity import service as identity
from govshare.sharing import service as sharing
from govshare.sharing.policies import grant_state
from govshare.sharing.vocabulary import GrantState
from govshare.web import forms
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import FormState, beijing, check_csrf, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

CODE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
PREFIX = Path(min_length=1, max_length=16, pattern=r"^[a-z0-9]+$")

# What each permission a key may carry means, in words a department's staff read.
SCOPE_LABELS: dict[Permission, str] = {
    Permission.DATA_READ: "调用数据接口（仅限已获授权的资源和信息项）",
    Permission.CATALOG_READ: "查阅资源目录",
    Permission.DEPARTMENT_READ: "查阅部门信息",
    Permission.COLLECTION_PUSH: "向本部门的归集数据源推送数据",
}
_VALUES = frozenset(p.value for p in Permission)
STATE_LABELS = {"active": "有效", "expired": "已过期", "revoked": "已吊销"}
STATE_TAGS = {"active": "tag-unconditional", "expired": "tag-conditional", "revoked": "tag-none"}
DONE = {
    "created": "应用系统已登记。可以在下方为它签发接口密钥。",
    "revoked": "密钥已吊销，使用它的下一次调用即被拒绝。",
}
FIELD_LABELS = {
    "code": "应用代码",
    "name": "应用名称",
    "department_code": "所属部门",
    "description": "说明",
    "scopes": "密钥权限",
    "days": "有效天数",
    "reason": "吊销理由",
}
EXAMPLE_PURPOSE = "低保资格审核"
EXAMPLE_OPERATOR = "经办人张三"


def _explain(exc: Exception) -> str:
    return forms.explain(exc, forms.labeller(FIELD_LABELS))


@dataclass
class KeyRow:
    key: KeyOut
    scopes: list[str]
    state_label: str
    tag: str
    created_at: str
    expires_at: str
    last_used_at: str
    revoked_at: str


def _key_rows(keys: list[KeyOut]) -> list[KeyRow]:
    return [
        KeyRow(
            key=k,
            scopes=[SCOPE_LABELS.get(Permission(s), s) if s in _VALUES else s for s in k.scopes],
            state_label=STATE_LABELS.get(k.state, k.state),
            tag=STATE_TAGS.get(k.state, ""),
            created_at=beijing(k.created_at),
            expires_at=beijing(k.expires_at, "%Y-%m-%d"),
            last_used_at=beijing(k.last_used_at) or "从未使用",
            revoked_at=beijing(k.revoked_at),
        )
        for k in sorted(keys, key=lambda k: k.created_at, reverse=True)
    ]


def _live_grants(session: Session, actor: Actor, code: str) -> int | None:
    """How many grants of the application are in force now (None: the reader cannot see grants)."""
    if not actor.scope_of(Permission.SHARING_READ):
        return None
    now = utcnow()
    return sum(
        grant_state(g, now) == GrantState.ACTIVE
        for g in sharing.list_grants(session, actor, application=code)
    )


def _departments(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The departments this person may register an application for (code, name)."""
    scope = actor.scope_of(Permission.APPLICATION_MANAGE)
    if scope is None:
        return []
    if not actor.scope_of(Permission.DEPARTMENT_READ):
        return [(actor.department_code, actor.department_code)] if actor.department_code else []
    return [
        (d.code, d.name)
        for d in identity.list_departments(session, actor)
        if d.is_active and (scope == Scope.ALL or d.id == actor.department_id)
    ]


# ---------------------------------------------------------------- the list


@dataclass
class AppRow:
    app: ApplicationOut
    keys: list[KeyRow]
    active_keys: int
    live_grants: int | None


def _list_page(
    request: Request, session: Session, actor: Actor, *, status: int = 200, form: FormState | None = None
) -> HTMLResponse:
    rows = []
    for application in service.list_applications(session, actor):
        keys = _key_rows([KeyOut.of(k) for k in service.list_keys(session, actor, application.code)])
        rows.append(
            AppRow(
                app=ApplicationOut.of(application),
                keys=keys,
                active_keys=sum(k.key.state == "active" for k in keys),
                live_grants=_live_grants(session, actor, application.code),
            )
        )
    return render(
        request,
        "apps_list.html",
        actor,
        status=status,
        rows=rows,
        departments=_departments(session, actor),
        may_create=actor.scope_of(Permission.APPLICATION_MANAGE) is not None,
        form=form or FormState(),
    )


@router.get("/apps", response_class=HTMLResponse)
def apps_list(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.APPLICATION_READ),
) -> HTMLResponse:
    return _list_page(request, session, actor)


@router.post("/apps")
def apps_create(
    request: Request,
    code: str = Form("", max_length=200),
    name: str = Form("", max_length=400),
    department_code: str = Form("", max_length=64),
    description: str = Form("", max_length=2000),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.APPLICATION_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    values = {"code": code, "name": name, "department_code": department_code, "description": description}
    with form_errors(
        lambda page_session, form, status: _list_page(request, page_session, actor, status=status, form=form),
        name="create",
        values=values,
        explain_error=_explain,
    ):
        data = ApplicationCreate(
            code=code.strip(),
            name=name.strip(),
            department_code=department_code.strip() or (actor.department_code or ""),
            description=description.strip(),
        )
        created = service.create_application(session, actor, data)
    return see_other(f"/apps/{created.code}?done=created")


# ---------------------------------------------------------------- one application


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    application = service.get_application(session, actor, code)
    keys = _key_rows([KeyOut.of(k) for k in service.list_keys(session, actor, code)])
    may = key_actions(actor, application)
    cfg = node_config(session)
    return render(
        request,
        "apps_detail.html",
        actor,
        status=status,
        app=ApplicationOut.of(application),
        keys=keys,
        live_grants=_live_grants(session, actor, code),
        may_issue=may.may_issue,
        may_revoke=may.may_revoke,
        scopes=[(p.value, SCOPE_LABELS.get(p, p.value), p in APPLICATION_DEFAULT) for p in _grantable()],
        default_days=cfg.api_key_default_days,
        max_days=cfg.api_key_max_days,
        form=form or FormState(),
        done=DONE.get(done or ""),
    )


def _grantable() -> list[Permission]:
    order = list(SCOPE_LABELS)
    return sorted(APPLICATION_GRANTABLE, key=lambda p: order.index(p) if p in order else len(order))


@router.get("/apps/{code}", response_class=HTMLResponse)
def apps_detail(
    request: Request,
    code: str = CODE,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.APPLICATION_READ),
) -> HTMLResponse:
    return _detail_page(request, session, actor, code, done=done)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@router.post("/apps/{code}/keys")
def apps_issue_key(
    request: Request,
    code: str = CODE,
    scopes: list[str] = Form([]),
    days: str = Form("", max_length=10),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.API_KEY_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    values: dict[str, Any] = {"scopes": scopes, "days": days}
    with form_errors(
        lambda page_session, form, status: _no_store(
            _detail_page(request, page_session, actor, code, status=status, form=form)
        ),
        name="issue",
        values=values,
        explain_error=_explain,
    ):
        if not scopes:
            raise InvalidInput.on("scopes", "至少选择一项")
        if days.strip() and not days.strip().isdigit():
            raise InvalidInput.on("days", "必须是整数")
        body = KeyIssue.model_validate(
            {"scopes": scopes[: len(Permission)], "days": int(days) if days.strip() else None}
        )
        issued = service.issue_key(session, actor, code, scopes=body.scopes, days=body.days)
    key = KeyOut.of(issued.key)
    page = render(
        request,
        "apps_key_issued.html",
        actor,
        app=ApplicationOut.of(issued.key.application),
        key=_key_rows([key])[0],
        secret=issued.secret,
        purpose=EXAMPLE_PURPOSE,
        operator=EXAMPLE_OPERATOR,
        purpose_encoded=quote(EXAMPLE_PURPOSE),
        operator_encoded=quote(EXAMPLE_OPERATOR),
    )
    return _no_store(page)


@router.post("/apps/{code}/keys/{prefix}/revoke")
def apps_revoke_key(
    request: Request,
    code: str = CODE,
    prefix: str = PREFIX,
    reason: str = Form("", max_length=2000),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.API_KEY_REVOKE, Permission.API_KEY_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    reason = reason.strip()
    with form_errors(
        lambda page_session, form, status: _detail_page(
            request, page_session, actor, code, status=status, form=form
        ),
        name="revoke",
        values={"prefix": prefix, "reason": reason},
        explain_error=_explain,
        catch=(InvalidInput, Conflict),
    ):
        if len(reason) < 4:
            raise InvalidInput.on("reason", "请说明吊销理由（至少 4 个字）")
        service.revoke_key(session, actor, code, prefix, reason=reason)
    return see_other(f"/apps/{code}?done=revoked#key-{prefix}")
