"""Departments, users, roles, login and browser sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor, grants_for_roles
from govshare.auth.guard import action, internal, public_action, require_scope
from govshare.auth.permissions import SECURITY_OFFICER_ROLES, Permission, Role
from govshare.core import security
from govshare.core.clock import utcnow
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.core.uow import unit_of
from govshare.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
)
from govshare.identity import policies
from govshare.identity.passwords import PasswordPolicy
from govshare.identity.repository import (
    DepartmentRepository,
    LoginDelayRepository,
    UserRepository,
    WebSessionRepository,
)
from govshare.identity.schemas import DepartmentCreate, DepartmentUpdate, UserCreate
from govshare.models import Department, LoginDelay, User, UserRole, WebSession

BEIJING = timedelta(hours=8)
# The first wait after `login_max_failures` failures of one account from one address; it doubles with each
# further failure, up to `login_lockout_minutes`.
LOGIN_DELAY_BASE_SECONDS = 30

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


@internal("the password policy, checked by every action that sets a password")
def check_password(session: Session, password: str, names: list[str], *, field: str = "password") -> None:
    """The node's (or the jurisdiction's) policy; `names` are the user's login and display name."""
    PasswordPolicy.of(node_config(session)).check(password, user_inputs=names, field=field)


def _user(session: Session, username: str) -> User:
    user = UserRepository(session).by_username(username)
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    return user


@action(Permission.USER_MANAGE)
def create_user(
    session: Session, actor: Actor, data: UserCreate, *, seeded: bool = False, must_change: bool | None = None
) -> User:
    """A new account. Its password was chosen by someone else, so it must be changed at the first login,
    unless `seeded` (the demo seed's and test factories' accounts with the documented demo password) or the
    console says otherwise (`must_change=False`: `govshare init` with the password its operator typed).
    Officer roles (三员) are given at creation by the console only; otherwise by a confirmed proposal."""
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
    check_password(session, data.password, [data.username, data.display_name])
    user = User(
        username=data.username,
        display_name=data.display_name,
        department_id=department.id,
        password_hash=security.hash_password(data.password),
        must_change_password=(not seeded) if must_change is None or actor.kind != "system" else must_change,
        is_seeded=seeded,
        roles=[],
    )
    user.department = department
    held: set[Role] = set()
    for role in dict.fromkeys(data.roles):
        policies.ensure_may_grant(actor, user, role, "identity.create_user")
        policies.ensure_separation(held, role)
        if role in SECURITY_OFFICER_ROLES:
            policies.ensure_not_alone(actor, f"“{role.label}”角色", "identity.create_user", data.username)
        held.add(role)
        user.roles.append(UserRole(role=role.value, granted_by=actor.name))
    repo.add(user)
    audit.record(
        session,
        actor,
        "identity.user.create",
        target_type="user",
        target_id=user.username,
        detail={"department": department.code, "roles": ",".join(sorted(held))}
        | ({"seeded": True} if seeded else {}),
    )
    return user


@action(Permission.USER_READ)
def list_users(session: Session, actor: Actor, department_code: str | None = None) -> list[User]:
    scope = row_scope.for_actor(actor, Permission.USER_READ)
    if department_code is not None:
        scope = row_scope.for_department(
            actor,
            Permission.USER_READ,
            get_department(session, actor, department_code).id,
            action_name="identity.list_users",
            target_id=department_code,
        )
    return UserRepository(session).list(scope)


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


def _active_holders(session: Session, role: Role) -> int:
    return UserRepository(session).active_holders_of(role.value)


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def grant_role(session: Session, actor: Actor, username: str, role: Role) -> User:
    user = _user(session, username)
    policies.ensure_may_grant(actor, user, role, "identity.grant_role")
    current = {Role(r.role) for r in user.roles}
    if role in current:
        return user
    policies.ensure_separation(current, role)
    if role in SECURITY_OFFICER_ROLES:
        policies.ensure_not_alone(actor, f"“{role.label}”角色", "identity.grant_role", username)
    return apply_grant(session, actor, user, role)


@internal("grants a role after grant_role's checks, or when an officer proposal is confirmed")
def apply_grant(session: Session, actor: Actor, user: User, role: Role, **detail: str | int) -> User:
    policies.ensure_separation({Role(r.role) for r in user.roles}, role)
    user.roles.append(UserRole(role=role.value, granted_by=actor.name))
    session.flush()
    audit.record(
        session,
        actor,
        "identity.role.grant",
        target_type="user",
        target_id=user.username,
        detail={"role": role.value, **detail},
    )
    return user


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def revoke_role(session: Session, actor: Actor, username: str, role: Role) -> User:
    user = _user(session, username)
    policies.ensure_may_grant(actor, user, role, "identity.revoke_role")
    if role.value not in {r.role for r in user.roles}:
        return user
    if role in SECURITY_OFFICER_ROLES:
        _keep_last_holder(session, user, role)
        policies.ensure_not_alone(actor, f"“{role.label}”角色", "identity.revoke_role", username)
    return apply_revoke(session, actor, user, role)


def _keep_last_holder(session: Session, user: User, role: Role) -> None:
    if user.is_active and _active_holders(session, role) <= 1:
        raise Conflict(f"“{role.label}”至少要保留一名在用的账号，不能收回最后一名的角色")


@internal("revokes a role after revoke_role's checks, or when an officer proposal is confirmed")
def apply_revoke(session: Session, actor: Actor, user: User, role: Role, **detail: str | int) -> User:
    remaining = [r for r in user.roles if r.role != role.value]
    if role in SECURITY_OFFICER_ROLES:
        _keep_last_holder(session, user, role)
    user.roles = remaining
    session.flush()
    audit.record(
        session,
        actor,
        "identity.role.revoke",
        target_type="user",
        target_id=user.username,
        detail={"role": role.value, **detail},
    )
    return user


@action(Permission.USER_UNLOCK)
def unlock_user(session: Session, actor: Actor, username: str) -> User:
    user = _user(session, username)
    user.locked_until, user.failed_logins = None, 0
    LoginDelayRepository(session).delete(user.id)  # every address's wait
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
    if active == user.is_active:
        return user
    if policies.officer_roles(user):
        policies.ensure_not_alone(actor, "启用" if active else "停用", "identity.set_user_active", username)
    return apply_active(session, actor, user, active)


@internal("enables or disables after set_user_active's checks, or when an officer proposal is confirmed")
def apply_active(session: Session, actor: Actor, user: User, active: bool, **detail: str | int) -> User:
    if not active:
        for role in sorted(policies.officer_roles(user)):
            if user.is_active and _active_holders(session, role) <= 1:
                raise Conflict(f"“{role.label}”至少要保留一名在用的账号，不能停用最后一名")
    user.is_active = active
    if not active:
        WebSessionRepository(session).delete_for_user(user.id)
    session.flush()
    audit.record(
        session,
        actor,
        "identity.user.enable" if active else "identity.user.disable",
        target_type="user",
        target_id=user.username,
        detail=detail or None,
    )
    return user


# ---------------------------------------------------------------- login and sessions


@dataclass(frozen=True)
class LoginOutcome:
    user: User
    token: str


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
        must_change_password=user.must_change_password,
    )


@public_action("logging in is how an anonymous visitor becomes a user")
def login(
    session: Session, actor: Actor, username: str, password: str, *, user_agent: str | None = None
) -> LoginOutcome:
    """Check a password and open a browser session. A failure raises `AuthenticationFailed`; it is counted
    and audited after the unit of work has rolled back (`unit_of(session).after_rollback`), so the trace
    persists although the login does not.

    Every refusal is the same `401 用户名或口令错误` after one Argon2 verification, whether the account is
    unknown, the password wrong, the account disabled, or this (account, address) pair still waiting:
    nothing tells an outsider which accounts exist. After `login_max_failures` failures of one account
    from one address, that pair waits 30 s, doubling with each further failure up to
    `login_lockout_minutes`; attempts inside the wait are refused without looking at the password. Other
    addresses are not delayed, so guessing at an officer's account does not lock the officer out."""
    now = utcnow()
    user = None if text_problem(username) else UserRepository(session).by_username(username)
    address = (actor.client_addr or "")[:64]

    def fail(reason: str, *, count: bool = False) -> AuthenticationFailed:
        user_id = user.id if user is not None else None

        def leave_trace(fresh: Session) -> None:
            if count and user_id is not None:
                counted = UserRepository(fresh).by_id(user_id)
                if counted is not None:
                    _count_failure(
                        fresh, actor, counted, LoginDelayRepository(fresh).get(user_id, address), address
                    )
            audit.record(
                fresh,
                actor,
                "identity.login",
                target_type="user",
                target_id=username[:100],
                outcome=audit.FAILURE,
                detail={"reason": reason},
            )

        unit_of(session).after_rollback(leave_trace)
        return AuthenticationFailed()

    delays = LoginDelayRepository(session)
    delay = delays.get(user.id, address) if user is not None else None
    if user is None or (delay is not None and delay.blocked_until and delay.blocked_until > now):
        security.verify_password(None, password)  # same cost as a real check
        raise fail("unknown_user" if user is None else "delayed")
    if not security.verify_password(user.password_hash, password):
        raise fail("bad_password", count=True)
    if not user.is_active:
        raise fail("disabled")
    if security.password_needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    if delay is not None:
        delays.delete(user.id, address)
    user.failed_logins, user.last_login_at = 0, now
    user.locked_until = delays.latest_block(user.id)  # what other addresses still wait for
    token = new_session(session, user, actor.client_addr, user_agent)
    user_actor = actor_for_user(user, request_id=actor.request_id, client_addr=actor.client_addr)
    audit.record(session, user_actor, "identity.login", target_type="user", target_id=username)
    return LoginOutcome(user=user, token=token)


def _count_failure(
    session: Session, actor: Actor, user: User, delay: LoginDelay | None, address: str
) -> None:
    cfg, now = node_config(session), utcnow()
    if delay is None:
        delay = LoginDelay(user_id=user.id, client_addr=address, failures=0, updated_at=now)
        LoginDelayRepository(session).add(delay)
    delay.failures += 1
    delay.updated_at = now
    user.failed_logins += 1
    over = delay.failures - cfg.login_max_failures
    if over < 0:
        return
    seconds = min(LOGIN_DELAY_BASE_SECONDS * 2 ** min(over, 20), cfg.login_lockout_minutes * 60)
    delay.blocked_until = now + timedelta(seconds=seconds)
    if user.locked_until is None or user.locked_until < delay.blocked_until:
        user.locked_until = delay.blocked_until  # shown to the security admin; refuses nothing by itself
    audit.record(
        session,
        actor,
        "identity.login.delay",
        target_type="user",
        target_id=user.username,
        detail={"failures": delay.failures, "seconds": seconds},
    )


@internal("opens a browser session for a user whose password was just checked")
def new_session(session: Session, user: User, client_addr: str | None, user_agent: str | None) -> str:
    cfg, now = node_config(session), utcnow()
    token = security.new_token()
    WebSessionRepository(session).add(
        WebSession(
            token_digest=security.token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=cfg.session_ttl_minutes),
            client_addr=client_addr,
            user_agent=(user_agent or "")[:255],
        )
    )
    return token


@public_action("a browser session is authenticated by the possession of its token")
def resolve_session(session: Session, token: str) -> User | None:
    """The session's user. A login delay does not end sessions: it holds back guesses, not the holder."""
    web_session = WebSessionRepository(session).by_digest(security.token_digest(token))
    if web_session is None or web_session.expires_at <= utcnow():
        return None
    user = web_session.user
    if not user.is_active or not user.department.is_active:
        return None
    return user


@public_action("logging out needs only the session's own token")
def logout(session: Session, actor: Actor, token: str) -> None:
    if WebSessionRepository(session).delete_by_digest(security.token_digest(token)):
        audit.record(session, actor, "identity.logout", target_type="user", target_id=actor.name)


@public_action("the home page shows the node's totals to everyone")
def node_figures(session: Session) -> dict[str, int]:
    return {"departments": DepartmentRepository(session).count(), "users": UserRepository(session).count()}
