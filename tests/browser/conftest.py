"""Browser tests: Playwright (sync API) driving Debian's Chromium against a real node.

One node per test session, i.e. per xdist worker: every browser test carries ``xdist_group("browser")`` so
that ``--dist loadgroup`` keeps them on one worker and one node. (With pytest 9.2 and pytest-xdist 3.8 the
grouping silently does nothing, pytest-xdist issue #1386: each worker then starts its own node, which is
slower but still correct, since no test depends on another's data.) ``govshare demo`` seeds the demo city
into a temporary data directory on embedded SQLite, then ``govshare serve`` runs as a subprocess on a free
port of 127.0.0.1 until the session ends. The browser is /usr/bin/chromium (scripts/browser.sh installs
it); the package's own browser download is never used.

Screenshots go to test-artifacts/screenshots/<name>.png (gitignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.browser.helpers import SCREENSHOTS

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium calls Google hosts, which the closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium against a real node (tests/browser)")


@dataclass(frozen=True)
class Node:
    url: str
    data_dir: Path
    keys: dict[str, str]  # demo application code -> API key (demo-credentials.txt, written once)
    demo_output: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _node_env(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("GOVSHARE_")}
    env.update(
        GOVSHARE_DATA_DIR=str(data_dir),
        GOVSHARE_DATABASE_URL="",  # embedded SQLite in the data directory
        GOVSHARE_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser.sh (make browser)")
    root = tmp_path_factory.mktemp("browser-node")
    data_dir = root / "data"
    env = _node_env(data_dir)
    demo = subprocess.run(
        [sys.executable, "-m", "govshare", "demo"],
        cwd=root,  # no stray .env from the working directory
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, f"govshare demo failed:\n{demo.stdout}\n{demo.stderr}"
    assert "示例市已就绪" in demo.stdout, demo.stdout
    keys = json.loads((data_dir / "demo-credentials.txt").read_text(encoding="utf-8"))
    port = _free_port()
    log = (root / "serve.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "govshare", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                log.flush()
                pytest.fail(f"govshare serve exited:\n{(root / 'serve.log').read_text(encoding='utf-8')}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("govshare serve did not become ready within 60 s")
            time.sleep(0.2)
        yield Node(url=url, data_dir=data_dir, keys=keys, demo_output=demo.stdout)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _page(chromium: Browser, node: Node, **options: Any) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=node.url, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(chromium: Browser, node: Node) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test: zh-CN, 1280×800."""
    yield from _page(chromium, node, viewport=DESKTOP)


@pytest.fixture
def another_page(chromium: Browser, node: Node) -> Iterator[Page]:
    """A second person at another desk: its own browser context, 1280×800."""
    yield from _page(chromium, node, viewport=DESKTOP)


@pytest.fixture
def phone(chromium: Browser, node: Node) -> Iterator[Page]:
    """A phone-sized context: 390×844, honouring the page's viewport meta tag."""
    yield from _page(chromium, node, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


@pytest.fixture(scope="session", autouse=True)
def _screenshot_dir() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
