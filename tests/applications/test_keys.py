"""Application keys: shown once, stored as a digest, scoped, and expiry and revocation act at once."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text, update

from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.models import ApiKey, AuditEntry
from tests import factories


def _issue(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    response = client.post("/api/v1/applications/ga-rkgl/keys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _setup(client: TestClient, db: Database) -> dict[str, str]:
    factories.city(db)
    headers = factories.login(client, "ga.admin")
    created = client.post(
        "/api/v1/applications",
        headers=headers,
        json={"code": "ga-rkgl", "name": "人口管理信息系统", "department_code": "GA"},
    )
    assert created.status_code == 201
    return headers


def test_key_is_shown_once_and_stored_only_as_digest(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    issued = _issue(client, headers)
    secret = str(issued["key"])
    assert secret.startswith(f"gs_{issued['prefix']}_")
    listed = client.get("/api/v1/applications/ga-rkgl/keys").json()
    assert [k["prefix"] for k in listed] == [issued["prefix"]]
    assert "key" not in listed[0]
    with db.transaction(readonly=True) as session:
        rows = session.execute(text("SELECT * FROM api_key")).all()
    assert all(secret not in str(value) for row in rows for value in row)
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=factories.bearer(secret)).json()["application_code"] == "ga-rkgl"


def test_the_revocation_reason_is_kept_in_its_audit_entry(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    issued = _issue(client, headers)
    url = f"/api/v1/applications/ga-rkgl/keys/{issued['prefix']}/revoke"
    assert (
        client.post(url, json={"reason": "密钥随代码提交泄露"}, headers=headers).json()["state"] == "revoked"
    )
    assert client.post(url, json={"reason": "x", "extra": 1}, headers=headers).status_code == 422
    with db.transaction(readonly=True) as session:
        details = [
            d
            for (d,) in session.query(AuditEntry.detail).filter(
                AuditEntry.action == "applications.key.revoke", AuditEntry.target_id == issued["prefix"]
            )
        ]
    assert details == [{"application": "ga-rkgl", "reason": "密钥随代码提交泄露"}]


def test_revocation_takes_effect_on_the_next_request(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    issued = _issue(client, headers)
    key = factories.bearer(str(issued["key"]))
    client.cookies.clear()
    assert client.get("/api/v1/departments", headers=key).status_code == 200
    headers = factories.login(client, "security")
    revoked = client.post(
        f"/api/v1/applications/ga-rkgl/keys/{issued['prefix']}/revoke", json={}, headers=headers
    )
    assert revoked.json()["state"] == "revoked"
    client.cookies.clear()
    response = client.get("/api/v1/departments", headers=key)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"


def test_expiry_takes_effect_immediately(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    issued = _issue(client, headers, days=30)
    key = factories.bearer(str(issued["key"]))
    client.cookies.clear()
    assert client.get("/api/v1/departments", headers=key).status_code == 200
    with db.transaction() as session:  # the clock moves past the expiry
        session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/departments", headers=key).status_code == 401


def test_scopes_are_limited_to_what_applications_may_hold(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    response = client.post(
        "/api/v1/applications/ga-rkgl/keys", json={"scopes": ["user:manage"]}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "scopes"
    response = client.post("/api/v1/applications/ga-rkgl/keys", json={"days": 4000}, headers=headers)
    assert response.status_code == 422
    issued = _issue(client, headers, scopes=["department:read"])
    client.cookies.clear()
    key = factories.bearer(str(issued["key"]))
    assert client.get("/api/v1/me", headers=key).json()["permissions"] == {"department:read": "all"}
    assert client.get("/api/v1/users", headers=key).status_code == 403


def test_a_tampered_key_is_refused(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    secret = str(_issue(client, headers)["key"])
    client.cookies.clear()
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert client.get("/api/v1/me", headers=factories.bearer(forged)).status_code == 401


def test_other_departments_cannot_manage_the_key(client: TestClient, db: Database) -> None:
    _setup(client, db)
    issued = _issue(client, factories.login(client, "ga.admin"))
    headers = factories.login(client, "mz.admin")
    assert client.post("/api/v1/applications/ga-rkgl/keys", json={}, headers=headers).status_code == 403
    response = client.post(
        f"/api/v1/applications/ga-rkgl/keys/{issued['prefix']}/revoke", json={}, headers=headers
    )
    assert response.status_code == 403
    assert client.get("/api/v1/applications").json() == []


def test_revoking_needs_the_right_application(client: TestClient, db: Database) -> None:
    headers = _setup(client, db)
    issued = _issue(client, headers)
    headers = factories.login(client, "security")
    response = client.post(
        f"/api/v1/applications/other-app/keys/{issued['prefix']}/revoke", json={}, headers=headers
    )
    assert response.status_code == 404
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=factories.bearer(str(issued["key"]))).status_code == 200
