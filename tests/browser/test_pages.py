"""The main pages in Chromium: each renders its Chinese heading with the stylesheet applied, passes axe-core
without serious or critical violations, and leaves a full-page screenshot in test-artifacts/screenshots."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _resource(page: Page) -> None:
    page.goto("/catalog?q=人口基本信息")
    page.locator(".hits").get_by_role("link", name="人口基本信息", exact=True).click()


def _request(page: Page) -> None:
    page.goto("/sharing?side=provider")
    page.locator("tbody tr a[href^='/sharing/requests/']").first.click()


def _batch(page: Page) -> None:
    page.goto("/collection")
    page.locator("main a[href^='/collection/batches/']").first.click()


def _audit_entry(page: Page) -> None:
    page.goto("/audit")
    page.locator("main table a[href^='/audit/entries/']").first.click()


def _open_dataset(page: Page) -> None:
    page.goto("/open?q=企业登记")
    page.get_by_role("link", name="企业登记注册信息", exact=True).click()


def _guided_mapping(page: Page) -> None:
    """Step 2 of the guided registration, after uploading a two-line sample with the catalog's names."""
    page.goto("/collection/sources/guided")
    option = page.locator("#resource option", has_text="人口基本信息").first.get_attribute("value")
    assert option, "人口基本信息 is not offered to 公安's steward"
    page.get_by_label("目标信息资源").select_option(value=option)
    page.get_by_label("数据源名称").fill("人口样例")
    csv = "公民身份号码,姓名,性别\n110101199003071234,张三,1\n".encode()
    sample = {"name": "样例.csv", "mimeType": "text/csv", "buffer": csv}
    page.get_by_label(re.compile("^样例文件")).set_input_files(sample)  # type: ignore[arg-type]
    page.get_by_role("button", name="下一步：逐项选择对应列").click()


@dataclass(frozen=True)
class Screen:
    name: str
    user: str | None
    path: str | Callable[[Page], None]
    heading: str | re.Pattern[str]
    shows: str  # Chinese text the page must show besides its heading


SCREENS = [
    Screen("login", None, "/login", "登录", "口令"),
    Screen("home-anonymous", None, "/", "示例市政务信息资源共享交换平台", "已发布资源"),
    Screen("home", "mz.admin", "/", "示例市政务信息资源共享交换平台", "我的角色"),
    Screen("catalog-search", "mz.admin", "/catalog?q=婚姻", "政务信息资源目录", "婚姻登记信息"),
    Screen("catalog-resource", "mz.admin", _resource, "人口基本信息", "公民身份号码"),
    Screen("sharing-list", "ga.admin", "/sharing", "共享申请", "办理时限（北京时间）"),
    Screen("sharing-request", "ga.admin", _request, re.compile(r"^共享申请 \S+"), "申请内容"),
    Screen("sharing-grants-list", "mz.admin", "/sharing/grants", "授权管理", "人口基本信息"),
    Screen("dashboard", "ga.admin", "/dashboard", "部门看板：示例市公安局", "资源概况"),
    Screen("catalog-manage", "jt.steward", "/catalog/manage", "目录编制", "本部门的信息资源"),
    Screen("catalog-new", "jt.steward", "/catalog/new", "新建信息资源", "信息项"),
    Screen("catalog-review-queue", "reviewer", "/catalog/manage", "目录编制", "待审核"),
    Screen("collection", "ga.admin", "/collection", "数据归集", "人口基本信息"),
    Screen("collection-batch", "ga.admin", _batch, re.compile(r"^归集批次 \d+$"), "隔离"),
    Screen("apps", "mz.admin", "/apps", "应用系统与接口密钥", "婚姻登记管理系统"),
    Screen("apps-detail", "mz.admin", "/apps/mz-hydj", "婚姻登记管理系统", "签发接口密钥"),
    Screen("audit", "auditor", "/audit", "审计日志", "校验审计链"),
    Screen("audit-who-looked", "auditor", "/audit/who-looked", "谁查看了我", "公民身份号码"),
    Screen("admin", "admin", "/admin", "系统管理", "用户"),
    Screen("admin-users", "admin", "/admin/users", "用户与角色", "mz.admin"),
    Screen("admin-roles", "admin", "/admin/roles", "角色与权限", "部门管理员"),
    Screen("admin-departments", "admin", "/admin/departments", "部门", "示例市民政局"),
    Screen("admin-code-sets", "admin", "/admin/code-sets", "代码集", "GB/T 2261.1"),
    Screen("admin-settings", "admin", "/admin/settings", "节点设置", "示例市"),
    Screen("audit-entry", "auditor", _audit_entry, re.compile(r"^审计记录 第 \d+ 条$"), "哈希"),
    Screen("catalog-excel", "jt.steward", "/catalog/excel", "用 Excel 模板编制目录", "模板"),
    Screen("collection-source-new", "ga.admin", "/collection/sources/new", "登记数据源", "目标信息资源"),
    Screen(
        "collection-guided", "ga.steward", "/collection/sources/guided", "引导登记文件型数据源", "样例文件"
    ),
    Screen("collection-guided-map", "ga.steward", _guided_mapping, "逐项选择对应列", "公民身份号码"),
    Screen("open", None, "/open", "公共数据开放", "企业登记注册信息"),
    Screen("open-dataset", None, _open_dataset, "企业登记注册信息", "未开放的数据项"),
    Screen("open-stats", None, "/open/stats", "数据开放使用统计", "下载"),
    Screen("open-api", None, "/open/api", "开放接口说明", "/api/open/v1"),
]


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_page_renders_and_is_accessible(page: Page, screen: Screen) -> None:
    if screen.user:
        login(page, screen.user)
    if callable(screen.path):
        screen.path(page)
    else:
        response = page.goto(screen.path)
        assert response is not None and response.status == 200, screen.path
    expect(page.get_by_role("heading", level=1)).to_have_text(screen.heading)
    expect(page.locator("main")).to_contain_text(screen.shows)
    # The node's stylesheet applied: the masthead is styled (not the browser's default transparent block).
    background = page.locator("header.masthead").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    screenshot(page, screen.name)
    assert_accessible(page)


def test_a_chinese_font_is_installed_for_the_browser() -> None:
    """Without a CJK font Chromium draws every Chinese character as an empty box: screenshots are
    unreadable and phone-width layout is measured on the wrong glyphs. Debian: fonts-wqy-microhei (or
    fonts-noto-cjk), next to chromium in scripts/browser.sh."""
    if shutil.which("fc-list") is None:
        pytest.fail("fontconfig (fc-list) is missing: Chromium cannot find fonts")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    assert fonts.stdout.strip(), "no font covers Chinese: install fonts-wqy-microhei or fonts-noto-cjk"
