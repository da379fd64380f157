"""Fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL tests create a throwaway database per test from a migrated template (fast: a file copy inside
the server). When PostgreSQL cannot be reached they are skipped on a developer's machine, and fail when
`CI` is set: CI never skips them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from govshare.core import migrations
from govshare.core.db import Database
from govshare.settings import Settings, get_settings
from govshare.web.app import create_app
from tests.jobs.drain import RunJobsAfterEachRequest

PG_ADMIN_URL = os.environ.get("GOVSHARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
TEST_AUDIT_KEY = "test-audit-key-0123456789-abcdefghijklmnopq"


def _pg_conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_execute(sql: str) -> None:
    with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `postgres_only` / `sqlite_only` runs on that database only: its other `db_url` run is
    deselected at collection, never skipped (CI must show no skipped PostgreSQL test)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("db_url") if callspec else None
        wrong = (engine == "sqlite" and item.get_closest_marker("postgres_only")) or (
            engine == "postgresql" and item.get_closest_marker("sqlite_only")
        )
        (dropped if wrong else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    try:
        _pg_execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN_URL}: {exc}")
        yield None
        return
    name = f"govshare_tpl_{os.getpid()}"
    _pg_execute(f"DROP DATABASE IF EXISTS {name}")
    _pg_execute(f"CREATE DATABASE {name}")
    engine = create_engine(make_url(PG_ADMIN_URL).set(database=name))
    migrations.upgrade(engine)
    engine.dispose()
    yield name
    _pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "node.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    if template is None:
        pytest.skip("PostgreSQL unreachable (set CI=1 to make this a failure)")
    name = f"govshare_t_{uuid.uuid4().hex[:12]}"
    _pg_execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=db_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(TEST_SECRET),
        audit_key=SecretStr(TEST_AUDIT_KEY),
        login_max_failures=3,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(settings)
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    application = create_app(settings, db)
    application.add_middleware(RunJobsAfterEachRequest, db=db)  # batches end before the response returns
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment a `govshare` command reads, pointing at this test's database."""
    for name, value in {
        "DATABASE_URL": settings.resolved_database_url,
        "ENV": "test",
        "SECRET_KEY": TEST_SECRET,
        "AUDIT_KEY": TEST_AUDIT_KEY,
        "DATA_DIR": str(settings.data_dir),
    }.items():
        monkeypatch.setenv(f"GOVSHARE_{name}", value)
    monkeypatch.delenv("GOVSHARE_ADMIN_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
