"""Portal pages for passwords and 三员 changes: 修改口令 (every user; the only page a session whose
password someone else set may use), the security admin's reset to a one-time password (shown once), and
三员变更 (an officer proposes, an officer of the other role confirms). Same services as the API."""

from __future__ import annotations

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import SECURITY_OFFICER_ROLES, Permission, Role
from govshare.core import security
from govshare.errors import Conflict, InvalidInput
from govshare.identity import officer_service, password_service
from govshare.identity.passwords import PasswordPolicy
from govshare.identity.schemas import ProposalCreate, ProposalOut
from govshare.web import forms
from govshare.web.deps import DB_SESSION, SESSION_COOKIE, authenticated, require
from govshare.web.forms import FormState, beijing, check_csrf, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)
P = Permission
USERNAME = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
LABELS = {
    "current_password": "当前口令",
    "new_password": "新口令",
    "confirm_password": "确认新口令",
    "username": "用户名",
    "kind": "变更事项",
    "role": "三员角色",
    "reason": "理由",
}


def _explain(exc: Exception) -> str:
    return forms.explain(exc, forms.labeller(LABELS))


# ---------------------------------------------------------------- 修改口令


def _password_page(
    request: Request, actor: Actor, *, status: int = 200, error: str | None = None, done: bool = False
) -> HTMLResponse:
    policy = PasswordPolicy.of(request.app.state.db.config)
    page = render(
        request,
        "account_password.html",
        actor,
        status=status,
        error=error,
        done=done,
        forced=actor.must_change_password,
        min_length=policy.min_length,
    )
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/me/password", response_class=HTMLResponse)
def password_page(
    request: Request,
    done: str | None = Query(None, max_length=10),
    actor: Actor = authenticated(),
) -> HTMLResponse:
    return _password_page(request, actor, done=done == "1")


@router.post("/me/password")
def change_password(
    request: Request,
    current_password: str = Form("", max_length=256),
    new_password: str = Form("", max_length=256),
    confirm_password: str = Form("", max_length=256),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = authenticated(),
) -> Response:
    check_csrf(request, csrf_token)
    # A wrong current password is rolled back by the unit of work, which then records the failed attempt.
    with form_errors(
        lambda _session, form, status: _password_page(request, actor, status=status, error=form.error),
        explain_error=_explain,
        catch=(InvalidInput,),
    ):
        if not current_password:
            raise InvalidInput.on("current_password", "请输入当前口令")
        if new_password != confirm_password:
            raise InvalidInput.on("confirm_password", "两次输入的新口令不一致")
        token = request.cookies.get(SESSION_COOKIE)
        password_service.change_password(
            session,
            actor,
            current_password,
            new_password,
            keep_session=security.token_digest(token) if token else None,
        )
    return see_other("/me/password?done=1")


# ---------------------------------------------------------------- reset by the security admin


@router.post("/admin/users/{username}/password-reset", response_class=HTMLResponse)
def reset_password(
    request: Request,
    username: str = USERNAME,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.USER_RESET_PASSWORD),
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    secret = password_service.reset_password(session, actor, username)
    page = render(request, "admin_password_reset.html", actor, username=username, secret=secret)
    page.headers["Cache-Control"] = "no-store"
    return page


# ---------------------------------------------------------------- 三员变更


def _officers_page(
    request: Request, session: Session, actor: Actor, *, status: int = 200, form: FormState | None = None
) -> HTMLResponse:
    proposals = [ProposalOut.of(p) for p in officer_service.list_proposals(session, actor)]
    return render(
        request,
        "admin_officers.html",
        actor,
        status=status,
        proposals=proposals,
        officer_roles=[r for r in Role if r in SECURITY_OFFICER_ROLES],
        may_decide=bool(actor.roles & officer_service.DECIDERS),
        kinds=officer_service.KIND_LABELS,
        form=form or FormState(),
        beijing=beijing,
        done=request.query_params.get("done"),
    )


@router.get("/admin/officers", response_class=HTMLResponse)
def officers_page(
    request: Request, session: Session = DB_SESSION, actor: Actor = require(P.ROLE_ASSIGN, P.USER_MANAGE)
) -> HTMLResponse:
    return _officers_page(request, session, actor)


@router.post("/admin/officers")
def propose(
    request: Request,
    username: str = Form("", max_length=64),
    kind: str = Form("", max_length=16),
    role: str = Form("", max_length=32),
    reason: str = Form("", max_length=500),
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.ROLE_ASSIGN, P.USER_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    values = {"username": username, "kind": kind, "role": role, "reason": reason}
    with form_errors(
        lambda page_session, form, status: _officers_page(
            request, page_session, actor, status=status, form=form
        ),
        name="propose",
        values=values,
        explain_error=_explain,
    ):
        data = ProposalCreate.model_validate(
            {"username": username.strip(), "kind": kind, "role": role or None, "reason": reason.strip()}
        )
        officer_service.propose(session, actor, data.username, data.kind, data.role, data.reason)
    return see_other("/admin/officers?done=proposed")


PROPOSAL = Path(ge=1, le=2_147_483_647)


def _decide(request: Request, session: Session, actor: Actor, proposal_id: int, confirm: bool) -> Response:
    act = officer_service.confirm if confirm else officer_service.reject
    with form_errors(
        lambda page_session, form, status: _officers_page(
            request, page_session, actor, status=status, form=form
        ),
        name=f"decide-{proposal_id}",
        explain_error=_explain,
        catch=(InvalidInput, Conflict),
    ):
        act(session, actor, proposal_id)
    return see_other(f"/admin/officers?done={'confirmed' if confirm else 'rejected'}")


@router.post("/admin/officers/{proposal_id}/confirm")
def confirm(
    request: Request,
    proposal_id: int = PROPOSAL,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.ROLE_ASSIGN, P.USER_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    return _decide(request, session, actor, proposal_id, True)


@router.post("/admin/officers/{proposal_id}/reject")
def reject(
    request: Request,
    proposal_id: int = PROPOSAL,
    csrf_token: str = Form("", max_length=128),
    session: Session = DB_SESSION,
    actor: Actor = require(P.ROLE_ASSIGN, P.USER_MANAGE),
) -> Response:
    check_csrf(request, csrf_token)
    return _decide(request, session, actor, proposal_id, False)
