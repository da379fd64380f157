"""The project's route-authorization checks, run on an app that carries the standards routes (the app
fixture of this package adds them), plus the standards routes' own refusals."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from govshare.core.db import Database
from tests import factories
from tests.web.test_route_authorization import (
    route_checks,
    test_every_route_declares_exactly_one_check,
    test_every_service_function_declares_its_permission,
    test_permission_routes_refuse_a_key_without_the_permission,
    test_protected_routes_refuse_anonymous_callers,
)

__all__ = [
    "test_every_route_declares_exactly_one_check",
    "test_every_service_function_declares_its_permission",
    "test_permission_routes_refuse_a_key_without_the_permission",
    "test_protected_routes_refuse_anonymous_callers",
]


def test_standards_routes_are_covered(app: FastAPI) -> None:
    table = route_checks(app)
    ours = {key: checks for key, checks in table.items() if key[1].startswith("/api/v1/standards")}
    assert len(ours) == 11
    writes = {key for key in ours if key[0] == "POST" and not key[1].endswith("/validate")}
    assert writes == {
        ("POST", "/api/v1/standards/code-sets/import"),
        ("POST", "/api/v1/standards/elements"),
        ("POST", "/api/v1/standards/elements/import"),
    }
    assert all(ours[key] == ["permission:standards:edit"] for key in writes)
    assert all(checks == ["permission:catalog:read"] for key, checks in ours.items() if key not in writes)


def test_a_key_reads_standards_but_cannot_edit_them(client: TestClient, db: Database) -> None:
    factories.department(db, "GA")
    key = factories.bearer(factories.application_key(db, "ga-app", "GA"))
    assert client.get("/api/v1/standards/code-sets/GB-3304", headers=key).status_code == 200
    refused = client.post(
        "/api/v1/standards/code-sets/import?code=X1&version=1&name=x",
        content=b"code,label\n1,a\n",
        headers={**key, "Content-Type": "text/csv"},
    )
    assert refused.status_code == 403
