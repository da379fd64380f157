"""The server-rendered portal: the home page, logging in and out with CSRF-protected forms, the cookies
and security headers it sets, and pages that load nothing from outside the node (政务外网 has no CDN)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlalchemy import text

from govshare.core.db import Database
from govshare.settings import Settings
from govshare.web.deps import PRE_SESSION_COOKIE, SESSION_COOKIE
from govshare.web.problems import PROBLEM_TYPE
from tests import factories

# ---------------------------------------------------------------- helpers


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def form_token(html: str, action: str) -> str:
    """The hidden csrf_token of the page's form posting to `action`."""
    inside = False
    for tag, attrs in tags(html):
        if tag == "form":
            inside = attrs.get("action") == action
        elif inside and tag == "input" and attrs.get("name") == "csrf_token":
            assert attrs.get("type") == "hidden"
            return attrs["value"]
    raise AssertionError(f"no form posting to {action} with a csrf_token")


def set_cookie(response: Response, name: str) -> dict[str, str | bool] | None:
    """The attributes of the Set-Cookie header for `name` (lower-cased keys; flags are True)."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        key, _, value = first.partition("=")
        if key == name:
            cookie: dict[str, str | bool] = {"value": value.strip('"')}
            for attribute in attributes:
                attr, has_value, attr_value = attribute.partition("=")
                cookie[attr.lower()] = attr_value if has_value else True
            return cookie
    return None


def web_sessions(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(text("SELECT count(*) FROM web_session")) or 0)


def portal_login(client: TestClient, username: str = "admin", password: str = factories.PASSWORD) -> Response:
    token = form_token(client.get("/login").text, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


@pytest.fixture
def city(db: Database) -> factories.City:
    return factories.city(db)


# ---------------------------------------------------------------- the home page


def test_home_page_shows_the_node_name_and_its_figures(
    client: TestClient, db: Database, settings: Settings, city: factories.City
) -> None:
    def departments_figure() -> int:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert str(escape(settings.node_name)) in response.text
        found = re.search(r'class="num">\s*(\d+)\s*</span>\s*<span class="label">\s*接入部门', response.text)
        assert found, "the home page shows no department count"
        return int(found.group(1))

    assert departments_figure() == 3
    factories.department(db, "NEW", "测试市新部门")
    assert departments_figure() == 4


def test_home_page_sets_an_httponly_samesite_lax_pre_session_cookie(client: TestClient) -> None:
    first = client.get("/")
    cookie = set_cookie(first, PRE_SESSION_COOKIE)
    assert cookie is not None, first.headers.get_list("set-cookie")
    assert len(str(cookie["value"])) >= 24
    assert cookie.get("httponly") is True
    assert str(cookie.get("samesite")).lower() == "lax"
    assert "secure" not in cookie  # plain http
    assert cookie.get("path") == "/"
    # The nonce is kept: a second visit does not replace it (tokens on open tabs stay valid).
    assert set_cookie(client.get("/"), PRE_SESSION_COOKIE) is None


# ---------------------------------------------------------------- logging in


def test_login_page_has_a_form_with_a_hidden_csrf_token(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    forms = [attrs for tag, attrs in tags(page.text) if tag == "form" and attrs.get("action") == "/login"]
    assert forms == [{"method": "post", "action": "/login"}]
    token = form_token(page.text, "/login")
    assert len(token) >= 32
    inputs = {attrs.get("name"): attrs for tag, attrs in tags(page.text) if tag == "input"}
    assert inputs["password"].get("type") == "password"
    assert "username" in inputs
    # The token is bound to the visitor: another visitor gets another one.
    client.cookies.clear()
    assert form_token(client.get("/login").text, "/login") != token


def _no_token(client: TestClient) -> dict[str, str]:
    client.get("/login")
    return {}


def _empty_token(client: TestClient) -> dict[str, str]:
    client.get("/login")
    return {"csrf_token": ""}


def _wrong_token(client: TestClient) -> dict[str, str]:
    client.get("/login")
    return {"csrf_token": "0" * 64}


def _stale_token(client: TestClient) -> dict[str, str]:
    """Another visitor's token: well-formed, bound to a pre-session this client no longer holds."""
    token = form_token(client.get("/login").text, "/login")
    client.cookies.clear()
    client.get("/login")
    return {"csrf_token": token}


def _token_without_cookie(client: TestClient) -> dict[str, str]:
    token = form_token(client.get("/login").text, "/login")
    client.cookies.clear()
    return {"csrf_token": token}


CSRF_ATTEMPTS: dict[str, Callable[[TestClient], dict[str, str]]] = {
    "no token": _no_token,
    "empty token": _empty_token,
    "wrong token": _wrong_token,
    "another visitor's token": _stale_token,
    "token without its pre-session cookie": _token_without_cookie,
}


@pytest.mark.parametrize("attempt", CSRF_ATTEMPTS, ids=str)
def test_login_without_a_valid_csrf_token_is_refused(
    client: TestClient, db: Database, city: factories.City, attempt: str
) -> None:
    token = CSRF_ATTEMPTS[attempt](client)
    response = client.post(
        "/login",
        data={"username": "admin", "password": factories.PASSWORD, **token},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_TYPE)
    assert response.json()["code"] == "csrf_failed"
    assert set_cookie(response, SESSION_COOKIE) is None
    assert web_sessions(db) == 0
    assert client.get("/api/v1/me").status_code == 401


def test_login_with_token_and_password_redirects_with_an_httponly_lax_session_cookie(
    client: TestClient, db: Database, settings: Settings, city: factories.City
) -> None:
    response = portal_login(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = set_cookie(response, SESSION_COOKIE)
    assert cookie is not None
    assert cookie.get("httponly") is True
    assert str(cookie.get("samesite")).lower() == "lax"
    assert "secure" not in cookie  # plain http (cookie_secure unset: decided by the request's scheme)
    assert cookie.get("path") == "/"
    assert cookie.get("max-age") == str(settings.session_ttl_minutes * 60)
    pre_session = set_cookie(response, PRE_SESSION_COOKIE)
    assert pre_session is not None and pre_session.get("max-age") == "0"  # the pre-session is over
    assert web_sessions(db) == 1

    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["name"] == "admin"
    home = client.get("/")
    assert "admin" in home.text
    assert form_token(home.text, "/logout")
    assert client.get("/login", follow_redirects=False).headers.get("location") == "/"


def test_cookies_are_secure_over_https(app: FastAPI, city: factories.City) -> None:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as https:
        page = https.get("/login")
        pre_session = set_cookie(page, PRE_SESSION_COOKIE)
        assert pre_session is not None and pre_session.get("secure") is True
        response = portal_login(https)
        assert response.status_code == 303
        cookie = set_cookie(response, SESSION_COOKIE)
        assert cookie is not None
        assert cookie.get("secure") is True
        assert cookie.get("httponly") is True
        assert str(cookie.get("samesite")).lower() == "lax"


def test_wrong_password_renders_the_form_again_with_401_and_a_chinese_error(
    client: TestClient, db: Database, city: factories.City
) -> None:
    response = portal_login(client, "admin", "Wrong@Passw0rd-2026")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "用户名或口令错误" in response.text
    assert any(tag == "p" and attrs.get("role") == "alert" for tag, attrs in tags(response.text))
    username = next(a for t, a in tags(response.text) if t == "input" and a.get("name") == "username")
    assert username.get("value") == "admin"  # kept for the next attempt
    assert set_cookie(response, SESSION_COOKIE) is None
    assert web_sessions(db) == 0
    # The re-rendered form works.
    retry = client.post(
        "/login",
        data={
            "username": "admin",
            "password": factories.PASSWORD,
            "csrf_token": form_token(response.text, "/login"),
        },
        follow_redirects=False,
    )
    assert retry.status_code == 303


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, city: factories.City
) -> None:
    unknown = portal_login(client, "nobody.here", "Wrong@Passw0rd-2026")
    wrong = portal_login(client, "admin", "Wrong@Passw0rd-2026")
    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或口令错误" in unknown.text
    assert "用户名或口令错误" in wrong.text


def test_empty_fields_render_the_form_again_with_a_chinese_error(
    client: TestClient, city: factories.City
) -> None:
    response = portal_login(client, "admin", "")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "请输入用户名和口令" in response.text
    assert set_cookie(response, SESSION_COOKIE) is None


@pytest.mark.parametrize(
    "username",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' autofocus onfocus='alert(1)",
        "</form><form action=//evil.example>",
    ],
)
def test_the_echoed_username_is_escaped(client: TestClient, city: factories.City, username: str) -> None:
    response = portal_login(client, username, "Wrong@Passw0rd-2026")
    assert response.status_code == 401
    assert username not in response.text
    assert str(escape(username)) in response.text
    found = tags(response.text)
    echoed = [a for t, a in found if t == "input" and a.get("name") == "username"]
    assert [a.get("value") for a in echoed] == [username]  # inside the attribute, nothing broke out
    assert not [t for t, a in found if t in ("script", "img")]
    assert not [a for t, a in found if any(name.startswith("on") for name in a)]
    assert [a.get("action") for t, a in found if t == "form"] == ["/login"]


# ---------------------------------------------------------------- security headers on every page


def _failed_login(client: TestClient) -> Response:
    return portal_login(client, "admin", "Wrong@Passw0rd-2026")


def _logged_in_home(client: TestClient) -> Response:
    assert portal_login(client).status_code == 303
    return client.get("/")


PAGES: dict[str, Callable[[TestClient], Response]] = {
    "home": lambda client: client.get("/"),
    "login form": lambda client: client.get("/login"),
    "failed login (401)": _failed_login,
    "empty login (422)": lambda client: portal_login(client, "", ""),
    "home, logged in": _logged_in_home,
}


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_every_html_response_carries_the_security_headers(
    client: TestClient, city: factories.City, page: str
) -> None:
    response = PAGES[page](client)
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], policy
    assert directives.get("frame-ancestors") == ["'none'"], policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "*" not in policy
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("x-frame-options") == "DENY"
    # The policy forbids inline code, so the page must have none (or it would break in the browser).
    found = tags(response.text)
    assert not [a for t, a in found if t == "script" and not a.get("src")], "inline <script>"
    assert not [t for t, a in found if t == "style"], "inline <style>"
    assert not [a for t, a in found if "style" in a or any(name.startswith("on") for name in a)]


# ---------------------------------------------------------------- logging out


def test_logout_with_the_token_ends_the_session(
    client: TestClient, db: Database, city: factories.City
) -> None:
    home = _logged_in_home(client)
    session_token = client.cookies.get(SESSION_COOKIE)
    assert session_token
    response = client.post(
        "/logout", data={"csrf_token": form_token(home.text, "/logout")}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cleared = set_cookie(response, SESSION_COOKIE)
    assert cleared is not None and cleared.get("max-age") == "0"
    assert client.get("/api/v1/me").status_code == 401
    assert web_sessions(db) == 0
    # The session is gone on the server too: replaying the old cookie does not bring it back.
    client.cookies.set(SESSION_COOKIE, session_token)
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_logout_without_a_valid_token_is_refused_and_keeps_the_session(
    client: TestClient, db: Database, city: factories.City, token: str | None
) -> None:
    _logged_in_home(client)
    response = client.post(
        "/logout", data={} if token is None else {"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert set_cookie(response, SESSION_COOKIE) is None
    assert client.get("/api/v1/me").status_code == 200
    assert web_sessions(db) == 1


# ---------------------------------------------------------------- the API with a browser session

NEW_DEPARTMENT = {"code": "NEW", "name": "测试市新部门", "division_code": "990100", "level": "city"}


def _api_login(client: TestClient) -> str:
    return factories.login(client, "admin")["X-CSRF-Token"]


def _portal_login_token(client: TestClient) -> str:
    return form_token(_logged_in_home(client).text, "/logout")


@pytest.mark.parametrize("login", [_api_login, _portal_login_token], ids=["api login", "portal login"])
def test_cookie_session_api_writes_need_the_csrf_header(
    client: TestClient, city: factories.City, login: Callable[[TestClient], str]
) -> None:
    token = login(client)
    assert client.get("/api/v1/departments").status_code == 200  # safe methods need no token
    for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "0" * 64}):
        refused = client.post("/api/v1/departments", json=NEW_DEPARTMENT, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.headers["content-type"].startswith(PROBLEM_TYPE)
        assert refused.json()["code"] == "csrf_failed"
    assert client.get("/api/v1/departments/NEW").status_code == 404  # nothing was written
    created = client.post("/api/v1/departments", json=NEW_DEPARTMENT, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    assert client.get("/api/v1/departments/NEW").status_code == 200


def test_the_csrf_token_of_one_session_does_not_work_for_another(
    client: TestClient, city: factories.City
) -> None:
    old_token = _api_login(client)
    _api_login(client)  # a new session for the same user
    refused = client.post("/api/v1/departments", json=NEW_DEPARTMENT, headers={"X-CSRF-Token": old_token})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"


# ---------------------------------------------------------------- nothing from outside the node


def test_the_stylesheet_is_served_by_the_node(client: TestClient) -> None:
    response = client.get("/static/govshare.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert "body" in response.text
    assert not re.search(r"https?:|@import|url\(\s*['\"]?//", response.text)


def _local_references(page: str) -> Iterator[tuple[str, str, str]]:
    for tag, attrs in tags(page):
        for name in ("src", "href", "action", "srcset", "poster", "data", "formaction"):
            if name in attrs:
                yield tag, name, attrs[name]


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_pages_load_nothing_from_other_hosts(client: TestClient, city: factories.City, page: str) -> None:
    html = PAGES[page](client).text
    assert "cdn" not in html.lower()
    assert "http://" not in html
    assert "https://" not in html
    references = list(_local_references(html))
    assert references, "the page references nothing: the check would be vacuous"
    # a path on this node, or a fragment of this very page (the skip link to #main)
    off_host = [
        (t, n, v) for t, n, v in references if not (v.startswith(("/", "#")) and not v.startswith("//"))
    ]
    assert off_host == []
    # Every stylesheet, script and image the page loads is served by the node itself.
    for tag, name, value in references:
        if tag in ("link", "script", "img") and name in ("src", "href"):
            assert client.get(value).status_code == 200, value


@pytest.mark.parametrize("url", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_swagger_or_redoc_pages_that_would_load_from_a_cdn(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 404
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["paths"]
