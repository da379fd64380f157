"""Hostile requests (issue #12): a chunked body past the limit (finding 10) and integers past every bound
(finding 13).

Finding 10: the request-body limit checked only Content-Length, so a chunked 150 MB body to the
unauthenticated login route was read whole. The limit is now counted on the bytes received; this is tested
against a real uvicorn server on a loopback port, with a body sent from a generator (chunked, no length).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

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
