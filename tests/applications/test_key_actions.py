"""What a caller may do with an application's keys (`applications.policies.key_actions`): the portal's
application page offers exactly these, and `GET /api/v1/applications/{code}` returns them as
`allowed_actions`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from govshare.core.db import Database
from tests import factories


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        ("ga.admin", ["issue_key", "revoke_key"]),  # the application's own department
        ("admin", ["revoke_key"]),  # the platform admin manages keys everywhere but issues none for GA
        ("security", ["revoke_key"]),  # api_key:revoke, node-wide
        ("auditor", []),  # reads applications, acts on no key
    ],
)
def test_allowed_key_actions(client: TestClient, db: Database, caller: str, allowed: list[str]) -> None:
    factories.city(db)
    factories.application_key(db, "ga-app", "GA")
    factories.login(client, caller)
    answer = client.get("/api/v1/applications/ga-app")
    assert answer.status_code == 200, answer.text
    assert answer.json()["allowed_actions"] == allowed


def test_a_department_admin_of_another_department_cannot_read_it(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.application_key(db, "ga-app", "GA")
    factories.login(client, "mz.admin")
    assert client.get("/api/v1/applications/ga-app").status_code in (403, 404)
