"""Health, readiness, metrics, request ids, structured logs without secrets, and problem documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from govshare.core.db import Database
from govshare.settings import Settings
from govshare.web.app import create_app
from tests import factories


def test_health_and_readiness(client: TestClient, db: Database) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == db.backend


def test_readiness_fails_on_an_unmigrated_database(tmp_path: Path, settings: Settings) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with TestClient(create_app(empty)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "not_migrated"


def test_metrics_label_requests_by_route_template(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.login(client, "admin")
    client.get("/api/v1/users/ga.admin")
    client.get("/api/v1/users/mz.admin")
    body = client.get("/metrics").text
    assert (
        'govshare_http_requests_total{method="GET",route="/api/v1/users/{username}",status="200"} 2.0' in body
    )
    assert "mz.admin" not in body  # raw paths never become labels
    assert "govshare_http_request_duration_seconds_bucket" in body


def test_metrics_token_when_configured(settings: Settings, db: Database) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-token-123")})
    with TestClient(create_app(guarded, db)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"}).status_code == 200


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-abc.123"})
    assert given.headers["x-request-id"] == "trace-abc.123"
    hostile = client.get("/healthz", headers={"X-Request-ID": 'bad id" with spaces'})
    assert hostile.headers["x-request-id"] != 'bad id" with spaces'
    assert len(hostile.headers["x-request-id"]) == 32


def test_problem_document_for_unknown_route(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "rid-1"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"], body["request_id"]) == ("not_found", 404, "rid-1")
    assert body["detail"] == "请求的地址不存在"


def test_logs_carry_request_ids_and_never_secrets(
    settings: Settings, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    factories.city(db)
    key = factories.application_key(db, "ga-app", "GA")
    with TestClient(create_app(settings.model_copy(update={"log_json": True}), db)) as client:
        client.post("/api/v1/auth/login", json={"username": "admin", "password": factories.PASSWORD})
        client.cookies.clear()
        client.get("/api/v1/me", headers={**factories.bearer(key), "X-Request-ID": "log-check-1"})
    logged = capsys.readouterr().err
    assert '"request_id": "log-check-1"' in logged
    assert '"actor": "ga-app"' in logged
    assert key not in logged and factories.PASSWORD not in logged


def test_an_oversized_body_is_refused_before_it_is_read(settings: Settings, db: Database) -> None:
    small = create_app(settings.model_copy(update={"api_max_body_mb": 1}), db)
    with TestClient(small, raise_server_exceptions=False) as client:
        big = client.post(
            "/api/v1/auth/login",
            content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413
        assert big.json()["code"] == "payload_too_large" and "1 MB" in big.json()["detail"]
        fits = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
        assert fits.status_code == 401
