"""Fixtures shared by the data API tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govshare.core.db import Database
from tests import factories
from tests.scenarios import seeded
from tests.sharing.helpers import PURPOSE, approved_grant, resource_code, setup


@pytest.fixture
def granted(client: TestClient, db: Database, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """MZ holds an approved grant on every asked item (gmsfhm, xm, sjhm, jzdz, qx), all rows: the resource
    code and the headers of MZ's application (key, purpose, operator)."""

    def build() -> tuple[str, str]:
        keys = setup(db, tmp_path)
        code = resource_code(db)
        approved_grant(client, code)
        return code, keys["mz"]

    code, key = seeded(db, "sharing.granted", build)
    return code, {**factories.bearer(key), **PURPOSE}
