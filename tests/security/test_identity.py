"""Hostile-insider and outsider regressions for identity (issue #12, findings 4, 5 and 14), on SQLite and
PostgreSQL: 三员分立 that holds on every path, passwords nobody else keeps knowing, and login delays an
outsider cannot turn into a lockout or an oracle of which accounts exist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.auth.permissions import Role
from govshare.core.db import Database
from govshare.errors import Conflict
from govshare.identity import service as identity
from govshare.models import AuditEntry, User
from tests import factories


def _login(
    client: TestClient, username: str, password: str = factories.PASSWORD
) -> tuple[int, dict[str, object]]:
    client.cookies.clear()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return response.status_code, response.json()


def _active(db: Database, username: str) -> bool:
    with db.transaction(readonly=True) as session:
        return bool(session.scalar(select(User.is_active).where(User.username == username)))


def _roles(client: TestClient, username: str) -> set[str]:
    return set(client.get(f"/api/v1/users/{username}").json()["roles"])


# ---------------------------------------------------------------- finding 4: 三员分立


def test_the_platform_admin_cannot_give_an_officer_a_department_role(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    for officer in ("security", "auditor"):
        for role in ("data_user", "department_admin", "data_steward"):
            refused = client.post(f"/api/v1/users/{officer}/roles", json={"role": role}, headers=headers)
            assert refused.status_code == 409, (officer, role, refused.text)
            assert "三员分立" in refused.json()["detail"]
    headers = factories.login(client, "security")
    refused = client.post("/api/v1/users/auditor/roles", json={"role": "catalog_reviewer"}, headers=headers)
    assert refused.status_code == 409
    assert _roles(client, "auditor") == {"auditor"} and _roles(client, "security") == {"security_admin"}


def test_an_officer_role_is_never_added_to_someone_holding_another_role(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    with pytest.raises(Conflict), db.transaction() as session:  # not even from the console
        identity.grant_role(session, factories.SYSTEM, "ga.steward", Role.AUDITOR)
    headers = factories.login(client, "security")
    refused = client.post("/api/v1/users/ga.steward/roles", json={"role": "auditor"}, headers=headers)
    assert refused.status_code == 409
    assert _roles(client, "ga.steward") == {"data_steward"}


def test_no_officer_grants_an_officer_role_alone(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "dsj.new", "DSJ")  # no role yet
    for officer, role in (
        ("security", "auditor"),
        ("security", "platform_admin"),
        ("admin", "security_admin"),
    ):
        headers = factories.login(client, officer)
        refused = client.post("/api/v1/users/dsj.new/roles", json={"role": role}, headers=headers)
        assert refused.status_code == 403, (officer, role, refused.text)
    # ... nor creates an account that already holds one
    headers = factories.login(client, "admin")
    body = {
        "username": "x.auditor",
        "display_name": "新审计员",
        "department_code": "DSJ",
        "password": factories.PASSWORD,
        "roles": ["auditor"],
    }
    assert client.post("/api/v1/users", json=body, headers=headers).status_code == 403
    assert _roles(client, "dsj.new") == set()


def test_no_officer_disables_or_enables_another_officer_alone(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "auditor2", "DSJ", Role.AUDITOR)
    factories.user(db, "dsj.admin", "DSJ", Role.DEPARTMENT_ADMIN)
    for actor in ("admin", "dsj.admin"):
        headers = factories.login(client, actor)
        for officer in ("auditor2", "security", "auditor"):
            refused = client.post(f"/api/v1/users/{officer}/disable", headers=headers)
            assert refused.status_code == 403, (actor, officer, refused.text)
            assert "双人" in refused.json()["detail"]
    assert _active(db, "auditor2") and _active(db, "security")


def test_an_officer_change_needs_a_second_officer_of_another_role(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "auditor2", "DSJ", Role.AUDITOR)
    headers = factories.login(client, "security")
    proposed = client.post(
        "/api/v1/officer-proposals",
        json={"username": "auditor2", "kind": "disable", "reason": "调离"},
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    assert (proposal["status"], proposal["proposed_by"]) == ("pending", "security")
    assert _active(db, "auditor2")
    confirm = f"/api/v1/officer-proposals/{proposal['id']}/confirm"
    refused = client.post(confirm, headers=headers)  # the proposer cannot confirm
    assert refused.status_code == 403
    headers = factories.login(client, "auditor")  # the auditor changes nothing
    assert client.post(confirm, headers=headers).status_code == 403
    headers = factories.login(client, "auditor2")  # nor does the target
    assert client.post(confirm, headers=headers).status_code == 403
    assert _active(db, "auditor2")
    headers = factories.login(client, "admin")
    confirmed = client.post(confirm, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["decided_by"]) == ("confirmed", "admin")
    assert not _active(db, "auditor2")
    assert client.post(confirm, headers=headers).status_code == 409  # applied once
    with db.transaction(readonly=True) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == "auditor2").order_by(AuditEntry.seq)
        ).all()
    assert "identity.officer.propose" in actions and "identity.officer.confirm" in actions
    assert actions[-1] == "identity.user.disable"


def test_an_officer_role_is_granted_by_proposal_and_confirmation(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "dsj.new", "DSJ")
    headers = factories.login(client, "admin")
    proposed = client.post(
        "/api/v1/officer-proposals",
        json={"username": "dsj.new", "kind": "grant_role", "role": "security_admin"},
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    headers = factories.login(client, "security")
    confirmed = client.post(f"/api/v1/officer-proposals/{proposed.json()['id']}/confirm", headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert _roles(client, "dsj.new") == {"security_admin"}


def test_the_officer_concerned_can_neither_confirm_nor_reject(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "security2", "DSJ", Role.SECURITY_ADMIN)
    proposed = client.post(
        "/api/v1/officer-proposals",
        json={"username": "security2", "kind": "disable"},
        headers=factories.login(client, "admin"),
    )
    path = f"/api/v1/officer-proposals/{proposed.json()['id']}"
    headers = factories.login(client, "security2")
    assert client.post(f"{path}/reject", headers=headers).status_code == 403
    assert client.post(f"{path}/confirm", headers=headers).status_code == 403
    assert client.post(f"{path}/confirm", headers=factories.login(client, "security")).status_code == 200
    assert not _active(db, "security2")


def test_the_last_active_holder_of_an_officer_role_cannot_be_disabled(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    headers = factories.login(client, "security")
    refused = client.post(
        "/api/v1/officer-proposals", json={"username": "auditor", "kind": "disable"}, headers=headers
    )
    assert refused.status_code == 409 and "最后一名" in refused.json()["detail"]
    with pytest.raises(Conflict), db.transaction() as session:  # not from the console either
        identity.set_user_active(session, factories.SYSTEM, "auditor", False)
    assert _active(db, "auditor")


def test_the_security_admin_cannot_reset_an_officers_password(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "security")
    for officer in ("admin", "auditor"):
        refused = client.post(f"/api/v1/users/{officer}/password-reset", headers=headers)
        assert refused.status_code == 403, refused.text
    assert _login(client, "admin")[0] == 200  # the admin's own password still works


# ---------------------------------------------------------------- finding 5: passwords


def test_an_account_created_by_someone_else_must_change_its_password_first(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    headers = factories.login(client, "ga.admin")
    body = {
        "username": "ga.new",
        "display_name": "新人",
        "department_code": "GA",
        "password": factories.PASSWORD,
        "roles": ["data_user"],
    }
    assert client.post("/api/v1/users", json=body, headers=headers).status_code == 201
    headers = factories.login(client, "ga.new")
    assert client.get("/api/v1/me").json()["must_change_password"] is True
    refused = client.get("/api/v1/departments")
    assert refused.status_code == 403 and "修改口令" in refused.json()["detail"]
    new = "Qing-Shan-Lv-Shui-2026!"
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": factories.PASSWORD, "new_password": new},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    after = client.get("/api/v1/departments")
    assert after.status_code == 200, after.text
    assert _login(client, "ga.new", factories.PASSWORD)[0] == 401  # the creator's password is gone
    assert _login(client, "ga.new", new)[0] == 200


# ---------------------------------------------------------------- finding 14: lockout


@pytest.fixture
def outsider(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 50000)) as other:
        yield other


def test_unknown_wrong_and_delayed_logins_answer_alike(
    client: TestClient, outsider: TestClient, db: Database
) -> None:
    factories.city(db)
    fields = ("status", "code", "title", "detail")
    unknown = _login(outsider, "nobody", "Wrong-Passw0rd-1")
    answers = [_login(outsider, "security", f"Wrong-Passw0rd-{n}") for n in range(3)]  # delays start at 3
    answers.append(_login(outsider, "security"))  # even the right password, during the delay
    answers.append(_login(outsider, "nobody", "Wrong-Passw0rd-1"))
    for status, body in answers:
        assert status == unknown[0] == 401
        assert {k: body[k] for k in fields} == {k: unknown[1][k] for k in fields}
    assert unknown[1]["detail"] == "用户名或口令错误"
    with db.transaction(readonly=True) as session:
        reasons = session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.action == "identity.login", AuditEntry.target_id == "security")
            .order_by(AuditEntry.seq)
        ).all()
    assert reasons[-1] == {"reason": "delayed"}


def test_an_outsider_cannot_lock_the_security_admin_out(
    client: TestClient, outsider: TestClient, db: Database
) -> None:
    factories.city(db)
    for attempt in range(10):
        status, body = _login(outsider, "security", f"Wrong-Passw0rd-{attempt}")
        assert (status, body["code"]) == (401, "authentication_failed")
    assert _login(outsider, "security")[0] == 401  # the guessing address waits ...
    assert _login(client, "security")[0] == 200  # ... the officer, from their own address, does not
    # the security admin's unlock clears the waits of every address
    headers = factories.login(client, "security")
    assert client.post("/api/v1/users/security/unlock", headers=headers).status_code == 200
    assert _login(outsider, "security")[0] == 200
