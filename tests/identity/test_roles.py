"""三员分立 and least privilege, through the API on both databases."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.core.db import Database
from govshare.models import AuditEntry, Department, User
from tests import factories

NEW_DEPT = {"code": "WJ", "name": "测试市卫健委", "division_code": "990100", "level": "市"}


def _user(username: str, department: str = "GA", roles: list[str] | None = None) -> dict[str, object]:
    return {
        "username": username,
        "display_name": "新用户",
        "department_code": department,
        "password": factories.PASSWORD,
        "roles": roles or [],
    }


def test_platform_admin_cannot_read_or_verify_the_audit_log(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    assert client.get("/api/v1/audit/entries").status_code == 403
    assert client.post("/api/v1/audit/verify", headers=headers).status_code == 403
    # ... while the auditor can
    headers = factories.login(client, "auditor")
    page = client.get("/api/v1/audit/entries", params={"limit": 5})
    assert page.status_code == 200
    assert len(page.json()["entries"]) == 5
    assert client.post("/api/v1/audit/verify", headers=headers).json()["ok"] is True


def test_auditor_filters_by_department_and_action_family_in_the_database(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    factories.login(client, "mz.admin")
    factories.login(client, "auditor")
    entries = client.get(
        "/api/v1/audit/entries", params={"department": "MZ", "action_prefix": "identity.", "limit": 3}
    ).json()["entries"]
    assert entries and all(
        e["department_code"] == "MZ" and e["action"].startswith("identity.") for e in entries
    )
    # the prefix is literal: "_" and "%" are not wildcards
    for prefix in ("identity_", "%", "identity%"):
        listed = client.get("/api/v1/audit/entries", params={"action_prefix": prefix}).json()
        assert listed["entries"] == [], prefix
    assert client.get("/api/v1/audit/entries", params={"department": "NOPE"}).json()["entries"] == []
    # the same answer on SQLite and PostgreSQL whatever the case typed (LIKE ignores case on SQLite only)
    mixed = client.get(
        "/api/v1/audit/entries", params={"department": "mz", "action_prefix": "IDENTITY.", "limit": 3}
    ).json()["entries"]
    assert [e["seq"] for e in mixed] == [e["seq"] for e in entries]


def test_auditor_changes_nothing(app: FastAPI, client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "auditor")
    with db.transaction(readonly=True) as session:
        before = (
            session.scalar(select(func.count()).select_from(Department)),
            session.scalar(select(func.count()).select_from(User)),
        )
    # Every state-changing route except logging in/out and verifying the chain (which only reads).
    allowed = {
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me/password",  # changes the auditor's own password only
        "/api/v1/audit/verify",
        "/api/v1/audit/checkpoint",  # checks the chain and anchors it outside the database; no data changes
        "/api/v1/standards/validate",  # checks values it is sent; stores nothing
    }
    bodies = {
        "/api/v1/departments": NEW_DEPT,
        "/api/v1/users": _user("x.new"),
        "/api/v1/applications": {"code": "x-app", "name": "某应用", "department_code": "GA"},
        "/api/v1/users/{username}/roles": {"role": "data_user"},
    }
    tried = 0
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path in allowed or not route.path.startswith("/api/"):
            continue
        for method in route.methods - {"GET", "HEAD"}:
            path = (
                route.path.replace("{username}", "ga.steward")
                .replace("{code}", "GA")
                .replace("{role}", "data_steward")
                .replace("{prefix}", "abcdefghij")
            )
            response = client.request(method, path, json=bodies.get(route.path, {}), headers=headers)
            assert response.status_code == 403, f"auditor got {response.status_code} on {method} {route.path}"
            tried += 1
    assert tried >= 8
    with db.transaction(readonly=True) as session:
        after = (
            session.scalar(select(func.count()).select_from(Department)),
            session.scalar(select(func.count()).select_from(User)),
        )
    assert after == before


def test_security_officer_roles_are_mutually_exclusive(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "security")
    response = client.post("/api/v1/users/admin/roles", json={"role": "auditor"}, headers=headers)
    assert response.status_code == 409
    assert "三员分立" in response.json()["detail"]
    # The same check guards user creation.
    factories.login(client, "security")
    response = client.post(
        "/api/v1/users",
        json=_user("x.both", "DSJ", ["auditor", "平台管理员"]),
        headers=factories.login(client, "admin"),
    )
    assert response.status_code == 403  # the platform admin may not hand out security-officer roles at all


def test_only_the_security_admin_grants_privileged_roles(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    response = client.post("/api/v1/users/ga.steward/roles", json={"role": "auditor"}, headers=headers)
    assert response.status_code == 403
    # department roles are the platform admin's to give
    response = client.post("/api/v1/users/ga.steward/roles", json={"role": "使用人员"}, headers=headers)
    assert response.status_code == 200
    assert set(response.json()["roles"]) == {"data_steward", "data_user"}
    headers = factories.login(client, "security")
    response = client.post(
        "/api/v1/users/ga.steward/roles", json={"role": "catalog_reviewer"}, headers=headers
    )
    assert response.status_code == 200
    assert "目录审核员" in response.json()["role_labels"]


def test_nobody_changes_their_own_roles(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "security")
    response = client.post("/api/v1/users/security/roles", json={"role": "data_user"}, headers=headers)
    assert response.status_code == 403
    assert "自己" in response.json()["detail"]


def test_last_holder_of_a_security_role_is_kept(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "security")
    response = client.delete("/api/v1/users/auditor/roles/auditor", headers=headers)
    assert response.status_code == 409


def test_department_admin_is_confined_to_own_department(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "ga.admin")
    assert client.post("/api/v1/users", json=_user("ga.new"), headers=headers).status_code == 201
    refused = client.post("/api/v1/users", json=_user("mz.new", "MZ"), headers=headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "只能管理本部门的数据"
    listed = client.get("/api/v1/users").json()
    assert {u["department_code"] for u in listed} == {"GA"}
    assert client.get("/api/v1/users/mz.admin").status_code == 403
    assert client.get("/api/v1/users", params={"department": "MZ"}).status_code == 403
    with db.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).where(User.username == "mz.new")) == 0
        denied = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert {(e.actor_name, e.target_id) for e in denied} >= {("ga.admin", "mz.new"), ("ga.admin", "mz.admin")}


def test_weak_passwords_are_refused_with_the_field_named(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    for password, fragment in [
        ("short1!A", "至少"),
        ("password1234", "容易被猜中"),  # issue #12: the strength library replaced the character classes
        ("qwertyuiop123", "容易被猜中"),
        ("Ga.New-2026-pass", "用户名"),
    ]:
        body = _user("ga.new") | {"password": password}
        response = client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "password"
        assert fragment in response.json()["detail"]
