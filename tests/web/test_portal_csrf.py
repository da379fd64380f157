"""Every form of the portal is protected against cross-site request forgery: a POST to any portal route
(every non-API route of the app, found by walking app.routes, so a new page is covered the day it is
added) without the form's CSRF token is refused before anything happens, for a logged-in person who holds
every role that could reach it. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func

from govshare.auth.permissions import Role
from govshare.core.db import Database
from govshare.models import AuditEntry
from tests import factories
from tests.web.portal_helpers import HTML, portal_login

# Routes that accept a POST without a portal session by design are not in the portal (API routes carry
# their own X-CSRF-Token check for cookie sessions, tested in tests/identity).
# Values tried for a path parameter, the first its pattern (if any) accepts is used: a path the router
# refuses (422) would never reach the handler's CSRF check, and the test demands that it does.
CANDIDATES = ("X1", "1", "data_user", "SQ-2026-000001", "abcd1234", "abcdef12", "ABCD1234")


def _pattern(field_info: object) -> str | None:
    for item in getattr(field_info, "metadata", []):
        found = getattr(item, "pattern", None)
        if found:
            return str(found)
    return None


def portal_posts(app: FastAPI) -> list[str]:
    paths = []
    for route in app.routes:
        if isinstance(route, APIRoute) and "POST" in route.methods and not route.path.startswith("/api/"):
            paths.append(route.path)
    return sorted(paths)


def concrete(path: str, app: FastAPI) -> str:
    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == path)
    values = {}
    for param in route.dependant.path_params:
        if param.field_info.annotation is int:
            values[param.name] = "1"
            continue
        pattern = _pattern(param.field_info)
        values[param.name] = next(c for c in CANDIDATES if pattern is None or re.search(pattern, c))
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], path)


EMPTY_FILE = {"file": ("empty.csv", b"", "text/csv")}

# Between them these people reach every portal form (a route one of them may not use answers 403 for the
# missing permission; the test demands that somebody meets the CSRF check on each route).
PEOPLE = ("ga.admin", "ga.steward", "admin", "security", "auditor", "reviewer")


def test_no_portal_form_acts_without_its_csrf_token(app: FastAPI, client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "reviewer", "DSJ", Role.CATALOG_REVIEWER)
    paths = portal_posts(app)
    assert "/login" in paths and "/logout" in paths and len(paths) > 10  # the walk found the forms
    met_csrf: set[str] = set()
    wrong: list[tuple[str, str, object]] = []
    with db.session() as session:
        first = session.query(func.max(AuditEntry.seq)).scalar() or 0
    for username in PEOPLE:
        portal_login(client, username)
        for path in [p for p in paths if p not in met_csrf]:  # one person meeting the check is enough
            target = concrete(path, app)
            for data in ({}, {"csrf_token": "forged-" + "0" * 40}):
                # multipart, so that upload forms are reached too (plain forms read it the same way)
                response = client.post(
                    target, data=data, files=EMPTY_FILE, headers=HTML, follow_redirects=False
                )
                if response.status_code != 403:
                    wrong.append((username, target, response.status_code))
                elif "表单已失效" in response.text:
                    met_csrf.add(path)
                elif "权限" not in response.text:
                    wrong.append((username, target, response.text[:200]))
    assert wrong == [], f"portal forms that did not refuse a missing or forged CSRF token first: {wrong}"
    assert sorted(set(paths) - met_csrf) == [], "routes nobody could reach to test their CSRF check"
    with db.session() as session:
        acted = session.query(AuditEntry.action).filter(
            AuditEntry.seq > first, AuditEntry.outcome != "denied"
        )
        actions = {a for (a,) in acted}
    # refused before any service acted: besides the logins only permission refusals (outcome denied)
    assert actions == {"identity.login"}, actions
