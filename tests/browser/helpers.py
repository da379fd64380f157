"""Helpers of the browser tests: signing in through the form, screenshots, axe-core, layout checks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from govshare.demo.service import DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real login form, and check that it worked."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("口令").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert "/login" not in page.url, f"login as {username} failed: {page.locator('.error').all_inner_texts()}"


def screenshot(page: Page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the current page, one line per element."""
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING_IMPACTS:
            for node in violation["nodes"]:
                where = f"{node['target']} — {node['html'][:160]}"
                found.append(f"{violation['id']} ({violation['impact']}): {where}")
    return found


def assert_accessible(page: Page) -> None:
    found = axe_violations(page)
    assert not found, f"axe-core on {page.url}:\n" + "\n".join(found)


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def data_headers(key: str, purpose: str, operator: str) -> dict[str, str]:
    """The data API's headers; Chinese values percent-encoded as UTF-8 (docs/sharing.md)."""
    return {"Authorization": f"Bearer {key}", "X-Purpose": quote(purpose), "X-Operator": quote(operator)}
