"""The app with the standards routes on it: until the web app includes `govshare.standards.api.router`
itself, these tests put the routes on the app the way `create_app` puts every domain's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govshare.core.db import Database
from govshare.settings import Settings
from govshare.standards.api import router
from govshare.web.app import create_app


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    application = create_app(settings, db)
    if not any(getattr(r, "path", "").startswith(router.prefix) for r in application.routes):
        application.router.routes.extend(router.routes)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
