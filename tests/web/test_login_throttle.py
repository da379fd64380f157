"""Login throttling by client address: a few wrong passwords on each of many accounts are stopped even
though no single account reaches its lockout. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from govshare.core.db import Database
from govshare.errors import RateLimited
from govshare.settings import Settings
from govshare.web.app import create_app
from govshare.web.login_throttle import LoginThrottle
from tests import factories
from tests.web.portal_helpers import HTML, token


def test_the_window_counts_failures_per_address_and_forgets_old_ones() -> None:
    throttle = LoginThrottle(max_failures=3, window_seconds=60)
    for second in (0, 10, 20):
        throttle.check("10.0.0.1", now=second)
        throttle.failed("10.0.0.1", now=second)
    throttle.check("10.0.0.2", now=21)  # another address is not affected
    with pytest.raises(RateLimited) as refused:
        throttle.check("10.0.0.1", now=21)
    assert refused.value.headers["Retry-After"] == "39"  # the first failure leaves the window at 60
    assert "登录失败次数过多" in refused.value.message
    throttle.check("10.0.0.1", now=61)  # one failure has left the window: one more try
    throttle.failed("10.0.0.1", now=61)
    with pytest.raises(RateLimited):
        throttle.check("10.0.0.1", now=62)
    throttle.check(None)  # no address known (a test transport): nothing to count


@pytest.fixture
def strict_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    strict = settings.model_copy(update={"login_address_max_failures": 3, "login_max_failures": 10})
    with TestClient(create_app(strict, db), raise_server_exceptions=False) as client:
        yield client


def test_an_address_guessing_across_accounts_is_refused_on_the_api_and_the_form(
    strict_client: TestClient, db: Database
) -> None:
    factories.city(db)
    for username in ("ga.admin", "mz.admin", "nobody"):
        wrong = strict_client.post("/api/v1/auth/login", json={"username": username, "password": "x" * 12})
        assert wrong.status_code == 401, wrong.text
    # Even the right password is refused now, with the wait and a Chinese reason; nothing is locked.
    refused = strict_client.post(
        "/api/v1/auth/login", json={"username": "ga.steward", "password": factories.PASSWORD}
    )
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in refused.json()["detail"]
    form = strict_client.get("/login", headers=HTML).text
    page = strict_client.post(
        "/login",
        data={"username": "ga.steward", "password": factories.PASSWORD, "csrf_token": token(form)},
        headers=HTML,
        follow_redirects=False,
    )
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "登录失败次数过多" in page.text and "gs_session" not in page.headers.get("set-cookie", "")


def test_a_normal_login_after_a_typo_still_works(client: TestClient, db: Database) -> None:
    factories.city(db)
    typo = client.post("/api/v1/auth/login", json={"username": "ga.steward", "password": "typo-typo-1"})
    assert typo.status_code == 401
    right = client.post("/api/v1/auth/login", json={"username": "ga.steward", "password": factories.PASSWORD})
    assert right.status_code == 200, right.text
