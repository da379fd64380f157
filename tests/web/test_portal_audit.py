"""Portal pages of 审计 (the auditor only, 三员分立): the audit log with filters that really filter and keyset
paging, one entry in full (escaped), the chain verification, and "who looked at me" whose number travels in
a POST body only. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govshare.audit.portal import log as portal_audit
from govshare.core.db import Database
from tests import factories
from tests.sharing.helpers import (
    OPERATOR_TEXT,
    PURPOSE,
    PURPOSE_TEXT,
    ZHANG,
    approved_grant,
    resource_code,
    setup,
)
from tests.web.portal_helpers import HTML, page, portal_login, post
from tests.web.test_portal_apps import register_and_issue


def codes(html: str) -> set[str]:
    """The actions of the rows listed (each row shows its action as <code>…</code>)."""
    return set(re.findall(r"<td>(?:[^<]*<br>)?<code>([a-z_.]+)</code></td>", html))


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<a href="/audit/entries/(\d+)">\d+</a>', html)]


def test_the_auditor_reads_filters_pages_and_verifies(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.city(db)
    register_and_issue(client)
    # A refused attempt: 公安's admin tries to issue a key for 民政's application.
    portal_login(client, "ga.admin", "/apps")
    assert post(client, "/apps/mz-jzxt/keys", page(client, "/apps"), scopes=["data:read"]).status_code == 403

    # 三员分立: neither the platform admin nor the security admin reads the audit log.
    for officer in ("admin", "security", "mz.admin"):
        portal_login(client, officer, "/")
        home = page(client, "/")
        assert 'href="/audit"' not in home
        for path in ("/audit", "/audit/entries/1", "/audit/who-looked"):
            assert client.get(path, headers=HTML).status_code == 403, (officer, path)
        assert post(client, "/audit/verify", home).status_code == 403

    portal_login(client, "auditor", "/audit")
    everything = page(client, "/audit")
    assert "审计日志" in everything and "校验审计链" in everything
    assert {"applications.create", "applications.key.issue", "identity.login"} <= codes(everything)
    assert "签发接口密钥" in everything and "拒绝" in everything
    listed = seqs(everything)
    assert listed == sorted(listed, reverse=True)  # newest first

    # Filters really filter.
    issued = page(client, "/audit?action=applications.key.issue")
    assert codes(issued) == {"applications.key.issue"}
    family = page(client, "/audit?category=applications.")
    assert "applications.create" in codes(family) and "identity.login" not in codes(family)
    assert all(c.startswith("applications.") for c in codes(family))
    by_actor = page(client, "/audit?actor_name=mz.admin")
    assert "applications.create" in codes(by_actor)
    assert all(a == "mz.admin" for a in re.findall(r"<td>([\w.]+)<br><span class=\"meta\">用户", by_actor))
    denied = page(client, "/audit?outcome=denied&department=GA")
    assert codes(denied) and "applications.create" not in codes(denied)
    assert "成功</span>" not in denied and "拒绝</span>" in denied
    mz_only = page(client, "/audit?department=MZ")
    assert "applications.create" in codes(mz_only) and "audit.read" not in codes(
        mz_only
    )  # the auditor is DSJ
    future = page(client, "/audit?since=2999-01-01T00:00")
    assert codes(future) == set() and "没有符合条件的审计记录" in future
    bad_time = client.get("/audit?since=yesterday", headers=HTML)
    assert bad_time.status_code == 422 and "开始时间的格式应为" in bad_time.text

    # Paging by seq: the second page starts where the first stopped, with the filters kept.
    monkeypatch.setattr(portal_audit, "PAGE", 2)
    first = page(client, "/audit?category=applications.")
    found = re.search(r'href="/audit\?([^"]+)">更早的记录', first)
    assert found, first
    query = found.group(1).replace("&amp;", "&")
    assert "category=applications." in query and f"before={seqs(first)[-1]}" in query
    second = page(client, f"/audit?{query}")
    assert seqs(second) and max(seqs(second)) < min(seqs(first))
    assert all(c.startswith("applications.") for c in codes(second))
    monkeypatch.setattr(portal_audit, "PAGE", 50)

    # One entry in full: purpose, operator, outcome and the detail JSON, pretty-printed and escaped.
    issue_seq = seqs(issued)[0]
    entry = page(client, f"/audit/entries/{issue_seq}")
    assert "审计记录 第" in entry and "mz.admin" in entry and "签发接口密钥" in entry
    assert "&#34;application&#34;: &#34;mz-jzxt&#34;" in entry or "&quot;application&quot;" in entry
    assert page(client, "/audit/entries/999999", status=404)

    # The chain verification, in Chinese; a form without the token is refused.
    assert client.post("/audit/verify", headers=HTML).status_code == 403
    verified = post(client, "/audit/verify", everything)
    assert verified.status_code == 200, verified.text
    assert "校验通过：审计日志哈希链完整" in verified.text
    assert "audit.verify" in codes(page(client, "/audit?action=audit.verify"))


def test_entry_detail_shows_the_revocation_reason_escaped(client: TestClient, db: Database) -> None:
    factories.city(db)
    secret, _ = register_and_issue(client)
    prefix = secret.split("_")[1]
    detail = page(client, "/apps/mz-jzxt")
    revoked = post(client, f"/apps/mz-jzxt/keys/{prefix}/revoke", detail, reason="<i>密钥泄露</i>")
    assert revoked.status_code == 303
    portal_login(client, "auditor", "/audit")
    reasons = page(client, "/audit?action=applications.key.revoke")
    assert codes(reasons) == {"applications.key.revoke"} and len(seqs(reasons)) == 1
    entry = page(client, f"/audit/entries/{seqs(reasons)[0]}")
    assert "测试市民政局（MZ）" in entry and "接口密钥" in entry and prefix in entry
    assert "<i>密钥泄露</i>" not in entry and "&lt;i&gt;密钥泄露&lt;/i&gt;" in entry


def test_who_looked_at_me_lists_a_data_call_without_the_number_in_a_url(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    keys = setup(db, tmp_path)
    code = resource_code(db)
    approved_grant(client, code)
    called = client.get(
        f"/api/v1/data/{code}/records/{ZHANG}", headers={**factories.bearer(keys["mz"]), **PURPOSE}
    )
    assert called.status_code == 200, called.text

    portal_login(client, "ga.admin", "/")
    assert client.get("/audit/who-looked", headers=HTML).status_code == 403
    assert post(client, "/audit/who-looked", page(client, "/"), number=ZHANG).status_code == 403

    portal_login(client, "auditor", "/audit/who-looked")
    form = page(client, "/audit/who-looked")
    assert 'method="post" action="/audit/who-looked"' in form and "公民身份号码或统一社会信用代码" in form
    assert (
        client.post("/audit/who-looked", data={"number": ZHANG}, headers=HTML).status_code == 403
    )  # no CSRF

    found = post(client, "/audit/who-looked", form, number=ZHANG)
    assert found.status_code == 200, found.text
    assert ZHANG not in str(found.url) and not found.history
    assert found.headers["cache-control"] == "no-store"
    text = found.text
    assert "共 1 次调用" in text
    assert "测试市民政局（MZ）" in text and "mz-dbsh" in text and "按主键查询记录" in text
    assert PURPOSE_TEXT in text and OPERATOR_TEXT in text and "共享测试人口信息" in text
    # The look-up is audited, without the number.
    traced = page(client, "/audit?action=audit.trace")
    assert "audit.trace" in codes(traced) and ZHANG not in traced

    wrong = post(client, "/audit/who-looked", form, number=ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"))
    assert wrong.status_code == 422 and "须为有效的公民身份号码或统一社会信用代码" in wrong.text
    empty = post(client, "/audit/who-looked", form, number="")
    assert empty.status_code == 422 and "请输入公民身份号码或统一社会信用代码" in empty.text
    nobody = post(client, "/audit/who-looked", form, number="91350100M000100Y43")
    assert nobody.status_code == 200 and "统一社会信用代码 91350100M000100Y43" in nobody.text
    assert "没有查到调用该号码数据的记录" in nobody.text
