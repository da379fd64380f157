"""What every portal test does: log in through the HTML form, read a page, post a form with its CSRF
token. Shared by the tests of each area's pages."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests import factories

HTML = {"Accept": "text/html,application/xhtml+xml"}


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def portal_login(client: TestClient, username: str, next_page: str = "/") -> None:
    """Log in through the HTML login form, as a person does."""
    client.cookies.clear()
    page = client.get("/login", headers=HTML).text
    done = client.post(
        "/login",
        data={
            "username": username,
            "password": factories.PASSWORD,
            "csrf_token": token(page),
            "next": next_page,
        },
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, next_page), done.text


def page(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text
    return response.text


def post(client: TestClient, path: str, form_page: str, **data: Any) -> Response:
    """Submit a form of `form_page` (its CSRF token) without following the redirect."""
    return client.post(
        path, data={"csrf_token": token(form_page), **data}, headers=HTML, follow_redirects=False
    )
