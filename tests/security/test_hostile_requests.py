"""Hostile requests (issue #12): a chunked body past the limit (finding 10) and integers past every bound
(finding 13: every integer path and query parameter, the portal's included, declares both bounds, and
2**63, -1 and -2**63 sent to each one as two users get no 5xx, on SQLite and PostgreSQL).

Finding 10: the request-body limit checked only Content-Length, so a chunked 150 MB body to the
unauthenticated login route was read whole. The limit is now counted on the bytes received; this is tested
against a real uvicorn server on a loopback port, with a body sent from a generator (chunked, no length).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote

import httpx
import psutil
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import SecretStr

from govshare.core.db import Database
from govshare.core.inputs import MAX_BIGINT, MAX_INTEGER
from govshare.settings import Settings
from govshare.web.app import create_app
from tests import factories
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET

MB = 1024 * 1024
BODY_MB = 150
Server = tuple[str, psutil.Process]  # the base URL and the server's process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[Server]:
    """`govshare serve`'s app under uvicorn in a process of its own, with a 1 MB body limit."""
    database = tmp_path / "node.db"
    shutil.copyfile(sqlite_template, database)
    port = _free_port()
    env = {
        **os.environ,
        "GOVSHARE_ENV": "test",
        "GOVSHARE_SECRET_KEY": TEST_SECRET,
        "GOVSHARE_AUDIT_KEY": TEST_AUDIT_KEY,
        "GOVSHARE_DATABASE_URL": f"sqlite:///{database}",
        "GOVSHARE_DATA_DIR": str(tmp_path / "data"),
        "GOVSHARE_API_MAX_BODY_MB": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "govshare.web.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_chunked_body_past_the_limit_is_refused_while_it_streams(
    server: tuple[str, psutil.Process],
) -> None:
    base, process = server
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"username": "admin", "password": "'
        chunk = b"x" * MB
        for _ in range(BODY_MB):
            sent += len(chunk)
            yield chunk
        yield b'"}'

    before = process.memory_info().rss
    response = httpx.post(
        f"{base}/api/v1/auth/login",
        content=body(),  # a generator: sent chunked, with no Content-Length
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    grown = process.memory_info().rss - before
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["code"], problem["detail"]) == ("payload_too_large", "请求体超过 1 MB 上限，请分批提交")
    assert grown < 40 * MB, f"the server grew by {grown // MB} MB"
    # it stopped reading and closed the connection: the client got no further than socket buffers allow
    assert sent < 32 * MB, f"the server read {sent // MB} MB of the body"
    # the server is fine afterwards, and a body within the limit still reaches the route
    small = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": "nobody", "password": "x" * 12}, timeout=30
    )
    assert small.status_code == 401, small.text


def test_a_declared_length_past_the_limit_is_refused_before_reading(
    server: tuple[str, psutil.Process],
) -> None:
    base, _process = server
    response = httpx.post(
        f"{base}/api/v1/auth/login",
        content=b"x" * (2 * MB),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"


# ---------------------------------------------------------------- finding 13: integers past every bound

BIGINT_OVERFLOW = 2**63  # ?after=9223372036854775808 on the code-set listing was a 500


def _schema_app() -> FastAPI:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url="sqlite://",
        secret_key=SecretStr(TEST_SECRET),
        audit_key=SecretStr(TEST_AUDIT_KEY),
    )
    return create_app(settings, Database.from_settings(settings))


def _integer_parameters(app: FastAPI) -> list[tuple[APIRoute, str, str, list[Any]]]:
    """(route, "path" or "query", name, its constraints) for every integer parameter of every route, the
    portal's pages (not in the OpenAPI document) included."""
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        pending, params = [route.dependant], []
        while pending:
            dependant = pending.pop()
            params += [("path", p) for p in dependant.path_params]
            params += [("query", p) for p in dependant.query_params]
            pending += dependant.dependencies
        for where, param in params:
            if int in get_args(param.field_info.annotation) or param.field_info.annotation is int:
                found.append((route, where, param.name, list(param.field_info.metadata)))
    return found


def test_every_integer_parameter_declares_both_bounds() -> None:
    """A bound below 2**63 on each side keeps any integer from reaching a driver that cannot hold it."""
    parameters = _integer_parameters(_schema_app())
    assert len(parameters) > 20  # the walk found the routes (guards against a vacuous pass)
    unbounded = []
    for route, where, name, constraints in parameters:
        upper = [getattr(c, "le", None) or getattr(c, "lt", None) for c in constraints]
        lower = [getattr(c, "ge", None) for c in constraints] + [getattr(c, "gt", None) for c in constraints]
        if not any(v is not None and v <= MAX_BIGINT for v in upper) or all(v is None for v in lower):
            unbounded.append(f"{sorted(route.methods)} {route.path} {where} {name}")
    assert unbounded == [], unbounded


def _path_value(name: str, path: str) -> str:
    if "code-sets" in path:
        return "GB-3304"  # a shipped code set, so the cursor reaches the query
    return {"username": "ga.steward", "role": "data_steward"}.get(name, "1")


def test_huge_and_negative_integers_never_get_a_5xx(client: TestClient, db: Database) -> None:
    factories.city(db)
    refused: list[str] = []
    gets = [p for p in _integer_parameters(client.app) if "GET" in p[0].methods]  # type: ignore[arg-type]
    for username in ("admin", "ga.steward"):
        factories.login(client, username)
        for route, where, name, constraints in gets:
            # the largest value the route accepts must also be one its database column can hold
            accepted = [v for v in (getattr(c, "le", None) for c in constraints) if isinstance(v, int)]
            for value in (BIGINT_OVERFLOW, -1, -BIGINT_OVERFLOW, MAX_BIGINT, *accepted):
                path = route.path
                for other in re.findall(r"{(\w+)(?::\w+)?}", route.path):
                    raw = str(value) if where == "path" and other == name else _path_value(other, route.path)
                    path = re.sub(r"{" + other + r"(?::\w+)?}", quote(raw, safe=""), path)
                url = f"{path}?{name}={value}" if where == "query" else path
                response = client.get(url, headers={"Accept": "application/json"})
                if response.status_code >= 500:
                    refused.append(f"{username} GET {url} → {response.status_code}")
    assert refused == [], refused


def test_the_code_set_cursor_past_bigint_is_a_422(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    url = "/api/v1/standards/code-sets/GB-3304/codes"
    last = client.get(url, params={"after": MAX_INTEGER}, headers=headers)  # a code's position: INTEGER
    assert last.status_code == 200 and last.json()["items"] == [], last.text
    for value in (MAX_INTEGER + 1, BIGINT_OVERFLOW, -1):
        response = client.get(url, params={"after": value}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "after"
