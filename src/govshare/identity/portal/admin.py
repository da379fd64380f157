"""Portal pages: 系统管理：部门、用户、角色. Calls the same services as the API.

Every page and action declares its permission on the route (`require`), and the services check again
(`@action` and the department scope): a department admin reaches the user pages but the identity service
keeps them to their own department; privileged roles and 三员分立 are the identity policies' rules, whose
Chinese messages the pages show. Forms are plain HTML (POST with the CSRF token, 303 back to the page).

The code-set pages are the standards domain's (`standards/portal/code_sets.py`); the settings page is
`settings.py` beside this module.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.convertors import StringConvertor, register_url_convertor

from govshare.auth.actor import Actor
from govshare.auth.permissions import PRIVILEGED_ROLES, ROLE_PERMISSIONS, Permission, Role, Scope
from govshare.core.clock import utcnow
from govshare.errors import InvalidInput
from govshare.identity import policies
from govshare.identity import service as identity
from govshare.identity.portal.common import FormState, beijing, check_csrf, explain, see_other
from govshare.identity.portal.settings import may_see_settings
from govshare.identity.schemas import (
    LEVEL_LABELS,
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    UserCreate,
    UserOut,
)
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import form_errors
from govshare.web.rendering import render


class AccountPageConvertor(StringConvertor):
    """A username in the account page's path, never the literal `/admin/users/new` (the new-account form), so
    the two routes cannot meet whatever their order."""

    regex = r"(?!new$)[^/]+"


register_url_convertor("account_page", AccountPageConvertor())

router = APIRouter(include_in_schema=False)

P = Permission
ADMIN = (P.DEPARTMENT_MANAGE, P.USER_MANAGE, P.ROLE_ASSIGN, P.USER_UNLOCK, P.STANDARDS_EDIT)
USER_ADMIN = (P.USER_MANAGE, P.ROLE_ASSIGN, P.USER_UNLOCK)
USERNAME = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
DEPARTMENT = Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")

PERMISSION_LABELS: dict[Permission, str] = {
    P.DEPARTMENT_READ: "查看部门",
    P.DEPARTMENT_MANAGE: "管理部门",
    P.USER_READ: "查看用户",
    P.USER_MANAGE: "管理用户（新增、停用、启用、授予一般角色）",
    P.ROLE_ASSIGN: "授予与收回角色（含特权角色）",
    P.USER_UNLOCK: "解锁账号（清除登录等待）",
    P.USER_RESET_PASSWORD: "重置口令（一次性口令，三员除外）",
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
DONE = {
    "department": "部门已新增。",
    "user": "用户已新增。",
    "granted": "角色已授予。",
    "revoked": "角色已收回。",
    "unlocked": "账号已解锁。",
    "disabled": "账号已停用，其登录会话已全部失效。",
    "enabled": "账号已启用。",
    "updated": "部门信息已保存。",
}


# ---------------------------------------------------------------- helpers


def _user_state(user: UserOut) -> tuple[str, str]:
    """The account's state in words, with its tag class."""
    if not user.is_active:
        return "已停用", "tag-none"
    locked = user.locked_until
    if locked is not None:
        aware = locked if locked.tzinfo else locked.replace(tzinfo=UTC)
        if aware > utcnow():
            return f"登录等待至 {beijing(locked)}", "tag-conditional"
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
    if may_see_settings(actor):
        links.append(("/admin/settings", "节点设置", "节点名称、登录等待、会话有效期、共享时限等（只读）。"))
    if actor.scope_of(P.JOB_READ):
        links.append(("/admin/jobs", "后台任务", "归集批次、定期任务与审计检查点的运行；重试已放弃的任务。"))
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
    uscc: str = Form("", max_length=40),  # spaces and hyphens allowed: the schema normalises the code
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.DEPARTMENT_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    values = {
        "code": code,
        "name": name,
        "division_code": division_code,
        "level": level,
        "parent_code": parent_code,
        "uscc": uscc,
    }
    with form_errors(
        lambda page_session, form, status: _departments_page(
            request, page_session, actor, status=status, form=form
        ),
        name="department",
        values=values,
        explain_error=explain,
    ):
        data = DepartmentCreate(
            code=code.strip(),
            name=name.strip(),
            division_code=division_code.strip(),
            level=level,  # validated by the model
            parent_code=parent_code.strip() or None,
            uscc=uscc.strip() or None,
        )
        identity.create_department(session, actor, data)
    return see_other("/admin/departments?done=department")


def _department_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    status: int = 200,
    form: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    department = identity.get_department(session, actor, code)
    out = DepartmentOut.of(department, identity.department_codes(session))
    departments = identity.list_departments(session, actor)
    form = form or FormState()
    current = {
        "name": out.name,
        "division_code": out.division_code,
        "level": out.level,
        "parent_code": out.parent_code or "",
        "uscc": out.uscc or "",
    }
    return render(
        request,
        "admin_department.html",
        actor,
        status=status,
        department=out,
        values=form.values if form.error else current,
        parents=policies.possible_parents(departments, department),
        levels=LEVEL_LABELS,
        form=form,
        done=DONE.get(done or ""),
    )


@router.get("/admin/departments/{code}", response_class=HTMLResponse)
def department_page(
    request: Request,
    code: str = DEPARTMENT,
    done: str | None = Query(None, max_length=20),
    session: Session = DB_SESSION,
    actor: Actor = require(P.DEPARTMENT_MANAGE),
) -> HTMLResponse:
    return _department_page(request, session, actor, code, done=done)


@router.post("/admin/departments/{code}")
def update_department(
    request: Request,
    code: str = DEPARTMENT,
    name: str = Form("", max_length=100),
    division_code: str = Form("", max_length=6),
    level: str = Form("", max_length=16),
    parent_code: str = Form("", max_length=32),
    uscc: str = Form("", max_length=40),  # spaces and hyphens allowed: the schema normalises the code
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.DEPARTMENT_MANAGE),
) -> Response:
    """Save the whole form: every field is sent, an empty parent or USCC clears it; the code never changes."""
    check_csrf(request, csrf_token)
    values = {
        "name": name,
        "division_code": division_code,
        "level": level,
        "parent_code": parent_code,
        "uscc": uscc,
    }
    with form_errors(
        lambda page_session, form, status: _department_page(
            request, page_session, actor, code, status=status, form=form
        ),
        name="department",
        values=values,
        explain_error=explain,
    ):
        data = DepartmentUpdate(
            name=name.strip(),
            division_code=division_code.strip(),
            level=level,  # validated by the model
            parent_code=parent_code.strip() or None,
            uscc=uscc.strip() or None,
        )
        identity.update_department(session, actor, code, data)
    return see_other(f"/admin/departments/{code}?done=updated")


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
        if policies.may_act_in(actor, P.USER_MANAGE, d.id) and d.is_active
    ]
    return render(
        request,
        "admin_user_new.html",
        actor,
        status=status,
        departments=departments,
        roles=policies.grantable_roles(actor, actor.department_id),
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
    check_csrf(request, csrf_token)
    # the password is never sent back to the page
    values = {
        "username": username,
        "display_name": display_name,
        "department_code": department_code,
        "roles": roles,
    }
    with form_errors(
        lambda page_session, form, status: _new_user_page(
            request, page_session, actor, status=status, form=form
        ),
        name="user",
        values=values,
        explain_error=explain,
    ):
        data = UserCreate(
            username=username.strip(),
            display_name=display_name.strip(),
            department_code=department_code.strip(),
            password=password,
            roles=roles[: len(Role)],  # validated by the model
        )
        user = identity.create_user(session, actor, data)
    return see_other(f"/admin/users/{user.username}?done=user")


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
    may = policies.user_actions(actor, user)
    return render(
        request,
        "admin_user.html",
        actor,
        status=status,
        user=out,
        state=_user_state(out),
        failed_logins=user.failed_logins,
        addable=may.addable,
        removable=may.removable,
        may_unlock=may.may_unlock,
        may_toggle=may.may_toggle,
        may_reset=may.may_reset_password,
        officer=may.is_officer,
        form=form or FormState(),
        done=DONE.get(done or ""),
        beijing=beijing,
    )


@router.get("/admin/users/{username:account_page}", response_class=HTMLResponse)
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
    with form_errors(
        lambda page_session, form, status: _user_page(
            request, page_session, actor, username, status=status, form=form
        ),
        name=name,
        explain_error=explain,
    ):
        call()
    return see_other(f"/admin/users/{username}?done={done}")


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
    check_csrf(request, csrf_token)
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
    check_csrf(request, csrf_token)
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
    check_csrf(request, csrf_token)
    identity.unlock_user(session, actor, username)
    return see_other(f"/admin/users/{username}?done=unlocked")


@router.post("/admin/users/{username}/disable")
def disable_user(
    request: Request,
    username: str = USERNAME,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    identity.set_user_active(session, actor, username, False)
    return see_other(f"/admin/users/{username}?done=disabled")


@router.post("/admin/users/{username}/enable")
def enable_user(
    request: Request,
    username: str = USERNAME,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    identity.set_user_active(session, actor, username, True)
    return see_other(f"/admin/users/{username}?done=enabled")


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
