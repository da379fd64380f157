"""Portal pages of the catalog: server-rendered, no JavaScript, the same services as the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from starlette.routing import Match

from govshare.catalog import portal as catalog_portal
from govshare.core.db import Database
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, TAX, apply, definition

HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_anonymous_browsers_are_sent_to_login_and_back(client: TestClient, db: Database) -> None:
    response = client.get("/catalog", headers=HTML, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/catalog")
    page = client.get("/login", params={"next": "/catalog"}).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert 'name="next" value="/catalog"' in page
    factories.city(db)
    done = client.post(
        "/login",
        data={
            "username": "ga.steward",
            "password": factories.PASSWORD,
            "csrf_token": token,
            "next": "/catalog",
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/catalog"


def test_login_never_redirects_off_the_node(client: TestClient, db: Database) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        page = client.get("/login", params={"next": target}).text
        assert 'name="next" value="/"' in page


def test_search_page_with_facets_and_resource_page(client: TestClient, db: Database) -> None:
    factories.city(db)
    apply(
        db,
        POPULATION,
        MARRIAGE,
        TAX,
        definition(MARRIAGE, name="收养登记信息<script>", summary="草稿"),
        publish=True,
    )
    factories.login(client, "mz.admin")
    page = client.get("/catalog", params={"q": "登记"}, headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "共 2 个信息资源" in html
    assert "收养登记信息&lt;script&gt;" in html and "<script>" not in html
    assert 'href="/catalog?q=%E7%99%BB%E8%AE%B0&amp;share_type=unconditional"' in html  # a facet link
    assert "<script" not in html and "http://" not in html and "https://" not in html
    filtered = client.get("/catalog", params={"q": "登记", "share_type": "unconditional"}, headers=HTML).text
    assert "共 2 个信息资源" in filtered and "取消筛选" in filtered
    code = re.search(r'href="/catalog/([0-9-]+)">婚姻登记信息', html).group(1)  # type: ignore[union-attr]
    resource = client.get(f"/catalog/{code}", headers=HTML).text
    assert "婚姻登记信息" in resource and "登记证字号" in resource and "<code>djzzh</code>" in resource
    missing = client.get("/catalog/NOPE-1", headers=HTML)
    assert missing.status_code == 404
    assert "信息资源代码“NOPE-1”不存在" in missing.text and "请求编号" in missing.text


LITERAL_PAGES = ("/catalog/new", "/catalog/manage", "/catalog/excel")


def test_the_resource_page_never_takes_a_literal_page_for_a_code(client: TestClient, db: Database) -> None:
    """Route order does not matter: each path under /catalog/ matches exactly one portal route (the resource
    page's `{code}` leaves out the literal pages' names), and every page answers with the routes in their
    order and reversed."""
    factories.city(db)
    code = apply(db, definition(MARRIAGE, provider="GA")).resources[0].code
    assert code
    for path in (*LITERAL_PAGES, f"/catalog/{code}"):
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        matching = [route for route in catalog_portal.router.routes if route.matches(scope)[0] == Match.FULL]
        assert len(matching) == 1, (path, [getattr(r, "path", r) for r in matching])

    factories.login(client, "ga.admin")  # may compile, withdraw and read: every page answers 200
    routes = client.app.router.routes  # type: ignore[attr-defined]
    ours = [i for i, route in enumerate(routes) if route in catalog_portal.router.routes]
    original = list(routes)
    try:
        for order in ("as built", "reversed"):
            if order == "reversed":
                for index, route in zip(ours, reversed([routes[i] for i in ours]), strict=True):
                    routes[index] = route
            assert "新建信息资源" in client.get("/catalog/new", headers=HTML).text, order
            assert "目录编制" in client.get("/catalog/manage", headers=HTML).text, order
            assert "Excel" in client.get("/catalog/excel", headers=HTML).text, order
            resource = client.get(f"/catalog/{code}", headers=HTML)
            assert resource.status_code == 200 and "婚姻登记信息" in resource.text, order
    finally:
        routes[:] = original
