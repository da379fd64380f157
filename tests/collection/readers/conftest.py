"""Fixtures for the reader tests: real PostgreSQL and MariaDB servers (never skipped: a server that
cannot be reached fails the test, here and in CI)."""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("GOVSHARE_TEST_READER_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB_URL = os.environ.get("GOVSHARE_TEST_READER_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


@pytest.fixture
def pg_url() -> str:
    return PG_URL


@pytest.fixture
def mariadb_url() -> str:
    return MARIADB_URL
