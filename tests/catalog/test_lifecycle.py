"""Draft → submitted → published (or returned), new versions under review while the old one stays in force,
withdrawal that keeps the record; every transition audited. Through the API, on both databases."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.auth.permissions import Role
from govshare.core.db import Database
from govshare.models import AuditEntry
from tests import factories
from tests.catalog.helpers import POPULATION, definition


def _setup(db: Database) -> None:
    factories.city(db)
    factories.user(db, "reviewer", "DSJ", Role.CATALOG_REVIEWER)
    factories.user(db, "mz.steward", "MZ", Role.DATA_STEWARD)


def test_full_review_lifecycle_with_versions(client: TestClient, db: Database) -> None:
    _setup(db)
    steward = factories.login(client, "ga.steward")
    bad = definition(POPULATION)
    bad["items"][0]["share"] = "有条件"  # a base item of a 人口 resource that is not 无条件
    created = client.post("/api/v1/catalog/resources", json=bad, headers=steward)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert created.json()["code"] is None
    assert created.json()["pending"]["state"] == "draft"

    refused = client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "items[0].share", "message": "“公民身份号码”是人口基础信息资源的基础信息项，须无条件共享"}
    ]

    assert (
        client.put(f"/api/v1/catalog/resources/{rid}/draft", json=POPULATION, headers=steward).status_code
        == 200
    )
    submitted = client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward)
    assert submitted.json()["pending"]["state"] == "submitted"
    assert (
        client.put(f"/api/v1/catalog/resources/{rid}/draft", json=POPULATION, headers=steward).status_code
        == 200
    )
    changed = definition(POPULATION, summary="改过的摘要，审核中不能修改。")
    assert (
        client.put(f"/api/v1/catalog/resources/{rid}/draft", json=changed, headers=steward).status_code == 409
    )

    # another department sees nothing of an unpublished resource
    factories.login(client, "mz.admin")
    assert client.get(f"/api/v1/catalog/resources/{rid}").status_code == 404

    reviewer = factories.login(client, "reviewer")
    assert [r["id"] for r in client.get("/api/v1/catalog/review-queue").json()] == [rid]
    no_comment = client.post(
        f"/api/v1/catalog/resources/{rid}/return", json={"comment": " "}, headers=reviewer
    )
    assert no_comment.status_code == 422
    returned = client.post(
        f"/api/v1/catalog/resources/{rid}/return", json={"comment": "请补充摘要"}, headers=reviewer
    )
    assert returned.json()["pending"]["state"] == "returned"
    assert returned.json()["pending"]["review_comment"] == "请补充摘要"

    steward = factories.login(client, "ga.steward")
    client.put(f"/api/v1/catalog/resources/{rid}/draft", json=changed, headers=steward)
    client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward)
    reviewer = factories.login(client, "reviewer")
    published = client.post(
        f"/api/v1/catalog/resources/{rid}/approve", json={"comment": "同意"}, headers=reviewer
    )
    body = published.json()
    assert re.fullmatch(r"101001-\d{6}", body["code"])
    assert (body["status"], body["current"]["number"], body["pending"]) == ("active", 1, None)
    code = body["code"]

    # a change to the published resource is a new version, reviewed while version 1 stays in force
    steward = factories.login(client, "ga.steward")
    v2 = definition(changed, name="人口基本信息（含流动人口）")
    v2["items"].append({"name": "联系电话", "field": "lxdh", "type": "C", "length": 20, "mask": "手机号码"})
    draft = client.put(f"/api/v1/catalog/resources/{rid}/draft", json=v2, headers=steward).json()
    assert (draft["current"]["number"], draft["pending"]["number"]) == (1, 2)
    client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward)
    factories.login(client, "mz.admin")
    seen = client.get(f"/api/v1/catalog/codes/{code}").json()
    assert (seen["name"], seen["pending"]) == ("人口基本信息", None)
    reviewer = factories.login(client, "reviewer")
    after = client.post(f"/api/v1/catalog/resources/{rid}/approve", json={}, headers=reviewer).json()
    assert (after["code"], after["current"]["number"], after["name"]) == (
        code,
        2,
        "人口基本信息（含流动人口）",
    )
    versions = client.get(f"/api/v1/catalog/resources/{rid}/versions").json()
    assert [(v["number"], v["state"]) for v in versions] == [(1, "superseded"), (2, "published")]

    diff = client.get(f"/api/v1/catalog/resources/{rid}/diff", params={"from": 1, "to": 2}).json()
    assert {"field": "name", "before": "人口基本信息", "after": "人口基本信息（含流动人口）"} in diff[
        "fields"
    ]
    assert diff["items"] == [{"field_name": "lxdh", "change": "added", "changes": []}]

    withdrawn = client.post(
        f"/api/v1/catalog/resources/{rid}/withdraw", json={"reason": "职能调整"}, headers=reviewer
    ).json()
    assert (withdrawn["status"], withdrawn["withdrawn_reason"]) == ("withdrawn", "职能调整")
    assert client.get("/api/v1/catalog/search", params={"q": "人口"}).json()["total"] == 0
    kept = client.get(f"/api/v1/catalog/codes/{code}").json()
    assert (kept["code"], kept["current"]["number"]) == (code, 2)

    with db.transaction(readonly=True) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("catalog.%")).order_by(AuditEntry.seq)
        ).all()
    assert actions == [
        "catalog.create",
        "catalog.edit",
        "catalog.submit",
        "catalog.return",
        "catalog.edit",
        "catalog.submit",
        "catalog.publish",
        "catalog.edit",
        "catalog.submit",
        "catalog.publish",
        "catalog.withdraw",
    ]


def test_stewards_edit_only_their_own_department(client: TestClient, db: Database) -> None:
    _setup(db)
    headers = factories.login(client, "mz.steward")
    response = client.post("/api/v1/catalog/resources", json=POPULATION, headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "只能管理本部门的数据"
    headers = factories.login(client, "ga.steward")
    rid = client.post("/api/v1/catalog/resources", json=POPULATION, headers=headers).json()["id"]
    headers = factories.login(client, "mz.steward")
    assert (
        client.put(f"/api/v1/catalog/resources/{rid}/draft", json=POPULATION, headers=headers).status_code
        == 404
    )
    # a steward cannot review, even their own work
    headers = factories.login(client, "ga.steward")
    client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=headers)
    assert (
        client.post(f"/api/v1/catalog/resources/{rid}/approve", json={}, headers=headers).status_code == 403
    )


def test_rule_override_is_the_platform_admins_and_recorded(client: TestClient, db: Database) -> None:
    _setup(db)
    bad = definition(POPULATION)
    bad["items"][0]["share"] = "有条件"
    steward = factories.login(client, "ga.steward")
    rid = client.post("/api/v1/catalog/resources", json=bad, headers=steward).json()["id"]
    body = {"rule": "base_items_unconditional", "reason": "涉及在逃人员身份信息，经市政府批准暂不无条件共享"}
    assert (
        client.post(f"/api/v1/catalog/resources/{rid}/overrides", json=body, headers=steward).status_code
        == 403
    )
    admin = factories.login(client, "admin")
    overridden = client.post(f"/api/v1/catalog/resources/{rid}/overrides", json=body, headers=admin)
    assert overridden.status_code == 200
    assert overridden.json()["pending"]["overrides"][0]["by"] == "admin"
    steward = factories.login(client, "ga.steward")
    assert client.post(f"/api/v1/catalog/resources/{rid}/submit", headers=steward).status_code == 200
    with db.transaction(readonly=True) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.override")).one()
    assert entry.detail["reason"] == body["reason"]
