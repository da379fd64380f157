"""Portal pages of 应用与密钥: a department admin registers an application and issues a key in the browser;
the key is shown once (no-store, never in a URL or a later page), works on the data API, and stops working
when revoked with a reason; another department cannot touch it. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from govshare.auth.permissions import Role
from govshare.core.db import Database
from tests import factories
from tests.web.portal_helpers import HTML, page, portal_login, post

DATA_HEADERS = {"X-Purpose": "%E6%B5%8B%E8%AF%95", "X-Operator": "tester"}
SECRET = re.compile(r"gs_[a-z0-9]{10}_[A-Za-z0-9_-]+")


def keys_of(client: TestClient, code: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/applications/{code}/keys")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def register_and_issue(client: TestClient, code: str = "mz-jzxt") -> tuple[str, str]:
    """mz.admin registers `code` and issues a data key through the forms: returns (secret, issued page)."""
    portal_login(client, "mz.admin", "/apps")
    listing = page(client, "/apps")
    assert "登记应用系统" in listing and 'name="department_code"' in listing
    created = post(
        client, "/apps", listing, code=code, name="民政救助系统", department_code="MZ", description="救助审核"
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/apps/{code}?done=created"
    detail = page(client, created.headers["location"])
    assert "应用系统已登记" in detail and "签发接口密钥" in detail
    assert "调用数据接口（仅限已获授权的资源和信息项）" in detail  # the scopes by their Chinese names
    issued = post(client, f"/apps/{code}/keys", detail, scopes=["data:read", "catalog:read"], days="30")
    assert issued.status_code == 200, issued.text
    found = SECRET.findall(issued.text)
    assert len(found) == 1, "the key is shown exactly once"
    return found[0], issued.text


def test_issue_use_and_revoke_a_key_through_the_forms(client: TestClient, db: Database) -> None:
    factories.city(db)
    secret, shown = register_and_issue(client)

    # The result page: the key once, no caching, a plain-text example without any host.
    assert "完整密钥只在此页显示这一次" in shown
    assert 'curl -H "Authorization: Bearer $GOVSHARE_KEY"' in shown and "/api/v1/data" in shown
    assert "X-Purpose:" in shown and "X-Operator:" in shown
    assert "http://" not in shown and "https://" not in shown and "<script" not in shown
    again = client.post(
        "/apps/mz-jzxt/keys",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', shown).group(1),  # type: ignore[union-attr]
              "scopes": ["data:read"]},
        headers=HTML,
        follow_redirects=False,
    )  # fmt: skip
    assert again.headers["cache-control"] == "no-store"
    assert secret not in again.text  # a second key, not the first one again
    prefix = secret.split("_")[1]
    keys = keys_of(client, "mz-jzxt")
    assert {k["prefix"] for k in keys} >= {prefix} and len(keys) == 2
    first = next(k for k in keys if k["prefix"] == prefix)
    assert sorted(first["scopes"]) == ["catalog:read", "data:read"] and first["state"] == "active"

    # The key works on the data API.
    used = client.get("/api/v1/data", headers={**factories.bearer(secret), **DATA_HEADERS})
    assert used.status_code == 200, used.text

    # Later pages list the key by its prefix, never the key itself.
    portal_login(client, "mz.admin", "/apps")
    listing = page(client, "/apps")
    detail = page(client, "/apps/mz-jzxt")
    for later in (listing, detail):
        assert secret not in later and secret.split("_", 2)[2] not in later
        assert prefix in later and "有效" in later
    assert "民政救助系统" in listing and "最近使用" in listing

    # Revoking needs a reason; then the API refuses the key.
    short = post(client, f"/apps/mz-jzxt/keys/{prefix}/revoke", detail, reason="不")
    assert short.status_code == 422 and "请说明吊销理由" in short.text
    assert next(k for k in keys_of(client, "mz-jzxt") if k["prefix"] == prefix)["state"] == "active"
    revoked = post(client, f"/apps/mz-jzxt/keys/{prefix}/revoke", detail, reason="系统下线，停止使用")
    assert revoked.status_code == 303, revoked.text
    assert revoked.headers["location"] == f"/apps/mz-jzxt?done=revoked#key-{prefix}"
    after = page(client, "/apps/mz-jzxt?done=revoked")
    assert "密钥已吊销" in after and "已吊销" in after and secret not in after
    gone = next(k for k in keys_of(client, "mz-jzxt") if k["prefix"] == prefix)
    assert gone["state"] == "revoked" and gone["revoked_at"] is not None
    refused = client.get("/api/v1/data", headers={**factories.bearer(secret), **DATA_HEADERS})
    assert refused.status_code == 401


def test_another_department_cannot_issue_and_forms_check_csrf_and_input(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    register_and_issue(client)

    # 公安's admin does not see 民政's application and cannot issue a key for it.
    portal_login(client, "ga.admin", "/apps")
    ga_listing = page(client, "/apps")
    assert "mz-jzxt" not in ga_listing
    assert page(client, "/apps/mz-jzxt", status=403)
    refused = post(client, "/apps/mz-jzxt/keys", ga_listing, scopes=["data:read"], days="30")
    assert refused.status_code == 403
    assert SECRET.search(refused.text) is None
    # Nor register one for 民政: the department select offers its own department only.
    assert 'value="GA"' in ga_listing and 'value="MZ"' not in ga_listing
    forged = post(client, "/apps", ga_listing, code="ga-forged", name="伪造应用", department_code="MZ")
    assert forged.status_code == 403

    portal_login(client, "mz.admin", "/apps")
    assert len(keys_of(client, "mz-jzxt")) == 1
    listing = page(client, "/apps")

    # A form without its CSRF token is refused before anything happens.
    no_token = client.post(
        "/apps", data={"code": "mz-nocsrf", "name": "无令牌", "department_code": "MZ"}, headers=HTML
    )
    assert no_token.status_code == 403
    no_token_key = client.post("/apps/mz-jzxt/keys", data={"scopes": ["data:read"]}, headers=HTML)
    assert no_token_key.status_code == 403
    assert client.get("/api/v1/applications/mz-nocsrf").status_code == 404
    assert len(keys_of(client, "mz-jzxt")) == 1

    # Invalid input is explained in Chinese and what was typed is kept.
    bad = post(client, "/apps", listing, code="Bad Code", name="应用名称保留", department_code="MZ")
    assert bad.status_code == 422 and "应用代码：格式不正确" in bad.text and "应用名称保留" in bad.text
    taken = post(client, "/apps", listing, code="mz-jzxt", name="重复应用", department_code="MZ")
    assert taken.status_code == 409 and "已存在" in taken.text
    detail = page(client, "/apps/mz-jzxt")
    admin_scope = post(client, "/apps/mz-jzxt/keys", detail, scopes=["audit:read"], days="30")
    assert admin_scope.status_code == 422 and "应用密钥不能持有以下权限：audit:read" in admin_scope.text
    none_chosen = post(client, "/apps/mz-jzxt/keys", detail, days="30")
    assert none_chosen.status_code == 422 and "密钥权限：至少选择一项" in none_chosen.text
    too_long = post(client, "/apps/mz-jzxt/keys", detail, scopes=["data:read"], days="99999")
    assert too_long.status_code == 422 and "有效天数" in too_long.text
    assert len(keys_of(client, "mz-jzxt")) == 1


def test_platform_admin_sees_every_department_and_security_admin_only_revokes(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    factories.application_key(db, "ga-rkgl", "GA")
    secret, _ = register_and_issue(client)
    prefix = secret.split("_")[1]

    portal_login(client, "admin", "/apps")
    listing = page(client, "/apps")
    assert "mz-jzxt" in listing and "ga-rkgl" in listing
    assert 'value="GA"' in listing and 'value="MZ"' in listing
    made = post(client, "/apps", listing, code="ga-new", name="公安新系统", department_code="GA")
    assert made.status_code == 303
    assert client.get("/api/v1/applications/ga-new").json()["department_code"] == "GA"

    # 安全管理员 may revoke keys but neither register applications nor issue keys.
    portal_login(client, "security", "/apps")
    listing = page(client, "/apps")
    assert "登记应用系统" not in listing
    detail = page(client, "/apps/mz-jzxt")
    assert "签发接口密钥" not in detail and "吊销密钥" in detail
    assert post(client, "/apps/mz-jzxt/keys", detail, scopes=["data:read"]).status_code == 403
    done = post(client, f"/apps/mz-jzxt/keys/{prefix}/revoke", detail, reason="密钥疑似泄露")
    assert done.status_code == 303
    assert client.get("/api/v1/data", headers={**factories.bearer(secret), **DATA_HEADERS}).status_code == 401

    # A person without application:read has no page at all.
    factories.user(db, "mz.user", "MZ", Role.DATA_USER)
    portal_login(client, "mz.user", "/")
    assert client.get("/apps", headers=HTML).status_code == 403
