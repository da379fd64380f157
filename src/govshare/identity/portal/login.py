"""Portal pages: 登录 and 退出. The same identity service as the API's login; a failed login keeps its
failure counter and audit entry because the page is an answer, not an error (the request's unit of work
commits it), and the per-address throttle refuses a flood before the service is asked."""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.errors import AuthenticationFailed, CsrfFailed, RateLimited
from govshare.identity import service as identity
from govshare.web import cookies
from govshare.web.deps import (
    DB_SESSION,
    SESSION_COOKIE,
    client_addr,
    csrf_valid,
    public_actor,
)
from govshare.web.forms import ShowFormAgain
from govshare.web.login_throttle import LoginThrottle
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    next_page: str = Query("/", alias="next", max_length=200),
    actor: Actor = public_actor("the login form"),
) -> Response:
    if actor.is_authenticated:
        return RedirectResponse(_local(next_page), status_code=303)
    return render(request, "login.html", actor, next_page=_local(next_page))


def _local(target: str) -> str:
    """Only a path on this node: an open redirect would let a phishing link borrow the login page."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    username: str = Form("", max_length=64),
    password: str = Form("", max_length=256),
    csrf_token: str = Form("", max_length=128),
    next_page: str = Form("/", alias="next", max_length=200),
    session: Session = DB_SESSION,
    actor: Actor = public_actor("submitting the login form"),
) -> Response:
    if not csrf_valid(request, csrf_token):
        raise CsrfFailed()
    if not username or not password:
        return render(
            request,
            "login.html",
            actor,
            status=422,
            error="请输入用户名和口令",
            username=username,
            next_page=_local(next_page),
        )
    throttle: LoginThrottle = request.app.state.login_throttle
    try:
        throttle.check(client_addr(request))
    except RateLimited as refused:
        page = render(
            request,
            "login.html",
            actor,
            status=429,
            error=refused.message,
            username=username,
            next_page=_local(next_page),
        )
        page.headers.update(refused.headers)
        return page
    try:
        outcome = identity.login(
            session, actor, username.strip(), password, user_agent=request.headers.get("user-agent")
        )
    except AuthenticationFailed as failed:
        throttle.failed(client_addr(request))  # the unit of work records the failure after its rollback
        page = render(
            request,
            "login.html",
            actor,
            status=401,
            error=failed.message,
            username=username,
            next_page=_local(next_page),
        )
        raise ShowFormAgain(lambda _session: page) from failed
    response = RedirectResponse(_local(next_page), status_code=303)
    cookies.set_session(request, response, outcome.token)
    return response


@router.post("/logout")
def logout_submit(
    request: Request,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = public_actor("logging out of one's own session"),
) -> Response:
    if not csrf_valid(request, csrf_token):
        raise CsrfFailed()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity.logout(session, actor, token)
    response = RedirectResponse("/login", status_code=303)
    cookies.clear_session(response)
    return response
