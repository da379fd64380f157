"""Portal pages: 系统管理：部门、用户、角色、代码集、节点设置. Calls the same services as the API.

Every page and action declares its permission on the route (`require`), and the services check again
(`@action` and the department scope): a department admin reaches the user pages but the identity service
keeps them to their own department; privileged roles and 三员分立 are the identity policies' rules, whose
Chinese messages the pages show. Forms are plain HTML (POST with the CSRF token, 303 back to the page).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from govshare.auth.actor import Actor
from govshare.auth.permissions import PRIVILEGED_ROLES, ROLE_PERMISSIONS, Permission, Role, Scope
from govshare.core.clock import BEIJING, utcnow
from govshare.errors import Conflict, CsrfFailed, InvalidInput, PayloadTooLarge
from govshare.identity import service as identity
from govshare.identity.schemas import LEVEL_LABELS, DepartmentCreate, UserCreate, UserOut
from govshare.settings import DEV_AUDIT_KEY, DEV_SECRET_KEY, Settings
from govshare.standards import importing
from govshare.standards import service as standards
from govshare.standards.schemas import CodeOut, CodeSetImport
from govshare.web.deps import DB_SESSION, csrf_valid, require
from govshare.web.portal import render

router = APIRouter(include_in_schema=False)

P = Permission
ADMIN = (P.DEPARTMENT_MANAGE, P.USER_MANAGE, P.ROLE_ASSIGN, P.USER_UNLOCK, P.STANDARDS_EDIT)
USER_ADMIN = (P.USER_MANAGE, P.ROLE_ASSIGN, P.USER_UNLOCK)
SETTINGS_READERS = (P.DEPARTMENT_MANAGE, P.ROLE_ASSIGN)  # the node's officers (never department scope)
USERNAME = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
CODE_SET = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
EDITABLE_MAX_CODES = 5000  # a larger code set changes by file import, not one code at a time
UPLOAD_SLACK = 64 * 1024  # the multipart envelope and the form's other fields

PERMISSION_LABELS: dict[Permission, str] = {
    P.DEPARTMENT_READ: "查看部门",
    P.DEPARTMENT_MANAGE: "管理部门",
    P.USER_READ: "查看用户",
    P.USER_MANAGE: "管理用户（新增、停用、启用、授予一般角色）",
    P.ROLE_ASSIGN: "授予与收回角色（含特权角色）",
    P.USER_UNLOCK: "解锁账号",
    P.APPLICATION_READ: "查看应用系统",
    P.APPLICATION_MANAGE: "管理应用系统",
    P.API_KEY_MANAGE: "签发接口密钥",
    P.API_KEY_REVOKE: "吊销接口密钥",
    P.AUDIT_READ: "查阅审计日志",
    P.AUDIT_VERIFY: "校验审计日志",
    P.CATALOG_READ: "查看目录",
    P.CATALOG_EDIT: "编制目录",
    P.CATALOG_REVIEW: "审核目录",
    P.CATALOG_WITHDRAW: "撤回目录",
    P.CATALOG_OVERRIDE: "目录特别处置",
    P.INVENTORY_READ: "查看系统清单",
    P.INVENTORY_EDIT: "编制系统清单",
    P.STANDARDS_EDIT: "维护数据标准（代码集、数据元）",
    P.COLLECTION_READ: "查看归集批次",
    P.COLLECTION_RUN: "运行归集",
    P.COLLECTION_PUSH: "推送数据",
    P.SHARING_READ: "查看共享申请与授权",
    P.SHARING_APPLY: "提出共享申请",
    P.SHARING_APPROVE: "审批共享申请",
    P.SHARING_SUPERVISE: "共享主管部门办理（审查、协调）",
    P.SHARING_STATS: "查看共享统计",
    P.DATA_READ: "调用数据接口",
    P.ACCESS_TRACE: "查询个人数据被访问记录",
}
SCOPE_LABELS = {Scope.ALL: "全部", Scope.OWN_DEPARTMENT: "本部门"}
FIELD_LABELS = {
    "code": "代码",
    "name": "名称",
    "division_code": "行政区划代码",
    "level": "层级",
    "parent_code": "上级部门",
    "uscc": "统一社会信用代码",
    "username": "用户名",
    "display_name": "姓名",
    "department_code": "所属部门",
    "password": "初始口令",
    "roles": "角色",
    "role": "角色",
    "version": "版本号",
    "label": "名称",
    "position": "排序",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "note": "备注",
    "file": "文件",
    "standard": "标准编号",
}
DONE = {
    "department": "部门已新增。",
    "user": "用户已新增。",
    "granted": "角色已授予。",
    "revoked": "角色已收回。",
    "unlocked": "账号已解锁。",
    "disabled": "账号已停用，其登录会话已全部失效。",
    "enabled": "账号已启用。",
    "code": "代码已保存为代码集的新版本。",
    "imported": "代码集已导入。",
}


# ---------------------------------------------------------------- helpers


def _csrf(request: Request, token: str) -> None:
    if not csrf_valid(request, token):
        raise CsrfFailed()


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def _label(name: str) -> str:
    return FIELD_LABELS.get(name.split(".")[0], name)


def _explain(exc: Exception) -> str:
    """The Chinese sentence a form shows for invalid input or a conflict."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:5]:
            loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
            kind = error.get("type", "")
            if kind == "missing" or (kind == "string_too_short" and error.get("input") == ""):
                what = "必须填写"
            elif kind == "string_pattern_mismatch":
                what = "格式不正确"
            elif kind == "string_too_long":
                what = f"长度不能超过 {error.get('ctx', {}).get('max_length')} 个字符"
            elif kind == "string_too_short":
                what = f"长度不能少于 {error.get('ctx', {}).get('min_length')} 个字符"
            elif kind in ("enum", "literal_error"):
                what = "取值不在允许范围内"
            elif kind == "value_error":
                what = str(error.get("ctx", {}).get("error", "取值无效"))
            else:
                what = "取值无效"
            parts.append(f"{_label(loc[0])}：{what}" if loc else what)
        return "；".join(parts) or "输入不合法"
    if isinstance(exc, InvalidInput) and exc.errors:
        return "；".join(f"{_label(e.field)}：{e.message}" for e in exc.errors[:10])
    return str(getattr(exc, "message", exc))


def _status(exc: Exception) -> int:
    return 409 if isinstance(exc, Conflict) else 422


def beijing(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _today() -> date:
    return utcnow().astimezone(BEIJING).date()


def _may(actor: Actor, permission: Permission, department_id: int | None) -> bool:
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_id == department_id)


def grantable_roles(actor: Actor, department_id: int | None) -> list[Role]:
    """The roles this actor may hand out to a user of the department (identity.policies decides again)."""
    if actor.scope_of(P.ROLE_ASSIGN):
        return list(Role)
    if _may(actor, P.USER_MANAGE, department_id):
        return [r for r in Role if r not in PRIVILEGED_ROLES]
    return []


@dataclass
class FormState:
    name: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _user_state(user: UserOut) -> tuple[str, str]:
    """The account's state in words, with its tag class."""
    if not user.is_active:
        return "已停用", "tag-none"
    locked = user.locked_until
    if locked is not None:
        aware = locked if locked.tzinfo else locked.replace(tzinfo=UTC)
        if aware > utcnow():
            return f"已锁定至 {beijing(locked)}", "tag-conditional"
    return "正常", "tag-unconditional"


# ---------------------------------------------------------------- the index


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, actor: Actor = require(*ADMIN)) -> HTMLResponse:
    links = []
    if actor.scope_of(P.DEPARTMENT_MANAGE):
        links.append(("/admin/departments", "部门", "新增部门，查看部门的层级与上级部门。"))
    if any(actor.scope_of(p) for p in USER_ADMIN):
        own = actor.scope_of(P.USER_MANAGE) == Scope.OWN_DEPARTMENT and not actor.scope_of(P.ROLE_ASSIGN)
        text = "本部门的用户：新增、停用、启用、授予一般角色。" if own else "用户账号、角色、锁定与停用。"
        links.append(("/admin/users", "用户与角色", text))
    links.append(("/admin/roles", "角色与权限", "每个角色拥有哪些权限、作用于全部部门还是本部门。"))
    if actor.scope_of(P.STANDARDS_EDIT):
        links.append(("/admin/code-sets", "代码集", "数据标准的代码集：查看、增改代码、导入新版本。"))
    if _may_see_settings(actor):
        links.append(("/admin/settings", "节点设置", "节点名称、登录锁定、会话有效期、共享时限等（只读）。"))
    return render(request, "admin_index.html", actor, links=links)


# ---------------------------------------------------------------- departments


def _departments_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    departments = identity.list_departments(session, actor)
    codes = identity.department_codes(session)
    counts: dict[int, int] = {}
    if actor.scope_of(P.USER_READ) == Scope.ALL:
        for user in identity.list_users(session, actor):
            counts[user.department_id] = counts.get(user.department_id, 0) + 1
    return render(
        request,
        "admin_departments.html",
        actor,
        status=status,
        departments=departments,
        codes=codes,
        counts=counts if actor.scope_of(P.USER_READ) == Scope.ALL else None,
        levels=LEVEL_LABELS,
        may_manage=actor.scope_of(P.DEPARTMENT_MANAGE) is not None,
        division_default=request.app.state.settings.node_division_code,
        form=form or FormState(),
        done=DONE.get(done or ""),
    )


@router.get("/admin/departments", response_class=HTMLResponse)
def departments_page(
    request: Request,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(P.DEPARTMENT_MANAGE, P.USER_MANAGE, P.ROLE_ASSIGN),
) -> HTMLResponse:
    return _departments_page(request, session, actor, done=done)


@router.post("/admin/departments")
def create_department(
    request: Request,
    code: str = Form("", max_length=32),
    name: str = Form("", max_length=100),
    division_code: str = Form("", max_length=6),
    level: str = Form("", max_length=16),
    parent_code: str = Form("", max_length=32),
    uscc: str = Form("", max_length=18),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.DEPARTMENT_MANAGE),
) -> Response:
    _csrf(request, csrf_token)
    values = {
        "code": code,
        "name": name,
        "division_code": division_code,
        "level": level,
        "parent_code": parent_code,
        "uscc": uscc,
    }
    try:
        data = DepartmentCreate(
            code=code.strip(),
            name=name.strip(),
            division_code=division_code.strip(),
            level=level,  # validated by the model
            parent_code=parent_code.strip() or None,
            uscc=uscc.strip().upper() or None,
        )
        identity.create_department(session, actor, data)
    except (ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState("department", _explain(exc), values)
        return _departments_page(request, session, actor, status=_status(exc), form=failed)
    return _redirect("/admin/departments?done=department")


# ---------------------------------------------------------------- users


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    department: str | None = Query(None, max_length=32, pattern=r"^[A-Za-z0-9_-]*$"),
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(*USER_ADMIN),
) -> HTMLResponse:
    everywhere = actor.scope_of(P.USER_READ) == Scope.ALL
    chosen = department or None
    users = [UserOut.of(u) for u in identity.list_users(session, actor, chosen)]
    departments = identity.list_departments(session, actor) if everywhere else []
    return render(
        request,
        "admin_users.html",
        actor,
        users=users,
        state_of=_user_state,
        departments=departments,
        chosen=chosen,
        everywhere=everywhere,
        may_create=actor.scope_of(P.USER_MANAGE) is not None,
        done=DONE.get(done or ""),
        beijing=beijing,
    )


def _new_user_page(
    request: Request, session: Session, actor: Actor, *, status: int = 200, form: FormState | None = None
) -> HTMLResponse:
    departments = [
        d
        for d in identity.list_departments(session, actor)
        if _may(actor, P.USER_MANAGE, d.id) and d.is_active
    ]
    return render(
        request,
        "admin_user_new.html",
        actor,
        status=status,
        departments=departments,
        roles=grantable_roles(actor, actor.department_id),
        min_length=request.app.state.db.config.password_min_length,
        form=form or FormState(),
    )


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_page(
    request: Request, session: Session = DB_SESSION, actor: Actor = require(P.USER_MANAGE)
) -> HTMLResponse:
    return _new_user_page(request, session, actor)


@router.post("/admin/users")
def create_user(
    request: Request,
    username: str = Form("", max_length=64),
    display_name: str = Form("", max_length=64),
    department_code: str = Form("", max_length=32),
    password: str = Form("", max_length=256),
    roles: list[str] = Form([]),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_MANAGE),
) -> Response:
    _csrf(request, csrf_token)
    # the password is never sent back to the page
    values = {
        "username": username,
        "display_name": display_name,
        "department_code": department_code,
        "roles": roles,
    }
    try:
        data = UserCreate(
            username=username.strip(),
            display_name=display_name.strip(),
            department_code=department_code.strip(),
            password=password,
            roles=roles[: len(Role)],  # validated by the model
        )
        user = identity.create_user(session, actor, data)
    except (ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState("user", _explain(exc), values)
        return _new_user_page(request, session, actor, status=_status(exc), form=failed)
    return _redirect(f"/admin/users/{user.username}?done=user")


def _user_page(
    request: Request,
    session: Session,
    actor: Actor,
    username: str,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    user = identity.get_user(session, actor, username)
    out = UserOut.of(user)
    held = set(out.roles)
    is_self = actor.kind == "user" and actor.id == str(user.id)
    grantable = [] if is_self else grantable_roles(actor, user.department_id)
    return render(
        request,
        "admin_user.html",
        actor,
        status=status,
        user=out,
        state=_user_state(out),
        failed_logins=user.failed_logins,
        addable=[r for r in grantable if r not in held],
        removable={r for r in grantable if r in held},
        may_unlock=actor.scope_of(P.USER_UNLOCK) is not None,
        may_toggle=not is_self and _may(actor, P.USER_MANAGE, user.department_id),
        form=form or FormState(),
        done=DONE.get(done or ""),
        beijing=beijing,
    )


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(
    request: Request,
    username: str = USERNAME,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(*USER_ADMIN),
) -> HTMLResponse:
    return _user_page(request, session, actor, username, done=done)


def _user_action(
    request: Request, session: Session, actor: Actor, username: str, name: str, call: Any, done: str
) -> Response:
    try:
        call()
    except (ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        return _user_page(
            request, session, actor, username, status=_status(exc), form=FormState(name, _explain(exc))
        )
    return _redirect(f"/admin/users/{username}?done={done}")


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput.on("role", "请选择要授予的角色") from None


@router.post("/admin/users/{username}/roles")
def grant_role(
    request: Request,
    username: str = USERNAME,
    role: str = Form("", max_length=32),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.ROLE_ASSIGN, P.USER_MANAGE),
) -> Response:
    _csrf(request, csrf_token)
    return _user_action(
        request,
        session,
        actor,
        username,
        "roles",
        lambda: identity.grant_role(session, actor, username, _role(role)),
        "granted",
    )


@router.post("/admin/users/{username}/roles/{role}/revoke")
def revoke_role(
    request: Request,
    username: str = USERNAME,
    role: str = Path(max_length=32, pattern=r"^[a-z_]+$"),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.ROLE_ASSIGN, P.USER_MANAGE),
) -> Response:
    _csrf(request, csrf_token)
    return _user_action(
        request,
        session,
        actor,
        username,
        "roles",
        lambda: identity.revoke_role(session, actor, username, _role(role)),
        "revoked",
    )


@router.post("/admin/users/{username}/unlock")
def unlock_user(
    request: Request,
    username: str = USERNAME,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_UNLOCK),
) -> Response:
    _csrf(request, csrf_token)
    identity.unlock_user(session, actor, username)
    return _redirect(f"/admin/users/{username}?done=unlocked")


@router.post("/admin/users/{username}/disable")
def disable_user(
    request: Request,
    username: str = USERNAME,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_MANAGE),
) -> Response:
    _csrf(request, csrf_token)
    identity.set_user_active(session, actor, username, False)
    return _redirect(f"/admin/users/{username}?done=disabled")


@router.post("/admin/users/{username}/enable")
def enable_user(
    request: Request,
    username: str = USERNAME,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_MANAGE),
) -> Response:
    _csrf(request, csrf_token)
    identity.set_user_active(session, actor, username, True)
    return _redirect(f"/admin/users/{username}?done=enabled")


# ---------------------------------------------------------------- roles


def _scope_label(scope: Scope | None) -> str:
    return SCOPE_LABELS[scope] if scope else ""


@router.get("/admin/roles", response_class=HTMLResponse)
def roles_page(request: Request, actor: Actor = require(*ADMIN)) -> HTMLResponse:
    roles = list(Role)
    rows = [
        (
            PERMISSION_LABELS.get(p, str(p)),
            str(p),
            [_scope_label(ROLE_PERMISSIONS[r].get(p)) for r in roles],
        )
        for p in Permission
        if any(p in ROLE_PERMISSIONS[r] for r in roles)
    ]
    return render(
        request,
        "admin_roles.html",
        actor,
        roles=roles,
        rows=rows,
        privileged=PRIVILEGED_ROLES,
    )


# ---------------------------------------------------------------- code sets


@router.get("/admin/code-sets", response_class=HTMLResponse)
def code_sets_page(
    request: Request,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
) -> HTMLResponse:
    return _code_sets_page(request, session, actor, done=done)


def _code_sets_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin_code_sets.html",
        actor,
        status=status,
        code_sets=standards.list_code_sets(session, actor),
        max_mb=importing.MAX_FILE_BYTES // 1024 // 1024,
        form=form or FormState(),
        done=DONE.get(done or ""),
    )


def _all_codes(session: Session, actor: Actor, code: str) -> tuple[str, list[CodeOut]]:
    """Every code of the current version (for rewriting it as a new version), in order."""
    found: list[CodeOut] = []
    after, version = 0, ""
    while True:
        page = standards.list_codes(session, actor, code, after=after, limit=standards.MAX_PAGE)
        version = page.version
        found.extend(page.items)
        if page.next_after is None or len(found) > EDITABLE_MAX_CODES:
            return version, found
        after = page.next_after


def _editable(codes: list[CodeOut], is_builtin: bool) -> str | None:
    """Why this code set cannot be changed one code at a time (None when it can)."""
    if is_builtin:
        return "内置的国家标准代码集不能在此逐条修改；如需调整，请导入新版本文件。"
    if len(codes) > EDITABLE_MAX_CODES:
        return f"代码超过 {EDITABLE_MAX_CODES} 条的代码集请以导入文件的方式修订。"
    if any(set(c.attributes) - {"note"} for c in codes):
        return (
            "该代码集的代码带有附加属性（如简称、字母代码），逐条修改会丢失这些属性，请以导入文件的方式修订。"
        )
    return None


def _code_set_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    after: int = 0,
    q: str | None = None,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    code_set = standards.get_code_set(session, actor, code)
    page = None
    blocked = "该代码集没有现行版本。"
    if code_set.current_version is not None:
        page = standards.list_codes(session, actor, code_set.code, query=q or None, after=after, limit=200)
        codes = [] if code_set.is_builtin else _all_codes(session, actor, code_set.code)[1]
        blocked = _editable(codes, code_set.is_builtin) or ""
    return render(
        request,
        "admin_code_set.html",
        actor,
        status=status,
        code_set=code_set,
        page=page,
        q=q or "",
        blocked=blocked or None,
        suggested=_suggest_version(code_set.current_version, [v.version for v in code_set.versions]),
        form=form or FormState(),
        done=DONE.get(done or ""),
        beijing=beijing,
    )


def _suggest_version(current: str | None, taken: list[str]) -> str:
    base = _today().strftime("%Y%m%d")
    for n in range(1, 100):
        candidate = base if n == 1 else f"{base}-{n}"
        if candidate not in taken:
            return candidate
    return f"{base}-{len(taken)}"  # pragma: no cover


@router.get("/admin/code-sets/{code}", response_class=HTMLResponse)
def code_set_page(
    request: Request,
    code: str = CODE_SET,
    after: int = Query(0, ge=0, le=2**31 - 1),
    q: str | None = Query(None, max_length=100),
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
) -> HTMLResponse:
    return _code_set_page(request, session, actor, code, after=after, q=q, done=done)


def _day(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.on(name, "日期格式应为 年-月-日，如 2026-05-01") from None


def _codes_csv(codes: list[CodeOut]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["代码", "名称", "上级代码", "排序", "生效日期", "失效日期", "备注"])
    for c in codes:
        writer.writerow(
            [
                c.code,
                c.label,
                c.parent_code or "",
                c.position,
                c.valid_from.isoformat() if c.valid_from else "",
                c.valid_to.isoformat() if c.valid_to else "",
                str(c.attributes.get("note", "")),
            ]
        )
    return out.getvalue().encode("utf-8")


@router.post("/admin/code-sets/{code}/codes")
def save_code(
    request: Request,
    code: str = CODE_SET,
    position: str = Form("", max_length=12),
    value: str = Form("", max_length=64),
    label: str = Form("", max_length=200),
    parent_code: str = Form("", max_length=64),
    valid_from: str = Form("", max_length=10),
    valid_to: str = Form("", max_length=10),
    note: str = Form("", max_length=2000),
    version: str = Form("", max_length=32),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
) -> Response:
    """Add a code (no position) or change the code at `position`: the code set's current version with
    this change becomes a new version (in force from today), through the service's import, so every
    earlier version stays as it was and the change is audited like any import."""
    _csrf(request, csrf_token)
    values = {
        "position": position,
        "value": value,
        "label": label,
        "parent_code": parent_code,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "note": note,
        "version": version,
    }
    form_name = f"edit-{position}" if position.strip() else "add"
    try:
        code_set = standards.get_code_set(session, actor, code)
        if code_set.current_version is None:
            raise Conflict("该代码集没有现行版本，请导入文件")
        current, codes = _all_codes(session, actor, code_set.code)
        why_not = _editable(codes, code_set.is_builtin)
        if why_not:
            raise Conflict(why_not)
        if not value.strip():
            raise InvalidInput.on("code", "必须填写")
        if not label.strip():
            raise InvalidInput.on("label", "必须填写")
        changed = CodeOut(
            code=value.strip(),
            label=label.strip(),
            position=0,
            parent_code=parent_code.strip() or None,
            valid_from=_day(valid_from, "valid_from"),
            valid_to=_day(valid_to, "valid_to"),
            attributes={"note": note.strip()} if note.strip() else {},
        )
        if position.strip():
            if not position.strip().isdigit():
                raise InvalidInput.on("position", "排序应为正整数")
            at = int(position)
            matches = [i for i, c in enumerate(codes) if c.position == at]
            if not matches:
                raise InvalidInput.on("position", f"现行版本 {current} 中没有排序为 {at} 的代码")
            codes[matches[0]] = changed.model_copy(update={"position": at})
        else:
            last = max((c.position for c in codes), default=0)
            codes.append(changed.model_copy(update={"position": last + 1}))
        old = next(v for v in code_set.versions if v.version == current)
        today = _today()
        meta = CodeSetImport(
            code=code_set.code,
            version=version.strip(),
            valid_from=today,
            valid_to=old.valid_to if old.valid_to and old.valid_to > today else None,
            note=f"在 {current} 版基础上"
            + (f"修改代码“{changed.code}”" if position.strip() else f"增加代码“{changed.code}”"),
        )
        standards.import_code_set(session, actor, _codes_csv(codes), meta)
    except (ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState(form_name, _explain(exc), values)
        return _code_set_page(request, session, actor, code, status=_status(exc), form=failed)
    return _redirect(f"/admin/code-sets/{code}?done=code")


@dataclass
class Upload:
    fields: dict[str, str]
    data: bytes | None


async def _multipart(request: Request) -> Upload:
    """The import form (multipart): the size declared and capped before anything is read; one file, a
    few short fields. Runs after the route's permission check (declared after it)."""
    declared = request.headers.get("content-length", "")
    limit = importing.MAX_FILE_BYTES + UPLOAD_SLACK
    too_large = f"文件不能超过 {importing.MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后上传"
    if not declared.isdigit():
        raise InvalidInput.on("file", "上传请求须声明长度（Content-Length）")
    if int(declared) > limit:
        raise PayloadTooLarge(too_large)
    form = await request.form(max_files=1, max_fields=20, max_part_size=64 * 1024)
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        data = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(limit + 1)
            if len(data) > importing.MAX_FILE_BYTES:
                raise PayloadTooLarge(too_large)
        return Upload(fields, data)
    finally:
        await form.close()


@router.post("/admin/code-sets/import")
def import_code_set(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = require(P.STANDARDS_EDIT),
    upload: Upload = Depends(_multipart),  # after the caller's check: nobody uploads before being admitted
) -> Response:
    fields = upload.fields
    _csrf(request, fields.get("csrf_token", ""))
    names = ("code", "version", "name", "standard", "source", "description", "valid_from", "valid_to", "note")
    values = {k: fields.get(k, "")[:2000] for k in names}
    try:
        if not upload.data:
            raise InvalidInput.on("file", "请选择要导入的 CSV 或 Excel（.xlsx）文件")
        meta = CodeSetImport(
            code=values["code"].strip(),
            version=values["version"].strip(),
            name=values["name"].strip() or None,
            standard=values["standard"].strip(),
            source=values["source"].strip(),
            description=values["description"].strip(),
            valid_from=_day(values["valid_from"], "valid_from"),
            valid_to=_day(values["valid_to"], "valid_to"),
            note=values["note"].strip(),
        )
        report = standards.import_code_set(session, actor, upload.data, meta)
    except (ValidationError, InvalidInput, Conflict) as exc:
        session.rollback()
        failed = FormState("import", _explain(exc), values)
        return _code_sets_page(request, session, actor, status=_status(exc), form=failed)
    return _redirect(f"/admin/code-sets/{report.code_set}?done=imported")


# ---------------------------------------------------------------- settings


def _may_see_settings(actor: Actor) -> bool:
    return any(actor.scope_of(p) for p in SETTINGS_READERS)


def _masked_url(url: str) -> str:
    """A database URL without its password (in the authority or as a query parameter)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "（无法解析，不显示）"
    query = {k: ("***" if "pass" in k.lower() else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def _secret_state(value: str, default: str) -> str:
    return "使用开发环境默认值（不得用于生产）" if value == default else "已设置（不显示）"


@dataclass(frozen=True)
class SettingRow:
    label: str
    value: str
    source: str


def settings_rows(settings: Settings) -> list[tuple[str, list[SettingRow]]]:
    """The node's settings in groups, each with the environment variable that sets it; secrets as
    "set / not set" only."""

    def env(name: str) -> str:
        return f"GOVSHARE_{name.upper()}"

    def row(label: str, name: str, value: object = None) -> SettingRow:
        shown = getattr(settings, name) if value is None else value
        if isinstance(shown, bool):
            shown = "是" if shown else "否"
        return SettingRow(label, "未设置" if shown is None else str(shown), env(name))

    metrics = settings.metrics_token
    return [
        (
            "节点",
            [
                row("节点名称", "node_name"),
                row("行政区划代码", "node_division_code"),
                row("运行环境", "env"),
                row("数据目录", "data_dir"),
                row("数据库", "database_url", _masked_url(settings.resolved_database_url)),
                row("监听地址", "host"),
                row("监听端口", "port"),
                row("工作进程数", "workers"),
                row("日志级别", "log_level"),
                row("JSON 日志", "log_json"),
                row("可信反向代理", "trusted_proxies", settings.trusted_proxies or "未设置"),
            ],
        ),
        (
            "登录与会话",
            [
                row("会话有效期（分钟）", "session_ttl_minutes"),
                row("连续登录失败锁定次数", "login_max_failures"),
                row("锁定时长（分钟）", "login_lockout_minutes"),
                row("口令最短长度", "password_min_length"),
                row(
                    "Cookie Secure 标志",
                    "cookie_secure",
                    "按请求自动" if settings.cookie_secure is None else None,
                ),
            ],
        ),
        (
            "密钥（不显示取值）",
            [
                row(
                    "会话与 CSRF 签名密钥",
                    "secret_key",
                    _secret_state(settings.secret_key.get_secret_value(), DEV_SECRET_KEY),
                ),
                row(
                    "审计日志密钥",
                    "audit_key",
                    _secret_state(settings.audit_key.get_secret_value(), DEV_AUDIT_KEY),
                ),
                row(
                    "监控指标访问令牌",
                    "metrics_token",
                    "已设置（不显示）" if metrics else "未设置（/metrics 公开）",
                ),
            ],
        ),
        (
            "应用接口与数据接口",
            [
                row("接口密钥默认有效期（天）", "api_key_default_days"),
                row("接口密钥最长有效期（天）", "api_key_max_days"),
                row("请求体上限（MB）", "api_max_body_mb"),
                row("列表单页最大条数", "api_page_max"),
                row("数据接口每应用每秒请求上限", "data_rate_per_second"),
                row("数据接口单页最多记录数", "data_page_max"),
                row("数据接口查询时限（毫秒）", "data_query_timeout_ms"),
                row("订阅默认配额：每日请求次数", "subscription_requests_per_day"),
                row("订阅默认配额：每日记录数", "subscription_rows_per_day"),
            ],
        ),
        (
            "数据归集",
            [
                row("批次内存预算（MB）", "collection_memory_mb"),
                row("每块行数", "collection_chunk_rows"),
                row("判定中断的无心跳时长（分钟）", "collection_dead_after_minutes"),
            ],
        ),
    ]


def jurisdiction_rows(request: Request) -> tuple[list[SettingRow], str]:
    rules = request.app.state.db.config.jurisdiction
    settings: Settings = request.app.state.settings
    source = str(settings.jurisdiction_file) if settings.jurisdiction_file else "未设置（国家默认规则）"
    sharing, catalog = rules.sharing, rules.catalog
    prereview = f"{sharing.prereview_days} 个工作日" if sharing.prereview_days else "不设该环节"
    holidays = "、".join(d.isoformat() for d in sharing.extra_holidays) or "无"
    workdays = "、".join(d.isoformat() for d in sharing.extra_workdays) or "无"
    return [
        SettingRow("辖区名称", rules.name, "name"),
        SettingRow("主管部门符合性审查时限", prereview, "sharing.prereview_days"),
        SettingRow("提供部门答复时限", f"{sharing.provider_days} 个工作日", "sharing.provider_days"),
        SettingRow("到期前提醒", f"{sharing.remind_before_days} 个工作日", "sharing.remind_before_days"),
        SettingRow("一次授权最长有效期", f"{sharing.max_grant_days} 日", "sharing.max_grant_days"),
        SettingRow("另行规定的放假日", holidays, "sharing.extra_holidays"),
        SettingRow("另行规定的调休上班日", workdays, "sharing.extra_workdays"),
        SettingRow("资源名称最长字数", str(catalog.name_max_length), "catalog.name_max_length"),
        SettingRow("摘要最长字数", str(catalog.summary_max_length), "catalog.summary_max_length"),
        SettingRow(
            "有条件共享须注明依据",
            "是" if catalog.conditional_requires_basis else "否",
            "catalog.conditional_requires_basis",
        ),
        SettingRow("安全级别（从低到高）", "、".join(g.label for g in catalog.grades), "catalog.grades"),
        SettingRow("资源代码方案", catalog.code_scheme, "catalog.code_scheme"),
        SettingRow("顺序码位数", str(catalog.sequence_digits), "catalog.sequence_digits"),
    ], source


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, actor: Actor = require(*SETTINGS_READERS)) -> HTMLResponse:
    rules, source = jurisdiction_rows(request)
    return render(
        request,
        "admin_settings.html",
        actor,
        groups=settings_rows(request.app.state.settings),
        rules=rules,
        rules_source=source,
    )
