"""Server-side rendering for every portal page: one Jinja environment over the shared templates
(`web/templates`: the layout, errors) and each domain's own (`<domain>/portal/templates`), and `render()`,
which binds the page's CSRF token to the browser session (or to a pre-session cookie)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from govshare.auth.actor import Actor
from govshare.core import security
from govshare.web import cookies
from govshare.web.deps import PRE_SESSION_COOKIE, SESSION_COOKIE, csrf_token_for

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"


def template_directories() -> list[Path]:
    """The shared templates first, then every domain's `portal/templates`, in name order. Template names
    are unique across areas (each area prefixes its own: `collection_batch.html`), which a test checks."""
    return [SHARED_TEMPLATES, *sorted(PACKAGE_DIR.glob("*/portal/templates"))]


TEMPLATES = Jinja2Templates(directory=template_directories())


def render(request: Request, name: str, actor: Actor, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with a CSRF token bound to the session (or to a pre-session cookie)."""
    binding = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_SESSION_COOKIE)
    new_nonce = None
    if not binding:
        binding = new_nonce = security.new_token(24)
    page = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "actor": actor,
            "node_name": request.app.state.settings.node_name,
            "csrf_token": csrf_token_for(request.app.state.db.config.secret_key, binding),
            **context,
        },
        status_code=status,
    )
    if new_nonce:
        cookies.set_pre_session(request, page, new_nonce)
    return page
