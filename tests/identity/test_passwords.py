"""Password change, the security admin's reset, must-change sessions, the policy and its jurisdiction
override, the console's `govshare user passwd`, and the portal pages; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from govshare.cli.main import app as cli_app
from govshare.core.db import Database
from govshare.core.node import NodeConfig
from govshare.errors import InvalidInput
from govshare.identity.passwords import PasswordPolicy
from govshare.jurisdiction import load_jurisdiction
from govshare.models import AuditEntry, User
from govshare.settings import Settings
from tests import factories
from tests.web.portal_helpers import HTML, page, portal_login, post, token

NEW = "Qing-Shan-Lv-Shui-2026!"


def _status(client: TestClient, username: str, password: str) -> int:
    client.cookies.clear()
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}).status_code


def test_changing_the_password_ends_the_other_sessions(app: object, client: TestClient, db: Database) -> None:
    factories.city(db)
    with TestClient(app) as laptop:  # type: ignore[arg-type]
        factories.login(laptop, "ga.steward")
        headers = factories.login(client, "ga.steward")
        wrong = client.post(
            "/api/v1/me/password", json={"current_password": "not-it", "new_password": NEW}, headers=headers
        )
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
        weak = client.post(
            "/api/v1/me/password",
            json={"current_password": factories.PASSWORD, "new_password": "password1234"},
            headers=headers,
        )
        assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
        assert "容易被猜中" in weak.json()["detail"]
        assert laptop.get("/api/v1/me").status_code == 200
        changed = client.post(
            "/api/v1/me/password",
            json={"current_password": factories.PASSWORD, "new_password": NEW},
            headers=headers,
        )
        assert changed.status_code == 204, changed.text
        assert client.get("/api/v1/me").status_code == 200  # this session goes on
        assert laptop.get("/api/v1/me").status_code == 401  # the other one ended
    with db.transaction(readonly=True) as session:
        outcomes = session.scalars(
            select(AuditEntry.outcome)
            .where(AuditEntry.action == "identity.password.change")
            .order_by(AuditEntry.seq)
        ).all()
    assert outcomes == ["failure", "success"]  # the wrong current password left its trace
    assert _status(client, "ga.steward", NEW) == 200


def test_a_reset_gives_a_one_time_password_that_must_be_changed(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "ga.admin")  # a department admin does not reset passwords
    assert client.post("/api/v1/users/ga.steward/password-reset", headers=headers).status_code == 403
    headers = factories.login(client, "security")
    reset = client.post("/api/v1/users/ga.steward/password-reset", headers=headers)
    assert reset.status_code == 200, reset.text
    one_time = reset.json()["one_time_password"]
    assert len(one_time) >= 12
    assert _status(client, "ga.steward", factories.PASSWORD) == 401  # the old password is gone
    headers = factories.login(client, "ga.steward", one_time)
    assert client.get("/api/v1/me").json()["must_change_password"] is True
    refused = client.get("/api/v1/catalog/resources")
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    changed = client.post(
        "/api/v1/me/password", json={"current_password": one_time, "new_password": NEW}, headers=headers
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/me").json()["must_change_password"] is False
    with db.transaction(readonly=True) as session:
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "identity.password.reset")
        ).all()
    assert details and one_time not in json.dumps(details)  # the secret is never logged


def test_the_portal_sends_a_must_change_session_to_the_password_page(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    factories.login(client, "security")
    one_time = client.post(
        "/api/v1/users/ga.steward/password-reset", headers=factories.login(client, "security")
    ).json()["one_time_password"]
    client.cookies.clear()
    form = client.get("/login", headers=HTML).text
    client.post(
        "/login",
        data={"username": "ga.steward", "password": one_time, "csrf_token": token(form), "next": "/catalog"},
        follow_redirects=False,
    )
    sent = client.get("/catalog", headers=HTML, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, "/me/password")
    change = page(client, "/me/password")
    assert "须先修改口令" in change
    mismatch = post(
        client, "/me/password", change, current_password=one_time, new_password=NEW, confirm_password="x"
    )
    assert mismatch.status_code == 422 and "两次输入的新口令不一致" in mismatch.text
    done = post(
        client, "/me/password", change, current_password=one_time, new_password=NEW, confirm_password=NEW
    )
    assert (done.status_code, done.headers["location"]) == (303, "/me/password?done=1")
    assert "口令已修改" in page(client, "/me/password?done=1")
    assert page(client, "/catalog")


def test_the_security_admin_resets_from_the_user_page_and_sees_the_password_once(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    portal_login(client, "security", "/admin/users")
    detail = page(client, "/admin/users/ga.steward")
    assert 'action="/admin/users/ga.steward/password-reset"' in detail
    assert "password-reset" not in page(client, "/admin/users/auditor")  # officers: the console only
    shown = post(client, "/admin/users/ga.steward/password-reset", detail)
    assert shown.status_code == 200 and "只在此页显示这一次" in shown.text
    assert shown.headers["cache-control"] == "no-store"


def test_the_policy_names_the_field_and_the_jurisdiction_can_raise_it(
    settings: Settings, tmp_path: Path
) -> None:
    cfg = NodeConfig.from_settings(settings)
    policy = PasswordPolicy.of(cfg)
    assert (policy.min_length, policy.min_score) == (12, 3)
    for password, fragment in (
        ("Ab1!Ab1!Ab1", "至少需要 12 个字符"),
        ("password123!", "容易被猜中"),
        ("1qaz2wsx3edc4rfv", "容易被猜中"),
        ("zhang.wei-Secret-2026", "用户名或姓名"),
    ):
        with pytest.raises(InvalidInput) as refused:
            policy.check(password, user_inputs=["zhang.wei", "张伟"], field="new_password")
        assert refused.value.errors[0].field == "new_password" and fragment in refused.value.message
    policy.check(NEW, user_inputs=["zhang.wei"])
    rules = tmp_path / "place.yaml"
    rules.write_text("passwords:\n  min_length: 16\n  min_score: 4\n", encoding="utf-8")
    stricter = PasswordPolicy.of(
        NodeConfig.from_settings(settings.model_copy(update={"jurisdiction_file": rules}))
    )
    assert (stricter.min_length, stricter.min_score) == (16, 4)
    with pytest.raises(InvalidInput, match="至少需要 16 个字符"):
        stricter.check(NEW[:15], user_inputs=[])
    assert load_jurisdiction(None).passwords.min_length is None


@pytest.mark.usefixtures("cli_env")
def test_the_console_sets_a_password_that_must_be_changed(client: TestClient, db: Database) -> None:
    factories.city(db)
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["user", "passwd", "auditor", "--password-stdin", "--json"], input=NEW + "\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["must_change_password"] is True and NEW not in result.stdout
    factories.login(client, "auditor", NEW)
    assert client.get("/api/v1/me").json()["must_change_password"] is True
    weak = runner.invoke(cli_app, ["user", "passwd", "auditor", "--password-stdin"], input="password1234\n")
    assert weak.exit_code != 0 and "容易被猜中" in weak.output
    generated = runner.invoke(cli_app, ["user", "passwd", "ga.steward", "--json"], input="")
    assert generated.exit_code == 0, generated.output
    assert _status(client, "ga.steward", json.loads(generated.stdout)["password"]) == 200
    with db.transaction(readonly=True) as session:
        assert session.scalar(select(User.must_change_password).where(User.username == "ga.steward")) is True
