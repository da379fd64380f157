"""Phone width (390×844): the pages fit the screen with no horizontal scrolling (wide tables scroll inside
their own box), and pass axe-core at that width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.helpers import assert_accessible, login, no_horizontal_scroll, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WIDEST = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.table-scroll, .open-scroll, .scroll'))
  .slice(0, 3)
  .map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)"""
PAGES = [
    ("home", "mz.admin", "/", "示例市政务信息资源共享交换平台"),
    ("catalog", "mz.admin", "/catalog?q=人口", "政务信息资源目录"),
    ("resource", "mz.admin", "/catalog?q=人口基本信息", "人口基本信息"),
    ("sharing", "ga.admin", "/sharing", "共享申请"),
    ("dashboard", "ga.admin", "/dashboard", "部门看板：示例市公安局"),
    ("open", None, "/open", "公共数据开放"),
]


@pytest.mark.parametrize(("name", "user", "path", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_phone_width_has_no_horizontal_scrolling(
    phone: Page, name: str, user: str | None, path: str, heading: str
) -> None:
    if user:
        login(phone, user)
    phone.goto(path)
    if name == "resource":
        phone.locator(".hits").get_by_role("link", name="人口基本信息", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(heading)
    # A page wider than the phone makes mobile Chromium zoom out (innerWidth grows past 390) or scroll.
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    too_wide = phone.evaluate(WIDEST)
    assert no_horizontal_scroll(phone) and width[1] == PHONE["width"], (
        f"{path} is wider than the phone (scrollWidth, innerWidth = {width}); widest: {too_wide}"
    )
    screenshot(phone, f"phone-{name}")
    assert_accessible(phone)  # at phone width too (tables that scroll must be reachable by keyboard)
