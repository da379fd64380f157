"""Departments, users, roles, login and browser sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor, grants_for_roles
from govshare.auth.guard import action, internal, public_action, require_scope
from govshare.auth.permissions import SECURITY_OFFICER_ROLES, Permission, Role, Scope
from govshare.core import security
from govshare.core.clock import utcnow
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    GovshareError,
    InvalidInput,
    NotFound,
)
from govshare.identity import policies
from govshare.identity.repository import DepartmentRepository, UserRepository, WebSessionRepository
from govshare.identity.schemas import DepartmentCreate, DepartmentUpdate, UserCreate
from govshare.models import Department, User, UserRole, WebSession

BEIJING = timedelta(hours=8)

# ---------------------------------------------------------------- departments


@action(Permission.DEPARTMENT_MANAGE)
def create_department(session: Session, actor: Actor, data: DepartmentCreate) -> Department:
    repo = DepartmentRepository(session)
    if repo.by_code(data.code):
        raise Conflict(f"部门代码“{data.code}”已存在")
    if repo.by_name(data.name):
        raise Conflict(f"部门名称“{data.name}”已存在")
    parent = None
    if data.parent_code:
        parent = repo.by_code(data.parent_code)
        if parent is None:
            raise InvalidInput.on("parent_code", f"上级部门“{data.parent_code}”不存在")
    department = Department(
        code=data.code,
        name=data.name,
        division_code=data.division_code,
        level=data.level,
        parent_id=parent.id if parent else None,
        uscc=data.uscc,
    )
    repo.add(department)
    audit.record(
        session,
        actor,
        "identity.department.create",
        target_type="department",
        target_id=data.code,
        detail={"name": data.name, "level": data.level},
    )
    return department


EDITABLE_DEPARTMENT_FIELDS = ("name", "division_code", "level", "parent_code", "uscc")


def _department_values(repo: DepartmentRepository, department: Department) -> dict[str, str | None]:
    parent = repo.by_id(department.parent_id) if department.parent_id is not None else None
    return {
        "name": department.name,
        "division_code": department.division_code,
        "level": department.level,
        "parent_code": parent.code if parent else None,
        "uscc": department.uscc,
    }


def _check_parent(repo: DepartmentRepository, department: Department, parent_code: str) -> Department:
    """The new parent: it exists and is neither the department itself nor one of its descendants."""
    parent = repo.by_code(parent_code)
    if parent is None:
        raise InvalidInput.on("parent_code", f"上级部门“{parent_code}”不存在")
    if parent.id == department.id:
        raise InvalidInput.on("parent_code", "上级部门不能是本部门自己")
    seen = {parent.id}
    ancestor_id = parent.parent_id
    while ancestor_id is not None and ancestor_id not in seen:  # `seen` stops at a cycle already stored
        if ancestor_id == department.id:
            raise InvalidInput.on(
                "parent_code", f"“{parent.name}”是本部门的下级部门，不能作为上级部门（会形成循环）"
            )
        seen.add(ancestor_id)
        ancestor = repo.by_id(ancestor_id)
        ancestor_id = ancestor.parent_id if ancestor else None
    return parent


@action(Permission.DEPARTMENT_MANAGE)
def update_department(session: Session, actor: Actor, code: str, data: DepartmentUpdate) -> Department:
    """Change the fields sent in `data` (the code never changes). Audited with each changed field's value
    before and after; a change that changes nothing writes no entry."""
    repo = DepartmentRepository(session)
    department = repo.by_code(code)
    if department is None:
        raise NotFound(f"部门“{code}”不存在")
    require_scope(
        actor,
        Permission.DEPARTMENT_MANAGE,
        department_id=department.id,
        action_name="identity.update_department",
        target_type="department",
        target_id=code,
    )
    before = _department_values(repo, department)
    wanted = {k: v for k, v in data.changes().items() if before[k] != v}
    if not wanted:
        return department
    if "name" in wanted:
        holder = repo.by_name(str(wanted["name"]))
        if holder is not None and holder.id != department.id:
            raise Conflict(f"部门名称“{wanted['name']}”已存在")
    if "parent_code" in wanted:
        parent_code = wanted["parent_code"]
        department.parent_id = (
            _check_parent(repo, department, str(parent_code)).id if parent_code is not None else None
        )
    for name in ("name", "division_code", "level", "uscc"):
        if name in wanted:
            setattr(department, name, wanted[name])
    session.flush()
    audit.record(
        session,
        actor,
        "identity.department.update",
        target_type="department",
        target_id=code,
        detail={
            k: {"before": before[k], "after": wanted[k]} for k in EDITABLE_DEPARTMENT_FIELDS if k in wanted
        },
    )
    return department


@action(Permission.DEPARTMENT_READ)
def list_departments(session: Session, actor: Actor) -> list[Department]:
    return DepartmentRepository(session).all()


@action(Permission.DEPARTMENT_READ)
def get_department(session: Session, actor: Actor, code: str) -> Department:
    department = DepartmentRepository(session).by_code(code)
    if department is None:
        raise NotFound(f"部门“{code}”不存在")
    return department


@internal("read-only lookup used to render department references")
def department_codes(session: Session) -> dict[int, str]:
    return DepartmentRepository(session).codes_by_id()


# ---------------------------------------------------------------- users and roles


def _check_password(password: str, username: str, min_length: int) -> None:
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if len(password) < min_length:
        raise InvalidInput.on("password", f"口令至少需要 {min_length} 个字符")
    if classes < 3:
        raise InvalidInput.on("password", "口令须包含大写字母、小写字母、数字、符号中的至少三类")
    if username.lower() in password.lower():
        raise InvalidInput.on("password", "口令不能包含用户名")


def _user(session: Session, username: str) -> User:
    user = UserRepository(session).by_username(username)
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    return user


@action(Permission.USER_MANAGE)
def create_user(session: Session, actor: Actor, data: UserCreate) -> User:
    department = DepartmentRepository(session).by_code(data.department_code)
    if department is None:
        raise InvalidInput.on("department_code", f"部门“{data.department_code}”不存在")
    require_scope(
        actor,
        Permission.USER_MANAGE,
        department_id=department.id,
        action_name="identity.create_user",
        target_type="user",
        target_id=data.username,
    )
    repo = UserRepository(session)
    if repo.by_username(data.username):
        raise Conflict(f"用户名“{data.username}”已存在")
    _check_password(data.password, data.username, node_config(session).password_min_length)
    user = User(
        username=data.username,
        display_name=data.display_name,
        department_id=department.id,
        password_hash=security.hash_password(data.password),
        roles=[],
    )
    user.department = department
    held: set[Role] = set()
    for role in dict.fromkeys(data.roles):
        policies.ensure_may_grant(actor, user, role, "identity.create_user")
        policies.ensure_separation(held, role)
        held.add(role)
        user.roles.append(UserRole(role=role.value, granted_by=actor.name))
    repo.add(user)
    audit.record(
        session,
        actor,
        "identity.user.create",
        target_type="user",
        target_id=user.username,
        detail={"department": department.code, "roles": ",".join(sorted(held))},
    )
    return user


@action(Permission.USER_READ)
def list_users(session: Session, actor: Actor, department_code: str | None = None) -> list[User]:
    department_id = None
    if department_code is not None:
        department_id = get_department(session, actor, department_code).id
    if actor.scope_of(Permission.USER_READ) != Scope.ALL:
        if department_id not in (None, actor.department_id):
            require_scope(
                actor,
                Permission.USER_READ,
                department_id=department_id,
                action_name="identity.list_users",
                target_type="department",
                target_id=department_code,
            )
        department_id = actor.department_id
    return UserRepository(session).list(department_id)


@action(Permission.USER_READ)
def get_user(session: Session, actor: Actor, username: str) -> User:
    user = _user(session, username)
    require_scope(
        actor,
        Permission.USER_READ,
        department_id=user.department_id,
        action_name="identity.get_user",
        target_type="user",
        target_id=username,
    )
    return user


def _role_holders(session: Session, role: Role) -> int:
    return UserRepository(session).holders_of(role.value)


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def grant_role(session: Session, actor: Actor, username: str, role: Role) -> User:
    user = _user(session, username)
    policies.ensure_may_grant(actor, user, role, "identity.grant_role")
    current = {Role(r.role) for r in user.roles}
    if role in current:
        return user
    policies.ensure_separation(current, role)
    user.roles.append(UserRole(role=role.value, granted_by=actor.name))
    session.flush()
    audit.record(
        session,
        actor,
        "identity.role.grant",
        target_type="user",
        target_id=username,
        detail={"role": role.value},
    )
    return user


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def revoke_role(session: Session, actor: Actor, username: str, role: Role) -> User:
    user = _user(session, username)
    policies.ensure_may_grant(actor, user, role, "identity.revoke_role")
    remaining = [r for r in user.roles if r.role != role.value]
    if len(remaining) == len(user.roles):
        return user
    if role in SECURITY_OFFICER_ROLES and _role_holders(session, role) <= 1:
        raise Conflict(f"“{role.label}”至少要保留一名，不能收回最后一名的角色")
    user.roles = remaining
    session.flush()
    audit.record(
        session,
        actor,
        "identity.role.revoke",
        target_type="user",
        target_id=username,
        detail={"role": role.value},
    )
    return user


@action(Permission.USER_UNLOCK)
def unlock_user(session: Session, actor: Actor, username: str) -> User:
    user = _user(session, username)
    user.locked_until, user.failed_logins = None, 0
    session.flush()
    audit.record(session, actor, "identity.user.unlock", target_type="user", target_id=username)
    return user


@action(Permission.USER_MANAGE)
def set_user_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    user = _user(session, username)
    require_scope(
        actor,
        Permission.USER_MANAGE,
        department_id=user.department_id,
        action_name="identity.set_user_active",
        target_type="user",
        target_id=username,
    )
    user.is_active = active
    if not active:
        WebSessionRepository(session).delete_for_user(user.id)
    session.flush()
    audit.record(
        session,
        actor,
        "identity.user.enable" if active else "identity.user.disable",
        target_type="user",
        target_id=username,
    )
    return user


# ---------------------------------------------------------------- login and sessions


@dataclass
class LoginOutcome:
    user: User | None = None
    token: str | None = None
    error: GovshareError | None = None


@internal("builds the actor for a user already authenticated by login, a session or a test")
def actor_for_user(user: User, *, request_id: str | None = None, client_addr: str | None = None) -> Actor:
    roles = frozenset(Role(r.role) for r in user.roles)
    return Actor(
        kind="user",
        name=user.username,
        id=str(user.id),
        department_id=user.department_id,
        department_code=user.department.code,
        roles=roles,
        grants=grants_for_roles(roles),
        request_id=request_id,
        client_addr=client_addr,
    )


@public_action("logging in is how an anonymous visitor becomes a user")
def login(
    session: Session, actor: Actor, username: str, password: str, *, user_agent: str | None = None
) -> LoginOutcome:
    """Check a password. Failures are counted and audited and must be committed, so the outcome is
    returned rather than raised; the edge raises `outcome.error` after committing."""
    cfg, now = node_config(session), utcnow()
    user = None if text_problem(username) else UserRepository(session).by_username(username)

    def fail(error: GovshareError, reason: str) -> LoginOutcome:
        audit.record(
            session,
            actor,
            "identity.login",
            target_type="user",
            target_id=username,
            outcome=audit.FAILURE,
            detail={"reason": reason},
        )
        return LoginOutcome(error=error)

    if user is None:
        security.verify_password(None, password)  # same cost as a real check
        return fail(AuthenticationFailed(), "unknown_user")
    if user.locked_until and user.locked_until > now:
        until = (user.locked_until + BEIJING).strftime("%H:%M")
        return fail(AccountLocked(f"账号已锁定，请于 {until} 后再试或联系安全管理员解锁"), "locked")
    if not security.verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= cfg.login_max_failures:
            user.locked_until, user.failed_logins = now + timedelta(minutes=cfg.login_lockout_minutes), 0
            audit.record(
                session,
                actor,
                "identity.user.lock",
                target_type="user",
                target_id=username,
                detail={"minutes": cfg.login_lockout_minutes},
            )
            return fail(
                AccountLocked(
                    f"连续登录失败 {cfg.login_max_failures} 次，账号已锁定 {cfg.login_lockout_minutes} 分钟"
                ),
                "bad_password_locked",
            )
        return fail(AuthenticationFailed(), "bad_password")
    if not user.is_active:
        return fail(AuthenticationFailed("账号已停用"), "disabled")
    if security.password_needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    token = security.new_token()
    WebSessionRepository(session).add(
        WebSession(
            token_digest=security.token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=cfg.session_ttl_minutes),
            client_addr=actor.client_addr,
            user_agent=(user_agent or "")[:255],
        )
    )
    user_actor = actor_for_user(user, request_id=actor.request_id, client_addr=actor.client_addr)
    audit.record(session, user_actor, "identity.login", target_type="user", target_id=username)
    return LoginOutcome(user=user, token=token)


@public_action("a browser session is authenticated by the possession of its token")
def resolve_session(session: Session, token: str) -> User | None:
    web_session = WebSessionRepository(session).by_digest(security.token_digest(token))
    if web_session is None or web_session.expires_at <= utcnow():
        return None
    user = web_session.user
    if not user.is_active or not user.department.is_active:
        return None
    if user.locked_until and user.locked_until > utcnow():
        return None
    return user


@public_action("logging out needs only the session's own token")
def logout(session: Session, actor: Actor, token: str) -> None:
    if WebSessionRepository(session).delete_by_digest(security.token_digest(token)):
        audit.record(session, actor, "identity.logout", target_type="user", target_id=actor.name)


@public_action("the home page shows the node's totals to everyone")
def node_figures(session: Session) -> dict[str, int]:
    return {"departments": DepartmentRepository(session).count(), "users": UserRepository(session).count()}
