"""The server-rendered portal (资源门户). This issue brings login and the home page; every later
capability adds its pages here, calling the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from govshare.applications import service as applications
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import stats_service as catalog_stats
from govshare.collection import stats_service as collection_stats
from govshare.errors import CsrfFailed, RateLimited
from govshare.identity import service as identity
from govshare.sharing import stats_service as sharing_stats
from govshare.web import charts, cookies
from govshare.web.deps import (
    DB_SESSION,
    SESSION_COOKIE,
    client_addr,
    csrf_valid,
    public_actor,
)
from govshare.web.login_throttle import LoginThrottle
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = public_actor("the portal home page shows the node's public figures"),
) -> HTMLResponse:
    figures = identity.node_figures(session)
    figures["applications"] = applications.node_application_count(session)
    shares = catalog_stats.public_figures(session)
    figures.update(
        published=shares.published,
        open=shares.open,
        records=collection_stats.node_records_loaded(session),
        calls=sharing_stats.node_calls(session, days=30),
    )
    figures_text = {f"{k}_text": charts.format_number(figures[k]) for k in ("records", "calls")}
    growth = catalog_stats.growth_by_month(session)
    return render(
        request,
        "home.html",
        actor,
        figures={**figures, **figures_text},
        todo=_todo(session, actor),
        growth_chart=charts.catalog_growth_chart([(m.month, m.published) for m in growth]),
        mix_chart=charts.share_mix_chart(shares.unconditional, shares.conditional, shares.not_shared),
    )


def _todo(session: Session, actor: Actor) -> list[tuple[str, int, str]]:
    """A logged-in user's work waiting (label, count, page), each only for who may do it."""
    if not actor.is_authenticated:
        return []
    todo: list[tuple[str, int, str]] = []
    if actor.scope_of(Permission.SHARING_APPROVE) or actor.scope_of(Permission.SHARING_SUPERVISE):
        todo.append(("待我审批、审查或协调的共享申请", sharing_stats.awaiting_me(session, actor), "/sharing"))
    if actor.scope_of(Permission.CATALOG_EDIT):
        todo.append(
            ("被退回待修改的目录", catalog_stats.returned_versions(session, actor), "/catalog/manage")
        )
    if actor.scope_of(Permission.COLLECTION_READ):
        todo.append(
            ("有待处理隔离记录的批次", collection_stats.quarantined_batches(session, actor), "/collection")
        )
    return todo


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
    outcome = identity.login(
        session, actor, username.strip(), password, user_agent=request.headers.get("user-agent")
    )
    session.commit()
    if outcome.error is not None or outcome.token is None:
        throttle.failed(client_addr(request))
        message = outcome.error.message if outcome.error else "登录失败"
        return render(
            request,
            "login.html",
            actor,
            status=401,
            error=message,
            username=username,
            next_page=_local(next_page),
        )
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
