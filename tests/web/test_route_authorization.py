"""Authorization is a guarantee, not a habit: every route and every service action declares its check,
and a route that needs a permission really refuses callers without it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

import govshare
from govshare.auth.guard import ACTIONS, INTERNAL, PUBLIC
from govshare.auth.permissions import APPLICATION_GRANTABLE
from govshare.core.db import Database
from govshare.web.deps import ROUTE_CHECK_ATTR
from tests import factories

# FastAPI's own route for the OpenAPI document and the static-file mount are public by nature.
FRAMEWORK_PUBLIC = {"/api/openapi.json", "/static"}


def _checks(dependant: Any) -> list[str]:
    found = []
    for dep in dependant.dependencies:
        check = getattr(dep.call, ROUTE_CHECK_ATTR, None)
        if check:
            found.append(check)
        found.extend(_checks(dep))
    return found


def route_checks(app: FastAPI) -> dict[tuple[str, str], list[str]]:
    table: dict[tuple[str, str], list[str]] = {}
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in route.methods:
                table[(method, route.path)] = _checks(route.dependant)
        elif isinstance(route, Mount | Route):
            assert route.path in FRAMEWORK_PUBLIC, f"unreviewed non-API route {route.path}"
        else:
            pytest.fail(f"unknown route type {type(route).__name__}: routes must be flat APIRoutes")
    return table


def test_every_route_declares_exactly_one_check(app: FastAPI) -> None:
    table = route_checks(app)
    assert len(table) > 20  # the walk really found the API
    undeclared = [f"{m} {p}" for (m, p), checks in table.items() if not checks]
    assert undeclared == [], f"routes without a declared authorization check: {undeclared}"
    doubled = [f"{m} {p}: {c}" for (m, p), c in table.items() if len(c) > 1]
    assert doubled == []


def _service_modules() -> list[Any]:
    modules = []
    for info in pkgutil.walk_packages(govshare.__path__, "govshare."):
        if info.name.rsplit(".", 1)[-1].endswith("service"):
            modules.append(importlib.import_module(info.name))
    return modules


def test_every_service_function_declares_its_permission() -> None:
    modules = _service_modules()
    assert {m.__name__ for m in modules} >= {
        "govshare.identity.service",
        "govshare.audit.service",
        "govshare.applications.service",
        "govshare.demo.service",
        "govshare.catalog.service",
        "govshare.catalog.search_service",
        "govshare.catalog.stats_service",
    }
    undeclared = []
    for module in modules:
        for name, func in inspect.getmembers(module, inspect.isfunction):
            own = func.__module__ == module.__name__ and not name.startswith("_")
            if own and not hasattr(func, "__govshare_action__"):
                undeclared.append(f"{module.__name__}.{name}")
    assert undeclared == [], f"service functions without @action/@public_action/@internal: {undeclared}"
    for spec in ACTIONS.values():
        assert spec.permissions or spec.kind in (PUBLIC, INTERNAL)
        assert spec.kind != PUBLIC or spec.reason, f"{spec.name} is public without a reason"


def _fill(path: str) -> str:
    # a segment typed {name:int} matches digits only: "x1" would miss the route (404) before any check ran
    return re.sub(r"\{[^}]+\}", "x1", re.sub(r"\{[^}:]+:int\}", "1", path))


def test_protected_routes_refuse_anonymous_callers(app: FastAPI, client: TestClient) -> None:
    checked = 0
    for (method, path), checks in route_checks(app).items():
        if any(c.startswith("public:") for c in checks):
            continue
        response = client.request(method, _fill(path), json={})
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} to nobody"
        assert response.json()["code"] == "authentication_required"
        checked += 1
    assert checked > 15


def test_permission_routes_refuse_a_key_without_the_permission(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    factories.department(db, "GA")
    key = factories.application_key(db, "ga-app", "GA")  # the reading permissions applications may hold
    held = {str(p) for p in APPLICATION_GRANTABLE}
    checked = 0
    for (method, path), checks in route_checks(app).items():
        permission_checks = [c for c in checks if c.startswith("permission:")]
        if not permission_checks or held & set(permission_checks[0].removeprefix("permission:").split("|")):
            continue
        response = client.request(method, _fill(path), json={}, headers=factories.bearer(key))
        assert response.status_code == 403, f"{method} {path} let a key without the permission through"
        assert response.json()["code"] == "permission_denied"
        checked += 1
    assert checked > 10


def test_a_refusal_is_audited(client: TestClient, db: Database) -> None:
    factories.department(db, "GA")
    key = factories.application_key(db, "ga-app", "GA")
    assert client.get("/api/v1/users", headers=factories.bearer(key)).status_code == 403
    from sqlalchemy import select

    from govshare.models import AuditEntry

    with db.transaction() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (last.outcome, last.actor_name, last.action) == ("denied", "ga-app", "GET /api/v1/users")
    assert last.application_code == "ga-app"
