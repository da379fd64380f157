"""Hostile insiders, role by role (issue #12, "Done when"): one test per role walks that role's realistic
attacks end to end through the HTTP API, on SQLite and PostgreSQL, and asserts the refusal, that nothing
leaked or changed (checked afterwards in the database or through another role's view) and, where the issue
asks for it, that the refusal is on the audit record. The focused regressions of each finding live in the
other `tests/security/test_*.py` modules; this module is the insider's view across them.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.auth.permissions import Role
from govshare.core.db import Database
from govshare.models import Batch, OfficerProposal, ShareGrant, Source, User
from govshare.settings import Settings
from tests import factories
from tests.conftest import TEST_SECRET
from tests.opendata import helpers as opendata
from tests.security import conftest as h
from tests.security.test_hostile_requests import MB, Server, server  # noqa: F401 - the uvicorn fixture
from tests.sharing import helpers as sharing
from tests.sharing.helpers import LI, PURPOSE, ZHANG

NEW_PASSWORD = "Qing-Shan-Lv-Shui-2026!"
BIGINT_OVERFLOW = 2**63


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    sources = tmp_path / "sources"
    sources.mkdir()
    return settings.model_copy(update={"source_dirs": str(sources), "source_connect_timeout_seconds": 2})


# --- 数据管理员 ---------------------------------------------------------------------------------------------


def test_data_steward(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ga.steward (公安数据管理员) tries to:
    - register a source whose URL is the node's own SQLite file, `${GOVSHARE_DATABASE_URL}` or a URL
      carrying `${GOVSHARE_SECRET_KEY}`;
    - read through 民政's connection (another department's);
    - register a connection of its own (to the node's file, outside the source dirs, via `..`, via a
      symlink to the node's database);
    - query app_user / audit_entry / rs_* through its own connection whose allowed tables exclude them
      (directly, by UNION, by a CTE named like an allowed table, by pragma functions, by ATTACH).
    Every answer is a refusal naming the field, echoes no secret or URL, and no source or batch exists."""
    keys = sharing.setup(db, tmp_path)
    assert keys
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("GOVSHARE_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("MZ_DB", "postgresql://postgres@127.0.0.1:5432/postgres")
    sources = Path(settings.source_dirs)
    own_file = sources / "ga.db"
    with sqlite3.connect(own_file) as own:
        own.execute("CREATE TABLE jbxx (身份证号 TEXT)")
    node_file = Path(db.engine.url.database or "") if db.engine.url.drivername.startswith("sqlite") else None
    admin = factories.login(client, "admin")
    for name, kind, department, reference, tables in (
        ("公安人口库", "sqlite", "GA", str(own_file), ["jbxx"]),
        ("民政库", "postgresql", "MZ", "env:MZ_DB", ["public.*"]),
    ):
        body = {"name": name, "kind": kind, "department": department, "reference": reference}
        added = client.post("/api/v1/connections", json={**body, "allowed_tables": tables}, headers=admin)
        assert added.status_code == 201, added.text

    batches = h.count(db, Batch)
    headers = factories.login(client, "ga.steward")
    answers: list[httpx.Response] = []
    urls = ["${GOVSHARE_DATABASE_URL}", "postgresql://postgres:${GOVSHARE_SECRET_KEY}@127.0.0.1:1/x"]
    urls += [f"sqlite:///{node_file}"] if node_file else [f"sqlite:///{tmp_path / 'node.db'}"]
    hostile_sources: list[tuple[dict[str, object], str]] = []
    for url in urls:
        hostile_sources += [
            ({"kind": "sqlite", "url": url, "query": "SELECT username, password_hash FROM app_user"}, "url"),
            ({"kind": "postgresql", "url": url, "table": "audit_entry"}, "url"),
        ]
    hostile_sources += [
        ({"connection": "民政库", "table": "public.dbdx"}, "connection"),
        ({"connection": "公安人口库", "query": "SELECT username, password_hash FROM app_user"}, "query"),
        (
            {"connection": "公安人口库", "query": "SELECT * FROM jbxx UNION ALL SELECT * FROM audit_entry"},
            "query",
        ),
        ({"connection": "公安人口库", "query": "SELECT * FROM rs_1"}, "query"),
        (
            {"connection": "公安人口库", "query": "WITH jbxx AS (SELECT * FROM app_user) SELECT * FROM jbxx"},
            "query",
        ),
        ({"connection": "公安人口库", "query": "SELECT * FROM jbxx, pragma_table_info('app_user')"}, "query"),
        ({"connection": "公安人口库", "query": "SELECT sql FROM sqlite_master"}, "query"),
        ({"connection": "公安人口库", "query": "ATTACH DATABASE 'node.db' AS n"}, "query"),
        ({"connection": "公安人口库", "table": "app_user"}, "table"),
    ]
    for index, (source, field) in enumerate(hostile_sources):
        answer = client.post(
            "/api/v1/collection/sources",
            json={"resource": sharing.RESOURCE_NAME, "name": f"偷看{index}", "mapping": h.mapping(source)},
            headers=headers,
        )
        answers.append(answer)
        assert answer.status_code == 422, (source, answer.text)
        fields = {e["field"] for e in answer.json()["errors"]}
        assert any(f.endswith(f"source.{field}") for f in fields), (source, answer.json())
        assert "127.0.0.1" not in answer.text and "postgres:" not in answer.text
    # a connection of its own: only the platform admin registers connections
    escapes = [str(tmp_path / "elsewhere.db"), f"{sources}/../node.db"]
    if node_file is not None:
        (sources / "link.db").symlink_to(node_file)
        escapes += [str(node_file), str(sources / "link.db")]
    for index, reference in enumerate(escapes):
        body = {"name": f"自建{index}", "kind": "sqlite", "department": "GA", "reference": reference}
        answer = client.post("/api/v1/connections", json={**body, "allowed_tables": ["*"]}, headers=headers)
        answers.append(answer)
        assert answer.status_code == 403, answer.text
    # the listing of connections names no location
    listed = client.get("/api/v1/connections")
    answers.append(listed)
    assert [(c["name"], c["reference"]) for c in listed.json()] == [("公安人口库", None)]
    assert str(own_file) not in listed.text
    h.no_secret(*answers)
    assert all(str(node_file) not in a.text for a in answers if node_file)
    assert h.count(db, Source) == 0
    assert h.count(db, Batch) == batches
    # the administrator, too, cannot register the node's file or a path escaping the source dirs
    admin = factories.login(client, "admin")
    for index, reference in enumerate(escapes):
        body = {"name": f"越界{index}", "kind": "sqlite", "department": "GA", "reference": reference}
        answer = client.post("/api/v1/connections", json={**body, "allowed_tables": ["*"]}, headers=admin)
        assert answer.status_code == 422, (reference, answer.text)


# --- 部门管理员 ---------------------------------------------------------------------------------------------


def test_department_admin(client: TestClient, db: Database, shared: dict[str, Any]) -> None:
    """mz.admin (民政部门管理员) tries to:
    - grant itself an officer role, and grant its own user (mz.user) a security-officer role;
    - create an account of its department that already holds an officer role;
    - issue or revoke a key of 公安's application (ga-rkgl), or give its own application's key admin powers;
    - create, disable or reset an account of 公安, or propose an officer change;
    - read 公安's batches, quarantine (with a quarantined row's clear values) and records.
    All refused and audited as denied; roles, keys and accounts unchanged; nothing of GA's data shown."""
    code = shared["code"]
    factories.login(client, "ga.admin")
    ga_key = client.get("/api/v1/applications/ga-rkgl/keys").json()[0]["prefix"]
    roles, keys, mark = h.roles_of(db), h.keys_of(db, "ga-rkgl"), h.last_seq(db)
    headers = factories.login(client, "mz.admin")
    answers: list[httpx.Response] = []
    for username, role in (
        ("mz.admin", "auditor"),
        ("mz.admin", "security_admin"),
        ("mz.admin", "data_steward"),
        ("mz.user", "platform_admin"),
        ("mz.user", "security_admin"),
        ("mz.user", "auditor"),
    ):
        answer = client.post(f"/api/v1/users/{username}/roles", json={"role": role}, headers=headers)
        answers.append(answer)
        assert answer.status_code in (403, 409), (username, role, answer.text)
    shadow = {"username": "mz.shadow", "display_name": "影子审计员", "department_code": "MZ"}
    created = client.post(
        "/api/v1/users", json={**shadow, "password": NEW_PASSWORD, "roles": ["auditor"]}, headers=headers
    )
    answers.append(created)
    assert created.status_code in (403, 409), created.text
    issued = client.post("/api/v1/applications/ga-rkgl/keys", json={}, headers=headers)
    answers.append(issued)
    assert issued.status_code == 403, issued.text
    assert "gs_" not in issued.text
    for method, path, body in (
        ("POST", f"/api/v1/applications/ga-rkgl/keys/{ga_key}/revoke", {"reason": "越权吊销"}),
        ("POST", "/api/v1/users/ga.steward/disable", None),
        ("POST", "/api/v1/users/ga.steward/password-reset", None),
        (
            "POST",
            "/api/v1/officer-proposals",
            {"username": "mz.user", "kind": "grant_role", "role": "auditor"},
        ),
        (
            "POST",
            "/api/v1/users",
            {**shadow, "username": "ga.shadow", "department_code": "GA", "password": NEW_PASSWORD},
        ),
    ):
        answer = client.request(method, path, json=body, headers=headers)
        answers.append(answer)
        assert answer.status_code == 403, (path, answer.text)
    widened = client.post(  # its own application's key, but with powers a key never holds
        "/api/v1/applications/mz-dbsh/keys", json={"scopes": ["audit:read", "user:manage"]}, headers=headers
    )
    answers.append(widened)
    assert widened.status_code == 422 and "gs_" not in widened.text, widened.text
    batches = h.ga_batches(db)
    assert batches
    listed = client.get("/api/v1/collection/batches", params={"resource": code})
    answers.append(listed)
    assert listed.status_code in (200, 403, 404) and (listed.status_code != 200 or listed.json() == [])
    for batch in batches:
        for path in ("", "/quarantine", "/quarantine?format=csv"):
            answer = client.get(f"/api/v1/collection/batches/{batch}{path}")
            answers.append(answer)
            assert answer.status_code in (403, 404), (batch, path, answer.text)
    records = client.get(f"/api/v1/data/{code}/records", headers=PURPOSE)
    answers.append(records)
    assert records.status_code in (401, 403), records.text
    h.no_secret(*answers)
    for answer in answers:
        for value in (ZHANG, LI, "赵隔离", "13800138000", "13600136000"):
            assert value not in h.shown(answer), (value, answer.request.url)
    assert h.roles_of(db) == roles
    assert h.keys_of(db, "ga-rkgl") == keys
    denied = h.denied_since(db, mark, "mz.admin")
    assert {e.action for e in denied} >= {"applications.issue_key"}, [e.action for e in denied]
    assert len(denied) >= 6  # every officer-role grant and each foreign read is on the record
    factories.login(client, "ga.admin")  # GA's key still works, and its own admin still sees its quarantine
    assert {k["state"] for k in client.get("/api/v1/applications/ga-rkgl/keys").json()} == {"active"}
    own = client.get(f"/api/v1/collection/batches/{batches[-1]}/quarantine", params={"format": "csv"})
    assert own.status_code == 200 and "赵隔离" in own.text, own.text


# --- 使用人员 -----------------------------------------------------------------------------------------------


def test_data_user(client: TestClient, db: Database, shared: dict[str, Any]) -> None:
    """mz.user (民政使用人员) tries to:
    - reset another user's password, and change one through its own password route (naming the user);
    - read, verify or search the audit log;
    - filter its department's key's data by items it sees only masked (姓名, 手机号码, the masked number).
    All refused; every password hash unchanged; the key's refusals are audited with its prefix and no
    clear filter value."""
    code, key = shared["code"], shared["keys"]["mz"]
    hashes, mark = h.password_hashes(db), h.last_seq(db)
    headers = factories.login(client, "mz.user")
    answers = [
        client.post("/api/v1/users/ga.steward/password-reset", headers=headers),
        client.post("/api/v1/users/mz.admin/password-reset", headers=headers),
        client.post("/api/v1/users/ga.steward/disable", headers=headers),
        client.get("/api/v1/audit/entries"),
        client.post("/api/v1/audit/verify", headers=headers),
        client.post("/api/v1/audit/checkpoint", headers=headers),
        client.get(f"/api/v1/audit/subjects/{ZHANG}"),
    ]
    for answer in answers:
        assert answer.status_code == 403, (answer.request.url, answer.text)
    other = client.post(
        "/api/v1/me/password",
        json={"username": "ga.steward", "current_password": factories.PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert other.status_code == 422, other.text
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "Not-The-Passw0rd-1", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert wrong.status_code in (400, 401, 403, 422), wrong.text
    denied = h.denied_since(db, mark, "mz.user")
    assert {e.action for e in denied} >= {"GET /api/v1/audit/entries"}, [e.action for e in denied]
    assert h.password_hashes(db) == hashes
    client.cookies.clear()
    bearer = {**factories.bearer(key), **PURPOSE}
    mark = h.last_seq(db)
    for name, value in (("xm", "张三"), ("sjhm", "13800138000"), ("gmsfhm", ZHANG)):
        for path in ("records", "export"):
            answer = client.get(f"/api/v1/data/{code}/{path}", params={name: value}, headers=bearer)
            answers.append(answer)
            assert answer.status_code == 403, (name, path, answer.text)
            assert "张三" not in answer.text and "138****" not in answer.text
    h.no_secret(*answers, other, wrong)
    refused = [e for e in h.entries(db, "data.query", "data.export") if e.seq > mark]
    assert len(refused) == 6 and {e.outcome for e in refused} == {"denied"}
    assert {e.detail.get("key") for e in refused} == {h.prefix(key)}
    logged = json.dumps([e.detail for e in refused], ensure_ascii=False)
    assert "张三" not in logged and "13800138000" not in logged and ZHANG not in logged


# --- 平台管理员 ---------------------------------------------------------------------------------------------


def test_platform_admin(client: TestClient, db: Database, shared: dict[str, Any]) -> None:
    """admin (平台管理员) tries to:
    - give the auditor or the security admin a department role (then act through it);
    - disable the auditor or the security admin alone;
    - create an officer account alone, or give a fresh account an officer role alone;
    - issue a key for 民政's application (mz-dbsh) and read under its grant, or read data with its session;
    - read 公安's quarantined rows (it monitors batches, never their records);
    - read, search or verify the audit log that records what it did.
    All refused (the key issue audited as denied); roles, accounts and keys unchanged."""
    code = shared["code"]
    factories.user(db, "dsj.new", "DSJ")
    roles, keys, mark = h.roles_of(db), h.keys_of(db, "mz-dbsh"), h.last_seq(db)
    headers = factories.login(client, "admin")
    answers: list[httpx.Response] = []
    for officer in ("auditor", "security"):
        for role in ("department_admin", "data_steward", "data_user", "catalog_reviewer"):
            answer = client.post(f"/api/v1/users/{officer}/roles", json={"role": role}, headers=headers)
            answers.append(answer)
            assert answer.status_code in (403, 409), (officer, role, answer.text)
        for verb in ("disable", "password-reset"):
            answer = client.post(f"/api/v1/users/{officer}/{verb}", headers=headers)
            answers.append(answer)
            assert answer.status_code == 403, (officer, verb, answer.text)
    for role in ("auditor", "security_admin"):
        answer = client.post("/api/v1/users/dsj.new/roles", json={"role": role}, headers=headers)
        answers.append(answer)
        assert answer.status_code == 403, (role, answer.text)
        body = {
            "username": f"x.{role}",
            "display_name": "自封三员",
            "department_code": "DSJ",
            "password": NEW_PASSWORD,
            "roles": [role],
        }
        answer = client.post("/api/v1/users", json=body, headers=headers)
        answers.append(answer)
        assert answer.status_code == 403, (role, answer.text)
    issued = client.post("/api/v1/applications/mz-dbsh/keys", json={}, headers=headers)
    answers.append(issued)
    assert issued.status_code == 403 and "gs_" not in issued.text, issued.text
    for path in (f"/api/v1/data/{code}/records", f"/api/v1/data/{code}/export", f"/api/v1/person/{ZHANG}"):
        answer = client.get(path, headers=PURPOSE)
        answers.append(answer)
        assert answer.status_code in (401, 403), (path, answer.text)
    for batch in h.ga_batches(db):
        answer = client.get(f"/api/v1/collection/batches/{batch}/quarantine", params={"format": "csv"})
        answers.append(answer)
        assert answer.status_code in (403, 404), (batch, answer.text)
    for answer in (
        client.get("/api/v1/audit/entries"),
        client.get("/api/v1/audit/entries", params={"actor": "admin"}),
        client.post("/api/v1/audit/verify", headers=headers),
        client.get(f"/api/v1/audit/subjects/{ZHANG}"),
    ):
        answers.append(answer)
        assert answer.status_code in (403, 422), (answer.request.url, answer.text)
    h.no_secret(*answers)
    for answer in answers:
        for value in (ZHANG, LI, "赵隔离", "张*", "13600136000"):
            assert value not in h.shown(answer), (value, answer.request.url)
    assert h.roles_of(db) == roles
    assert h.keys_of(db, "mz-dbsh") == keys
    assert h.count(db, OfficerProposal) == 0
    denied = h.denied_since(db, mark, "admin")
    assert {"applications.issue_key", "GET /api/v1/audit/entries"} <= {e.action for e in denied}, [
        e.action for e in denied
    ]


# --- 安全管理员 ---------------------------------------------------------------------------------------------


def test_security_admin(client: TestClient, db: Database) -> None:
    """security (安全管理员) tries to:
    - create an account holding the auditor or platform-admin role with a password it chooses: it creates
      no account; the only way is a proposal a platform admin must confirm, and an account someone else
      set the password of must change it at its first login;
    - disable the last auditor (or itself, the last security admin);
    - reset a user's password and log in with it without being forced to change it, or reset an officer's.
    Roles and accounts unchanged until a second officer confirms; the reset password opens nothing but
    the password change."""
    factories.city(db)
    factories.user(db, "ga.user", "GA", Role.DATA_USER)
    roles, mark = h.roles_of(db), h.last_seq(db)
    headers = factories.login(client, "security")
    for role in ("auditor", "platform_admin", "security_admin"):
        body = {
            "username": f"x.{role}",
            "display_name": "口令我定",
            "department_code": "DSJ",
            "password": NEW_PASSWORD,
            "roles": [role],
        }
        answer = client.post("/api/v1/users", json=body, headers=headers)
        assert answer.status_code == 403, (role, answer.text)
        answer = client.post("/api/v1/users", json={**body, "roles": []}, headers=headers)
        assert answer.status_code == 403, (role, answer.text)
    for officer in ("auditor", "security"):
        answer = client.post(f"/api/v1/users/{officer}/disable", headers=headers)
        assert answer.status_code in (403, 409), answer.text
        proposed = client.post(
            "/api/v1/officer-proposals", json={"username": officer, "kind": "disable"}, headers=headers
        )
        assert proposed.status_code in (403, 409), proposed.text
        assert "最后一名" in proposed.json()["detail"] or officer == "security"
    for officer in ("admin", "auditor", "security"):
        answer = client.post(f"/api/v1/users/{officer}/password-reset", headers=headers)
        assert answer.status_code == 403, (officer, answer.text)
        assert h.login_status(client, officer) == 200, officer  # the officer's own password still works
        headers = factories.login(client, "security")
    assert h.roles_of(db) == roles
    assert {e.action for e in h.denied_since(db, mark, "security")}, "the refusals are on the record"

    # The account it wants: the platform admin creates it (a password someone else chose: must change) ...
    admin = factories.login(client, "admin")
    body = {"username": "x.audit", "display_name": "新审计员", "department_code": "DSJ"}
    created = client.post(
        "/api/v1/users", json={**body, "password": NEW_PASSWORD, "roles": []}, headers=admin
    )
    assert created.status_code == 201, created.text
    # ... the security admin proposes the role, which changes nothing until a platform admin confirms
    headers = factories.login(client, "security")
    proposed = client.post(
        "/api/v1/officer-proposals",
        json={"username": "x.audit", "kind": "grant_role", "role": "auditor"},
        headers=headers,
    )
    assert proposed.status_code == 201 and proposed.json()["status"] == "pending", proposed.text
    assert (
        client.post(f"/api/v1/officer-proposals/{proposed.json()['id']}/confirm", headers=headers).status_code
        == 403
    )
    assert h.roles_of(db)["x.audit:True"] == set()
    factories.login(client, "x.audit", NEW_PASSWORD)
    assert client.get("/api/v1/me").json()["must_change_password"] is True
    assert client.get("/api/v1/audit/entries").status_code == 403

    # A reset password opens only the password change.
    headers = factories.login(client, "security")
    reset = client.post("/api/v1/users/ga.user/password-reset", headers=headers)
    assert reset.status_code == 200, reset.text
    (one_time,) = [v for v in reset.json().values() if isinstance(v, str) and len(v) >= 12]
    factories.login(client, "ga.user", one_time)
    assert client.get("/api/v1/me").json()["must_change_password"] is True
    forced = client.get("/api/v1/departments")
    assert forced.status_code == 403 and forced.json()["code"] == "password_change_required", forced.text
    assert h.login_status(client, "ga.user") == 401  # the old password is gone too
    resets = h.entries(db, "identity.password.reset")
    assert resets and one_time not in json.dumps([e.detail for e in resets], ensure_ascii=False)


# --- 审计员 -------------------------------------------------------------------------------------------------


def test_auditor(client: TestClient, db: Database, shared: dict[str, Any]) -> None:
    """auditor (审计员) tries to change anything: create, disable, enable or unlock users, grant or revoke
    roles, reset passwords, propose or confirm officer changes, issue or revoke keys, revoke a sharing
    grant, register a connection or run a source, approve a request; and to write to the audit log. Every
    change is refused; the only write it may make is a checkpoint (it checks and anchors, changing no data),
    after which the chain still verifies; only audit entries were appended."""
    factories.user(db, "dsj.new", "DSJ")
    with db.transaction(readonly=True) as session:
        grant_id = session.scalars(select(ShareGrant.id)).one()
        grant_state = session.scalars(select(ShareGrant.revoked_at)).one()
    roles, hashes, keys, mark = (
        h.roles_of(db),
        h.password_hashes(db),
        h.keys_of(db, "mz-dbsh"),
        h.last_seq(db),
    )
    proposals = client.post(
        "/api/v1/officer-proposals",
        json={"username": "dsj.new", "kind": "grant_role", "role": "security_admin"},
        headers=factories.login(client, "admin"),
    )
    assert proposals.status_code == 201, proposals.text
    proposal = proposals.json()["id"]
    mark = h.last_seq(db)
    headers = factories.login(client, "auditor")
    prefix = client.get("/api/v1/applications/mz-dbsh/keys").json()[0]["prefix"]
    user = {"username": "x.u", "display_name": "某人", "department_code": "DSJ", "password": NEW_PASSWORD}
    attempts = [
        ("POST", "/api/v1/users", {**user, "roles": []}),
        ("POST", "/api/v1/users/ga.steward/disable", None),
        ("POST", "/api/v1/users/ga.steward/unlock", None),
        ("POST", "/api/v1/users/ga.steward/password-reset", None),
        ("POST", "/api/v1/users/ga.steward/roles", {"role": "department_admin"}),
        ("DELETE", "/api/v1/users/ga.admin/roles/department_admin", None),
        ("POST", "/api/v1/users/auditor/roles", {"role": "security_admin"}),
        ("POST", "/api/v1/officer-proposals", {"username": "ga.steward", "kind": "disable"}),
        ("POST", f"/api/v1/officer-proposals/{proposal}/confirm", None),
        ("POST", f"/api/v1/officer-proposals/{proposal}/reject", None),
        ("POST", "/api/v1/applications/mz-dbsh/keys", {}),
        ("POST", f"/api/v1/applications/mz-dbsh/keys/{prefix}/revoke", None),
        ("POST", f"/api/v1/sharing/grants/{grant_id}/revoke", {"reason": "审计员撤销"}),
        (
            "POST",
            "/api/v1/departments",
            {"code": "X", "name": "某部门", "division_code": "990100", "level": "city"},
        ),
        (
            "POST",
            "/api/v1/connections",
            {
                "name": "x",
                "kind": "sqlite",
                "department": "GA",
                "reference": "/x.db",
                "allowed_tables": ["t"],
            },
        ),
        ("POST", "/api/v1/audit/entries", {"action": "audit.forged"}),
    ]
    for method, path, body in attempts:
        answer = client.request(method, path, json=body, headers=headers)
        assert answer.status_code in (403, 405), (method, path, answer.text)
        h.no_secret(answer)
    assert h.roles_of(db) == roles
    assert h.password_hashes(db) == hashes
    assert h.keys_of(db, "mz-dbsh") == keys
    with db.transaction(readonly=True) as session:
        assert session.scalars(select(ShareGrant.revoked_at)).one() == grant_state
        assert session.scalars(select(OfficerProposal.status)).one() == "pending"
    checkpoint = client.post("/api/v1/audit/checkpoint", headers=headers)
    assert checkpoint.status_code in (200, 201), checkpoint.text
    verified = client.post("/api/v1/audit/verify", headers=headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text
    appended = [e for e in h.entries(db) if e.seq > mark]
    assert all(
        e.outcome == "denied" or e.action.startswith("audit.") or e.action == "identity.login"
        for e in appended
    ), [(e.action, e.outcome) for e in appended]
    assert len([e for e in appended if e.outcome == "denied"]) >= 12


# --- 应用（接口密钥） -------------------------------------------------------------------------------------


def test_application(client: TestClient, db: Database, shared: dict[str, Any]) -> None:
    """The 民政 application's key (a grant with the number masked and 出生日期 in clear) tries to:
    - guess masked values by equality filters (姓名, 手机号码, the number): a right and a wrong guess get the
      same refusal, audited as denied;
    - rebuild the masked number from the clear birth date (the mask must hide the birth date and sequence);
    - send integers past every bound to the data routes;
    - and the 人社 key (no grant at all) looks a person up by number: answered empty, but audited and indexed.
    Every entry of its calls names its key's prefix and holds no clear filter value or number."""
    code, keys = shared["code"], shared["keys"]
    headers = {**factories.bearer(keys["mz"]), **PURPOSE}
    mark = h.last_seq(db)
    for name, right, wrong in (
        ("xm", "张三", "张四"),
        ("sjhm", "13800138000", "13800138001"),
        ("gmsfhm", ZHANG, LI),
    ):
        answers = [
            client.get(f"/api/v1/data/{code}/records", params={name: guess}, headers=headers)
            for guess in (right, wrong)
        ]
        assert [a.status_code for a in answers] == [403, 403], [a.text for a in answers]
        assert answers[0].json()["detail"] == answers[1].json()["detail"]
    page = client.get(f"/api/v1/data/{code}/records", headers=headers).json()["items"]
    assert {r["csrq"] for r in page} >= {"1990-03-07"}  # the birth date is granted in clear ...
    for row in page:  # ... so the number shows only its region: birth date, sequence, check all hidden
        assert row["gmsfhm"][6:] == "*" * 12, row
    exported = client.get(f"/api/v1/data/{code}/export", params={"format": "csv"}, headers=headers)
    assert exported.status_code == 200 and ZHANG not in exported.text and "19900307" not in exported.text
    for path, params in (
        (f"/api/v1/data/{code}/records", {"limit": BIGINT_OVERFLOW}),
        (f"/api/v1/data/{code}/records", {"limit": -1}),
        (f"/api/v1/data/{code}/changes", {"limit": BIGINT_OVERFLOW}),
        (f"/api/v1/sharing/grants/{BIGINT_OVERFLOW}", {}),
        (f"/api/v1/collection/batches/{BIGINT_OVERFLOW}", {}),
    ):
        answer = client.get(path, params=params, headers=headers)
        assert 400 <= answer.status_code < 500, (path, params, answer.status_code, answer.text)
    too_long = client.get(f"/api/v1/data/{code}/records", params={"qx": "9" * 40}, headers=headers)
    assert too_long.status_code in (200, 422) and "110105" not in too_long.text, too_long.text
    stranger = {**factories.bearer(keys["rs"]), **PURPOSE}
    looked = client.get(f"/api/v1/person/{ZHANG}", headers=stranger)
    assert looked.status_code == 200 and looked.json()["parts"] == [], looked.text
    (probe,) = [e for e in h.entries(db, "data.person") if e.seq > mark]
    assert (probe.application_code, probe.detail["key"]) == ("rs-shbz", h.prefix(keys["rs"]))
    assert probe.seq in h.indexed(db, ZHANG)  # "who looked at me" shows the grantless probe
    calls = [e for e in h.entries(db) if e.seq > mark and e.action.startswith("data.")]
    assert len(calls) >= 8, [(e.action, e.outcome) for e in calls]
    assert {e.detail.get("key") for e in calls} == {h.prefix(keys["mz"]), h.prefix(keys["rs"])}
    logged = json.dumps([e.detail for e in calls], ensure_ascii=False)
    for value in ("张三", "张四", "13800138000", ZHANG, LI, "9" * 40, keys["mz"], keys["rs"]):
        assert value not in logged, value


# --- 公众（匿名） ------------------------------------------------------------------------------------------


def test_public(
    client: TestClient,
    outsider: TestClient,
    db: Database,
    settings: Settings,
    tmp_path: Path,
    server: Server,  # noqa: F811
) -> None:
    """Anyone, not logged in, tries to:
    - send a chunked body far past the limit to the login route (a real uvicorn: refused while streaming);
    - tell unknown, existing and delayed accounts apart by the login answer;
    - lock the security admin out by failing from another address;
    - upload a zip bomb: no route reading a workbook is open to the public (each answers 401 unread);
    - get a live formula into a spreadsheet through an open-data CSV download."""
    base, process = server
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"username": "security", "password": "'
        for _ in range(64):
            sent += MB
            yield b"x" * MB
        yield b'"}'

    streamed = httpx.post(
        f"{base}/api/v1/auth/login", content=body(), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large", streamed.text
    assert sent < 32 * MB, f"the server read {sent // MB} MB"
    assert process.is_running()

    codes = opendata.setup(db, tmp_path)  # one open organisation is named "=1+1"
    fields = ("status", "code", "title", "detail")
    answers = [h.login_answer(outsider, "nobody", "Wrong-Passw0rd-1")]
    answers += [h.login_answer(outsider, "security", f"Wrong-Passw0rd-{n}") for n in range(6)]
    answers.append(h.login_answer(outsider, "security"))  # the right password, during the address's delay
    answers.append(h.login_answer(outsider, "ga.steward", "Wrong-Passw0rd-1"))
    first = answers[0]
    assert first[0] == 401 and first[1]["detail"] == "用户名或口令错误"
    for status, body_ in answers:
        assert status == 401 and {k: body_[k] for k in fields} == {k: first[1][k] for k in fields}
    assert h.login_status(client, "security") == 200  # from the officer's own address: not locked out
    with db.transaction(readonly=True) as session:
        assert session.scalar(select(User.is_active).where(User.username == "security")) is True

    client.cookies.clear()
    payload = h.bomb()
    for path in (
        "/api/v1/catalog/import.xlsx",
        "/api/v1/standards/code-sets/import",
        "/api/v1/standards/elements/import",
        "/api/v1/collection/batches/1/reprocess",
    ):
        answer = client.post(path, files={"file": ("bomb.xlsx", payload, "application/octet-stream")})
        assert answer.status_code == 401, (path, answer.text)
    work = sorted(p.name for p in settings.data_dir.rglob("*") if p.is_file())
    for path in (  # the portal's upload forms: a login page or a refusal, the file never spooled
        "/admin/code-sets/import",
        "/catalog/excel",
        "/collection/sources/1/upload",
        "/collection/batches/1/reprocess",
        "/collection/sources/guided",
    ):
        answer = client.post(
            path, files={"file": ("bomb.xlsx", payload, "application/octet-stream")}, follow_redirects=False
        )
        assert answer.status_code in (303, 401, 403), (path, answer.status_code)
        assert "压缩炸弹" not in answer.text, path  # refused as anonymous, not after opening the file
    assert sorted(p.name for p in settings.data_dir.rglob("*") if p.is_file()) == work
    for path in ("/api/v1/collection/sources", "/api/v1/users", "/api/v1/audit/entries", "/api/v1/data"):
        assert client.get(path).status_code == 401, path

    download = client.get(f"/api/open/v1/datasets/{codes['open']}/download", params={"format": "csv"})
    assert download.status_code == 200, download.text
    cells = [cell for row in csv.reader(io.StringIO(download.content.decode("utf-8-sig"))) for cell in row]
    assert "'=1+1" in cells and "=1+1" not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], cells
    assert ZHANG not in download.text  # the closed resource's records never reach the open download
