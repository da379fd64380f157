"""/api/v1: who am I, login, departments, users and roles."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.core import security
from govshare.errors import AuthenticationFailed
from govshare.identity import officer_service, password_service, policies, service
from govshare.identity.schemas import (
    ActorOut,
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    LoginRequest,
    PasswordChange,
    PasswordResetOut,
    ProposalCreate,
    ProposalOut,
    RoleChange,
    RoleName,
    RoleOut,
    UserCreate,
    UserDetailOut,
    UserOut,
)
from govshare.web import cookies
from govshare.web.deps import (
    DB_SESSION,
    SESSION_COOKIE,
    authenticated,
    client_addr,
    csrf_token_for,
    public_actor,
    require,
)
from govshare.web.login_throttle import LoginThrottle

router = APIRouter(prefix="/api/v1", tags=["身份与部门"])


@router.get("/me", summary="当前调用者")
def me(actor: Actor = authenticated()) -> ActorOut:
    return ActorOut(
        kind=actor.kind,
        name=actor.name,
        department_code=actor.department_code,
        application_code=actor.application_code,
        roles=sorted(actor.roles),
        permissions={str(p): str(s) for p, s in actor.grants.items()},
        must_change_password=actor.must_change_password,
    )


@router.post("/me/password", status_code=204, summary="修改自己的口令（其他会话随之退出）")
def change_password(
    body: PasswordChange,
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = authenticated(),
) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    keep = security.token_digest(token) if token else None
    password_service.change_password(
        session, actor, body.current_password, body.new_password, keep_session=keep
    )


@router.post("/auth/login", summary="网页会话登录")
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: Session = DB_SESSION,
    actor: Actor = public_actor("logging in"),
) -> dict[str, object]:
    throttle: LoginThrottle = request.app.state.login_throttle
    throttle.check(client_addr(request))
    try:
        outcome = service.login(
            session, actor, body.username, body.password, user_agent=request.headers.get("user-agent")
        )
    except AuthenticationFailed:
        throttle.failed(client_addr(request))  # the unit of work records the failure after its rollback
        raise
    cookies.set_session(request, response, outcome.token)
    return {
        "user": UserOut.of(outcome.user).model_dump(mode="json"),
        "csrf_token": csrf_token_for(request.app.state.db.config.secret_key, outcome.token),
    }


@router.post("/auth/logout", status_code=204, summary="退出登录")
def logout(
    request: Request,
    response: Response,
    session: Session = DB_SESSION,
    actor: Actor = authenticated(),
) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.logout(session, actor, token)
    cookies.clear_session(response)


@router.get("/roles", summary="角色与权限")
def roles(actor: Actor = authenticated()) -> list[RoleOut]:
    return RoleOut.all()


@router.get("/departments", summary="部门列表")
def list_departments(
    session: Session = DB_SESSION, actor: Actor = require(Permission.DEPARTMENT_READ)
) -> list[DepartmentOut]:
    codes = service.department_codes(session)
    return [DepartmentOut.of(d, codes) for d in service.list_departments(session, actor)]


@router.post("/departments", status_code=201, summary="新增部门")
def create_department(
    body: DepartmentCreate,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.DEPARTMENT_MANAGE),
) -> DepartmentOut:
    department = service.create_department(session, actor, body)
    return DepartmentOut.of(department, service.department_codes(session))


@router.get("/departments/{code}", summary="部门详情")
def get_department(
    code: str, session: Session = DB_SESSION, actor: Actor = require(Permission.DEPARTMENT_READ)
) -> DepartmentOut:
    return DepartmentOut.of(service.get_department(session, actor, code), service.department_codes(session))


@router.patch(
    "/departments/{code}",
    summary="修改部门（只改请求中给出的字段；代码不能改；parent_code、uscc 可给 null 以清除）",
)
def update_department(
    code: str,
    body: DepartmentUpdate,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.DEPARTMENT_MANAGE),
) -> DepartmentOut:
    department = service.update_department(session, actor, code, body)
    return DepartmentOut.of(department, service.department_codes(session))


@router.get("/users", summary="用户列表")
def list_users(
    department: str | None = None,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.USER_READ),
) -> list[UserOut]:
    return [UserOut.of(u) for u in service.list_users(session, actor, department)]


@router.post("/users", status_code=201, summary="新增用户")
def create_user(
    body: UserCreate, session: Session = DB_SESSION, actor: Actor = require(Permission.USER_MANAGE)
) -> UserOut:
    return UserOut.of(service.create_user(session, actor, body))


@router.get("/users/{username}", summary="用户详情")
def get_user(
    username: str, session: Session = DB_SESSION, actor: Actor = require(Permission.USER_READ)
) -> UserDetailOut:
    user = service.get_user(session, actor, username)
    out = UserOut.of(user)
    may = policies.user_actions(actor, user)
    return UserDetailOut(
        **out.model_dump(), allowed_actions=may.names(out.is_active), grantable_roles=may.direct_grants()
    )


@router.post("/users/{username}/roles", summary="授予角色")
def grant_role(
    username: str,
    body: RoleChange,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ROLE_ASSIGN, Permission.USER_MANAGE),
) -> UserOut:
    return UserOut.of(service.grant_role(session, actor, username, body.role))


@router.delete("/users/{username}/roles/{role}", summary="收回角色")
def revoke_role(
    username: str,
    role: RoleName,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ROLE_ASSIGN, Permission.USER_MANAGE),
) -> UserOut:
    return UserOut.of(service.revoke_role(session, actor, username, role))


@router.post("/users/{username}/unlock", summary="解锁账号")
def unlock_user(
    username: str, session: Session = DB_SESSION, actor: Actor = require(Permission.USER_UNLOCK)
) -> UserOut:
    return UserOut.of(service.unlock_user(session, actor, username))


@router.post("/users/{username}/disable", summary="停用账号")
def disable_user(
    username: str, session: Session = DB_SESSION, actor: Actor = require(Permission.USER_MANAGE)
) -> UserOut:
    return UserOut.of(service.set_user_active(session, actor, username, False))


@router.post("/users/{username}/enable", summary="启用账号")
def enable_user(
    username: str, session: Session = DB_SESSION, actor: Actor = require(Permission.USER_MANAGE)
) -> UserOut:
    return UserOut.of(service.set_user_active(session, actor, username, True))


@router.post(
    "/users/{username}/password-reset", summary="重置口令：生成一次性口令（只显示一次），下次登录须修改"
)
def reset_password(
    username: str, session: Session = DB_SESSION, actor: Actor = require(Permission.USER_RESET_PASSWORD)
) -> PasswordResetOut:
    return PasswordResetOut(
        username=username, one_time_password=password_service.reset_password(session, actor, username)
    )


@router.get("/officer-proposals", summary="三员变更提议")
def list_proposals(
    status: str | None = None,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ROLE_ASSIGN, Permission.USER_MANAGE),
) -> list[ProposalOut]:
    return [ProposalOut.of(p) for p in officer_service.list_proposals(session, actor, status)]


@router.post("/officer-proposals", status_code=201, summary="提议三员变更（须另一角色的三员确认）")
def propose(
    body: ProposalCreate,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ROLE_ASSIGN, Permission.USER_MANAGE),
) -> ProposalOut:
    proposal = officer_service.propose(session, actor, body.username, body.kind, body.role, body.reason)
    return ProposalOut.of(proposal)


PROPOSAL_ID = Path(ge=1, le=2**31 - 1, description="提议编号")  # bounded: 2**63 is a 422, not a 500


@router.post("/officer-proposals/{proposal_id}/confirm", summary="确认三员变更提议")
def confirm_proposal(
    proposal_id: int = PROPOSAL_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ROLE_ASSIGN, Permission.USER_MANAGE),
) -> ProposalOut:
    return ProposalOut.of(officer_service.confirm(session, actor, proposal_id))


@router.post("/officer-proposals/{proposal_id}/reject", summary="驳回或撤回三员变更提议")
def reject_proposal(
    proposal_id: int = PROPOSAL_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ROLE_ASSIGN, Permission.USER_MANAGE),
) -> ProposalOut:
    return ProposalOut.of(officer_service.reject(session, actor, proposal_id))
