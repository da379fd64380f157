"""The API returns what the request page shows: the steps the caller may take on an application
(`allowed_actions`, from `sharing.workflow`) and the working days left on its clock (`working_days_left`).
On SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from govshare.core.db import Database
from tests import factories
from tests.sharing.helpers import application_body, approved_grant, resource_code, setup


def test_request_carries_the_callers_allowed_actions_and_working_days_left(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    setup(db, tmp_path)
    code = resource_code(db)

    headers = factories.login(client, "mz.admin")  # the applicant (民政)
    filed = client.post("/api/v1/sharing/requests", json=application_body(code), headers=headers)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    number = body["number"]
    assert body["state"] == "pending"
    assert body["allowed_actions"] == ["withdraw"]
    # the provider's clock has just started: every working day of it is left
    assert isinstance(body["working_days_left"], int)
    assert body["working_days_left"] >= 1

    factories.login(client, "reviewer")  # the 主管部门: nothing to do while the provider decides
    assert _get(client, number)["allowed_actions"] == []
    assert _numbers(client, side="supervise") == []

    headers = factories.login(client, "ga.admin")  # the provider (公安)
    seen = _get(client, number)
    assert seen["allowed_actions"] == ["approve", "refuse"]
    assert seen["working_days_left"] == body["working_days_left"]
    listed = client.get("/api/v1/sharing/requests", params={"side": "provider"}).json()
    assert [(r["number"], r["allowed_actions"]) for r in listed] == [(number, ["approve", "refuse"])]
    refused = client.post(
        f"/api/v1/sharing/requests/{number}/decision",
        json={"decision": "refuse", "reason": "用途与资源的共享条件不符"},
        headers=headers,
    )
    assert refused.status_code == 200, refused.text
    assert refused.json()["allowed_actions"] == []  # the provider has answered
    assert refused.json()["working_days_left"] is None  # no clock runs on a refused application

    headers = factories.login(client, "mz.admin")
    assert _get(client, number)["allowed_actions"] == ["dispute"]
    disputed = client.post(
        f"/api/v1/sharing/requests/{number}/dispute", json={"reason": "用途符合共享条件"}, headers=headers
    )
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["state"] == "negotiating"
    assert disputed.json()["allowed_actions"] == ["withdraw", "escalate"]
    assert disputed.json()["working_days_left"] >= 1

    factories.login(client, "reviewer")  # a 协商 waits for the 主管部门 too: it may settle it
    assert _get(client, number)["allowed_actions"] == ["settle"]
    assert _numbers(client, side="supervise") == [number]
    assert _numbers(client, side="supervise", state="prereview") == []


def _numbers(client: TestClient, **params: str) -> list[str]:
    response = client.get("/api/v1/sharing/requests", params=params)
    assert response.status_code == 200, response.text
    return [r["number"] for r in response.json()]


def _get(client: TestClient, number: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/sharing/requests/{number}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_grant_carries_revoke_for_its_provider_and_consumer_only(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    setup(db, tmp_path)
    number = approved_grant(client, resource_code(db))

    factories.login(client, "ga.admin")  # the provider
    request = _get(client, number)
    assert request["state"] == "approved"
    assert request["allowed_actions"] == []
    assert request["working_days_left"] is None
    grant = client.get(f"/api/v1/sharing/grants/{request['grant_id']}").json()
    assert grant["allowed_actions"] == ["revoke"]

    factories.login(client, "mz.user")  # the consumer's 使用人员 may give the grant up
    assert [g["allowed_actions"] for g in client.get("/api/v1/sharing/grants").json()] == [["revoke"]]

    headers = factories.login(client, "reviewer")  # the 主管部门 sees it but may not revoke it
    assert [g["allowed_actions"] for g in client.get("/api/v1/sharing/grants").json()] == [[]]
    refused = client.post(
        f"/api/v1/sharing/grants/{grant['id']}/revoke", json={"reason": "主管部门不能撤销"}, headers=headers
    )
    assert refused.status_code == 403

    headers = factories.login(client, "ga.admin")
    revoked = client.post(
        f"/api/v1/sharing/grants/{grant['id']}/revoke", json={"reason": "使用期限内停止共享"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["allowed_actions"] == []  # nothing left to revoke
