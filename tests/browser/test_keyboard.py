"""Keyboard use of the portal: the skip link is the first Tab stop, the login form is reached in order with
a visible focus outline, and Enter submits it."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from govshare.demo.service import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FOCUSED = "() => { const e = document.activeElement; return e ? (e.id || e.textContent.trim()) : null; }"
OUTLINE = "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"


def _tab_to(page: Page, element_id: str, limit: int = 20) -> int:
    """Press Tab until the element with this id has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == element_id:
            return presses
    raise AssertionError(f"Tab never reached #{element_id} in {limit} presses")


def test_the_skip_link_is_the_first_tab_stop_and_jumps_to_the_content(page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("跳到正文")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")  # the next stop is inside the content: the login form's user name
    assert page.evaluate(FOCUSED) == "username"


def test_login_form_in_tab_order_with_a_visible_outline_and_enter_submits(page: Page) -> None:
    page.goto("/login")
    username = page.locator("#username")
    resting = username.evaluate(OUTLINE)
    _tab_to(page, "username")
    focused = username.evaluate(OUTLINE)
    assert focused[0] != "none" and focused[1] not in ("0px", ""), f"no focus outline: {focused}"
    assert focused != resting, f"focus does not change the outline: {resting} -> {focused}"
    page.keyboard.type("sfj.user")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "password"
    assert page.locator("#password").evaluate(OUTLINE)[0] != "none"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    button = page.get_by_role("button", name="登录")
    expect(button).to_be_focused()
    assert button.evaluate(OUTLINE)[0] != "none"
    page.keyboard.press("Shift+Tab")  # back to the password, and Enter submits the form
    assert page.evaluate(FOCUSED) == "password"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlparse(page.url).path == "/", page.url
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("SFJ")
