"""Request dependencies: the unit of work, the acting subject, and the declared check on every route.

Every route declares exactly one of `require(...)`, `authenticated()`, `public(...)` or
`public_actor(...)`; `tests/web/test_route_authorization.py` fails on a route that declares none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govshare.applications import service as applications
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.core import security
from govshare.core.db import Database
from govshare.core.uow import UnitOfWork
from govshare.errors import (
    AuthenticationRequired,
    CsrfFailed,
    DenialContext,
    PasswordChangeRequired,
    PermissionDenied,
)
from govshare.identity import service as identity

SESSION_COOKIE = "gs_session"
PRE_SESSION_COOKIE = "gs_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ROUTE_CHECK_ATTR = "__govshare_route_check__"


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


def _record_refusal(request: Request) -> Callable[[Session, PermissionDenied], None]:
    """How this request's unit of work audits a refusal after rolling the refused action back: who (the
    caller resolved so far, else anonymous), from where, refused what."""

    def record(session: Session, refusal: PermissionDenied) -> None:
        actor = getattr(request.state, "actor", None) or Actor.anonymous(
            request_id=request.state.request_id, client_addr=client_addr(request)
        )
        audit.record_denial(session, actor, refusal)

    return record


def db_session(request: Request) -> Iterator[Session]:
    """The request's unit of work (`core/uow.py`): commits when the endpoint returns, before the response
    is sent; rolls back on error, then audits a refusal and runs the error's after-rollback work."""
    with UnitOfWork(database(request), on_refusal=_record_refusal(request)) as unit:
        yield unit.session


def read_then_write(request: Request) -> Iterator[Session]:
    """The unit of work of a read-mostly route that must still write its audit record (the data API).

    The endpoint reads in a read-only session (on SQLite a DEFERRED transaction: readers never queue for
    the write lock); the writes its services deferred (`unit_of(session).defer`) then run in one short
    write transaction, committed before the response is sent, so no data leaves without its record. A
    refusal is audited, and the after-rollback work done, in that write transaction instead."""
    with UnitOfWork(database(request), readonly=True, on_refusal=_record_refusal(request)) as unit:
        yield unit.session
        actor = getattr(request.state, "actor", None)
        prefix = actor.key_prefix if isinstance(actor, Actor) else None
        if prefix:
            unit.defer(lambda writer: applications.mark_key_used(writer, prefix))


READ_THEN_WRITE: Any = Depends(read_then_write, scope="function")


# The request's session. Function scope: the commit runs when the endpoint returns and *before* the
# response is sent, so a failed commit becomes an error response instead of a false success.
DB_SESSION: Any = Depends(db_session, scope="function")


def csrf_token_for(secret_key: str, binding: str) -> str:
    return security.keyed_digest(secret_key, f"csrf|{binding}")


def csrf_valid(request: Request, presented: str | None) -> bool:
    binding = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_SESSION_COOKIE)
    if not binding or not presented:
        return False
    return security.same(csrf_token_for(database(request).config.secret_key, binding), presented)


def _key_actor(request: Request, session: Session, authorization: str, *, touch: bool) -> Actor:
    """The application behind `Authorization: Bearer <key>`, with this request's id, address and purpose."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationRequired("Authorization 请求头的格式应为“Bearer <接口密钥>”")
    actor = applications.authenticate_key(session, value.strip(), touch=touch)
    if actor is None:
        raise AuthenticationRequired("接口密钥无效、已过期或已被吊销")
    return _with_purpose(
        request, actor.with_request(request_id=request.state.request_id, client_addr=client_addr(request))
    )


def _with_purpose(request: Request, actor: Actor) -> Actor:
    purpose = header_text(request, "x-purpose")
    return replace(actor, purpose=purpose[:255]) if purpose else actor


# What a session whose password must be changed may still reach (everything else: 403, portal: redirect).
PASSWORD_CHANGE_PATHS = frozenset(
    {
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/me/password",
        "/login",
        "/logout",
    }
)


def _user_actor(request: Request, session: Session) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    user = identity.resolve_session(session, token) if token else None
    if user is None:
        return None
    actor = identity.actor_for_user(
        user, request_id=request.state.request_id, client_addr=client_addr(request)
    )
    if actor.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        request.state.actor = actor
        raise PasswordChangeRequired(
            "口令由他人设置（新建账号或已重置），须先修改口令才能继续使用"
            "（门户“修改口令”页面或 POST /api/v1/me/password）",
            context=DenialContext(
                action=f"{request.method} {request.url.path}", permission="password_changed"
            ),
        )
    return actor


def _refuse_without(request: Request, actor: Actor, permissions: tuple[Permission, ...]) -> None:
    if not any(actor.scope_of(p) for p in permissions):
        route = getattr(request.scope.get("route"), "path", request.url.path)
        raise PermissionDenied(
            f"没有访问此接口的权限（需要 {' 或 '.join(permissions)}）",
            context=DenialContext(
                action=f"{request.method} {route}",
                permission="|".join(permissions),
                extra={"key": actor.api_key} if actor.api_key else {},  # which key, never the secret
            ),
        )


def current_actor(request: Request, session: Session = DB_SESSION) -> Actor:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        actor = _key_actor(request, session, authorization, touch=True)
    else:
        user_actor = _user_actor(request, session)
        if user_actor is None:
            actor = Actor.anonymous(request_id=request.state.request_id, client_addr=client_addr(request))
        else:
            if (
                request.method not in SAFE_METHODS
                and request.url.path.startswith("/api/")
                and not csrf_valid(request, request.headers.get(CSRF_HEADER))
            ):
                raise CsrfFailed("使用网页会话调用接口时须携带 X-CSRF-Token 请求头")
            actor = _with_purpose(request, user_actor)
    request.state.actor = actor
    return actor


def header_text(request: Request, name: str) -> str | None:
    """A header that may carry Chinese: percent-encoded UTF-8 (`%E4%BD%8E…`, what HTTP clients can always
    send) or raw UTF-8 bytes (which the server reads as Latin-1); plain ASCII passes unchanged."""
    value = request.headers.get(name)
    if value is None:
        return None
    with suppress(UnicodeEncodeError, UnicodeDecodeError):  # not UTF-8 bytes: keep the text as read
        value = value.encode("latin-1").decode("utf-8")
    if "%" in value:
        value = unquote(value, errors="replace")
    return value.strip()


def require_application(*permissions: Permission) -> Any:
    """A route for application keys only (the data API), authenticated in the read-only session of
    `read_then_write`. A logged-in person is refused (403): data leaves the node through systems, whose
    calls carry a purpose and an operator."""

    def check(request: Request, session: Session = READ_THEN_WRITE) -> Actor:
        authorization = request.headers.get("authorization")
        if authorization is None:
            user_actor = _user_actor(request, session)
            if user_actor is None:
                raise AuthenticationRequired()
            request.state.actor = user_actor
            raise PermissionDenied(
                "数据接口只接受应用系统的接口密钥调用",
                context=DenialContext(
                    action=f"{request.method} {request.url.path}", permission="application"
                ),
            )
        actor = _key_actor(request, session, authorization, touch=False)
        request.state.actor = actor
        _refuse_without(request, actor, permissions)
        return actor

    return _mark(check, "permission:" + "|".join(permissions))


def _mark(dependency: Callable[..., Any], check: str) -> Any:
    setattr(dependency, ROUTE_CHECK_ATTR, check)
    return Depends(dependency)


def require(*permissions: Permission) -> Any:
    """The route needs an authenticated caller holding any one of `permissions` (at any scope; the
    service narrows to departments)."""

    def check(request: Request, actor: Actor = Depends(current_actor)) -> Actor:
        if not actor.is_authenticated:
            raise AuthenticationRequired()
        _refuse_without(request, actor, permissions)
        return actor

    return _mark(check, "permission:" + "|".join(permissions))


def authenticated() -> Any:
    """Any logged-in user or application key (e.g. reading one's own profile)."""

    def check(actor: Actor = Depends(current_actor)) -> Actor:
        if not actor.is_authenticated:
            raise AuthenticationRequired()
        return actor

    return _mark(check, "authenticated")


def public(reason: str) -> Any:
    """A route anyone may call, without touching the database (health, metrics, static)."""

    def check() -> None:
        return None

    return _mark(check, f"public:{reason}")


def public_actor(reason: str) -> Any:
    """A route anyone may call that still wants to know who is calling (portal pages, login)."""

    def check(actor: Actor = Depends(current_actor)) -> Actor:
        return actor

    return _mark(check, f"public:{reason}")


def public_reader(reason: str) -> Any:
    """A public route that reads in the read-only session of `read_then_write` (the open-data API), and
    identifies its caller (cookie, key or nobody) in that session too: resolving the caller in a writer
    session would, on SQLite, hold the database's write lock for the whole request. A key's use is
    recorded by `read_then_write` afterwards."""

    def check(request: Request, session: Session = READ_THEN_WRITE) -> Actor:
        authorization = request.headers.get("authorization")
        if authorization is not None:
            actor = _key_actor(request, session, authorization, touch=False)
        else:
            user_actor = _user_actor(request, session)
            actor = (
                _with_purpose(request, user_actor)
                if user_actor is not None
                else Actor.anonymous(request_id=request.state.request_id, client_addr=client_addr(request))
            )
        request.state.actor = actor
        return actor

    return _mark(check, f"public:{reason}")
