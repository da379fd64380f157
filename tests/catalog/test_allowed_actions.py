"""Every resource the API returns says where it stands for the caller (`state`, `state_label`) and what the
caller may do with it now (`allowed_actions`): the same answer the portal's workbench shows, so an API
client needs no copy of the lifecycle rules. The service checks each action again when it runs. Both
databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from govshare.auth.permissions import Role
from govshare.catalog import service
from govshare.core.db import Database
from govshare.errors import InvalidInput
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, apply, definition


def _setup(db: Database) -> None:
    factories.city(db)
    factories.user(db, "reviewer", "DSJ", Role.CATALOG_REVIEWER)


def _seen(client: TestClient, login: str, resource_id: int) -> tuple[str, str, list[str]]:
    factories.login(client, login)
    response = client.get(f"/api/v1/catalog/resources/{resource_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body["state"], body["state_label"], body["allowed_actions"]


def test_each_caller_sees_the_stage_and_its_own_actions(client: TestClient, db: Database) -> None:
    _setup(db)
    steward = factories.login(client, "ga.steward")
    created = client.post("/api/v1/catalog/resources", json=definition(POPULATION), headers=steward)
    assert created.status_code == 201, created.text
    body = created.json()
    rid = body["id"]
    assert (body["state"], body["state_label"], body["allowed_actions"]) == (
        "draft",
        "草稿",
        ["edit", "submit"],
    )
    assert _seen(client, "reviewer", rid) == ("draft", "草稿", [])

    steward = factories.login(client, "ga.steward")
    submitted = client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward).json()
    assert (submitted["state"], submitted["allowed_actions"]) == ("submitted", [])
    assert _seen(client, "reviewer", rid) == ("submitted", "待审核", ["approve", "return"])

    reviewer = factories.login(client, "reviewer")
    returned = client.post(
        f"/api/v1/catalog/resources/{rid}/return", json={"comment": "请补充摘要"}, headers=reviewer
    ).json()
    assert (returned["state"], returned["state_label"], returned["allowed_actions"]) == (
        "returned",
        "已退回",
        [],
    )
    assert _seen(client, "ga.steward", rid) == ("returned", "已退回", ["edit", "submit"])

    steward = factories.login(client, "ga.steward")
    client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward)
    reviewer = factories.login(client, "reviewer")
    published = client.post(f"/api/v1/catalog/resources/{rid}/approve", json={}, headers=reviewer).json()
    assert (published["state"], published["allowed_actions"]) == ("published", ["withdraw"])
    assert _seen(client, "ga.steward", rid) == ("published", "已发布", ["edit"])
    assert _seen(client, "ga.admin", rid) == ("published", "已发布", ["edit", "withdraw"])
    # another department reads the published resource and may do nothing with it
    assert _seen(client, "mz.admin", rid) == ("published", "已发布", [])

    admin = factories.login(client, "ga.admin")
    withdrawn = client.post(
        f"/api/v1/catalog/resources/{rid}/withdraw", json={"reason": "职能调整"}, headers=admin
    ).json()
    assert (withdrawn["state"], withdrawn["state_label"], withdrawn["allowed_actions"]) == (
        "withdrawn",
        "已下架",
        ["edit"],
    )


def test_a_new_version_in_review_is_seen_as_published_by_other_departments(
    client: TestClient, db: Database
) -> None:
    _setup(db)
    apply(db, definition(MARRIAGE, provider="GA", name="户籍测试资源"))
    steward = factories.login(client, "ga.steward")
    rid = client.get("/api/v1/catalog/resources").json()[0]["id"]
    changed = definition(MARRIAGE, provider="GA", name="户籍测试资源", summary="第二版的摘要，送审中。")
    assert (
        client.put(f"/api/v1/catalog/resources/{rid}/draft", json=changed, headers=steward).status_code == 200
    )
    assert client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward).status_code == 200

    assert _seen(client, "ga.steward", rid) == ("submitted", "待审核", [])
    assert _seen(client, "reviewer", rid) == ("submitted", "待审核", ["approve", "return", "withdraw"])
    assert _seen(client, "mz.admin", rid) == (
        "published",
        "已发布",
        [],
    )  # the version in review is not theirs


def test_the_service_refuses_a_withdrawal_without_a_reason(db: Database) -> None:
    """The reason rule is the service's (the API's schema says the same first): the portal and the CLI get it
    too, without a copy of their own."""
    _setup(db)
    report = apply(db, definition(MARRIAGE, provider="GA", name="待下架资源"))
    resource_id = report.resources[0].resource_id
    with db.transaction() as session, pytest.raises(InvalidInput) as refused:
        service.withdraw(session, factories.SYSTEM, resource_id, " 。 ")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("reason", "请写明下架理由（至少 2 个字）")
    ]
    with db.transaction(readonly=True) as session:
        assert service.get_resource(session, factories.SYSTEM, resource_id).status == "active"
