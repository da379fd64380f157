"""The session cookie: HttpOnly, SameSite=Lax, Secure over TLS (or when configured)."""

from __future__ import annotations

from fastapi import Request, Response

from govshare.web.deps import PRE_SESSION_COOKIE, SESSION_COOKIE


def _secure(request: Request) -> bool:
    configured: bool | None = request.app.state.settings.cookie_secure
    return configured if configured is not None else request.url.scheme == "https"


def set_session(request: Request, response: Response, token: str) -> None:
    max_age = request.app.state.db.config.session_ttl_minutes * 60
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")


def set_pre_session(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        PRE_SESSION_COOKIE, nonce, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
