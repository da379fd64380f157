"""The portal works with JavaScript switched off: the pages carry no script at all, and signing in (a POST
with the CSRF token), searching the catalog (a GET form), opening a resource and signing out all work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, Node
from tests.browser.helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def no_js(chromium: Browser, node: Node) -> Iterator[Page]:
    context = chromium.new_context(
        locale="zh-CN", base_url=node.url, viewport=DESKTOP, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def test_sign_in_search_open_and_sign_out_without_javascript(no_js: Page) -> None:
    login(no_js, "ga.user")
    expect(no_js.locator(".who")).to_contain_text("GA")
    assert no_js.locator("script").count() == 0
    no_js.get_by_role("navigation", name="主导航").get_by_role("link", name="目录").click()
    no_js.get_by_label("关键词").fill("企业登记")
    with no_js.expect_navigation():
        no_js.get_by_role("button", name="检索").click()
    assert "q=" in no_js.url
    no_js.locator(".hits").get_by_role("link", name="企业登记注册信息", exact=True).click()
    expect(no_js.get_by_role("heading", level=1)).to_have_text("企业登记注册信息")
    expect(no_js.locator("main")).to_contain_text("统一社会信用代码")
    assert no_js.locator("script").count() == 0
    with no_js.expect_navigation():
        no_js.get_by_role("button", name="退出").click()
    expect(no_js.get_by_role("navigation", name="主导航").get_by_role("link", name="登录")).to_be_visible()
    assert "gs_session" not in {c["name"] for c in no_js.context.cookies()}
