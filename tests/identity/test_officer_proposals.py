"""三员变更 (two-person rule) through the portal and the console, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from govshare.auth.permissions import Role
from govshare.cli.main import app as cli_app
from govshare.core.db import Database
from tests import factories
from tests.web.portal_helpers import page, portal_login, post


def test_an_officer_proposes_in_the_portal_and_the_other_officer_confirms(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    factories.user(db, "dsj.new", "DSJ")
    portal_login(client, "security", "/admin/officers")
    officers = page(client, "/admin/officers")
    assert "双人确认" in officers
    refused = post(client, "/admin/officers", officers, username="auditor", kind="disable", reason="")
    assert refused.status_code == 409 and "最后一名" in refused.text  # the form shows the rule
    no_role = post(client, "/admin/officers", officers, username="dsj.new", kind="grant_role", role="")
    assert no_role.status_code == 422 and "三员角色" in no_role.text
    done = post(
        client,
        "/admin/officers",
        officers,
        username="dsj.new",
        kind="grant_role",
        role="auditor",
        reason="新任",
    )
    assert (done.status_code, done.headers["location"]) == (303, "/admin/officers?done=proposed")
    listed = page(client, "/admin/officers")
    assert "待确认" in listed and "新任" in listed
    assert 'action="/admin/officers/1/confirm"' not in listed  # the proposer gets no confirm button
    portal_login(client, "admin", "/admin/officers")
    listed = page(client, "/admin/officers")
    confirmed = post(client, "/admin/officers/1/confirm", listed)
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/admin/officers?done=confirmed")
    assert "已确认（admin）" in page(client, "/admin/officers")
    assert "审计员" in page(client, "/admin/users/dsj.new")
    # a department admin (user:manage) reaches the route but is no officer
    portal_login(client, "ga.admin", "/")
    assert client.get("/admin/officers").status_code == 403


def test_an_officers_account_page_offers_no_direct_disable(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "admin", "/admin/users")
    detail = page(client, "/admin/users/auditor")
    assert "/admin/users/auditor/disable" not in detail and 'href="/admin/officers"' in detail
    assert "/admin/users/ga.steward/disable" in page(client, "/admin/users/ga.steward")


@pytest.mark.usefixtures("cli_env")
def test_the_console_lists_proposals_and_may_act_directly(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "auditor2", "DSJ", Role.AUDITOR)  # the console grants an officer role directly
    headers = factories.login(client, "admin")
    made = client.post(
        "/api/v1/officer-proposals", json={"username": "auditor2", "kind": "disable"}, headers=headers
    )
    assert made.status_code == 201, made.text
    again = client.post(
        "/api/v1/officer-proposals", json={"username": "auditor2", "kind": "disable"}, headers=headers
    )
    assert again.status_code == 409  # one pending proposal per change
    result = CliRunner().invoke(cli_app, ["user", "proposals", "--pending", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["username"], r["kind"], r["status"], r["proposed_by"]) for r in rows] == [
        ("auditor2", "disable", "pending", "admin")
    ]
    withdrawn = client.post(f"/api/v1/officer-proposals/{rows[0]['id']}/reject", headers=headers)
    assert withdrawn.json()["status"] == "rejected"
    assert client.get("/api/v1/officer-proposals", params={"status": "pending"}).json() == []
    assert client.post("/api/v1/officer-proposals/2147483647/confirm", headers=headers).status_code == 404
    for too_big in ("2147483648", "99999999999", str(2**63)):  # past the column: 422, never a 500
        assert client.post(f"/api/v1/officer-proposals/{too_big}/confirm", headers=headers).status_code == 422


@pytest.mark.usefixtures("cli_env")
def test_the_console_bypasses_the_two_person_rule_but_not_separation(db: Database) -> None:
    factories.city(db)
    factories.user(db, "dsj.new", "DSJ")
    runner = CliRunner()
    granted = runner.invoke(cli_app, ["user", "grant", "dsj.new", "审计员", "--json"])
    assert granted.exit_code == 0, granted.output
    assert json.loads(granted.stdout)["roles"] == ["auditor"]
    clash = runner.invoke(cli_app, ["user", "grant", "dsj.new", "data_user"])
    assert clash.exit_code == 1 and "三员分立" in clash.output
    assert runner.invoke(cli_app, ["user", "disable", "auditor"]).exit_code == 0  # dsj.new still audits
    last = runner.invoke(cli_app, ["user", "disable", "dsj.new"])
    assert last.exit_code == 1 and "最后一名" in last.output
    assert runner.invoke(cli_app, ["user", "enable", "auditor", "--json"]).exit_code == 0
    bad = runner.invoke(cli_app, ["user", "grant", "dsj.new", "nobody"])
    assert bad.exit_code == 2 and "不是有效的角色" in bad.output
