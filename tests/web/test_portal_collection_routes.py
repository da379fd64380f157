"""The collection portal's routes do not depend on their order (issue #13: the guided registration used to be
spliced in front with `routes[:0] =`, because `/collection/sources/{source_id}` would have taken "guided" for
a source id). A source's pages take `{source_id:int}`, so a literal segment never reaches them. On SQLite
and PostgreSQL (`db`)."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Match

from govshare.collection.portal import router
from govshare.core.db import Database
from tests.collection.helpers import setup
from tests.web.portal_helpers import page, portal_login
from tests.web.test_portal_collection import register


def _matching(path: str, method: str) -> list[str]:
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    return [r.path for r in router.routes if isinstance(r, APIRoute) and r.matches(scope)[0] == Match.FULL]


def test_each_literal_path_is_matched_by_its_own_route_only() -> None:
    assert _matching("/collection/sources/guided", "GET") == ["/collection/sources/guided"]
    assert _matching("/collection/sources/guided", "POST") == ["/collection/sources/guided"]
    assert _matching("/collection/sources/new", "GET") == ["/collection/sources/new"]
    assert _matching("/collection/sources/12", "GET") == ["/collection/sources/{source_id:int}"]
    assert _matching("/collection/sources/guided/register", "POST") == ["/collection/sources/guided/register"]


def test_the_guided_form_and_a_source_page_are_both_reached(db: Database, client: TestClient) -> None:
    setup(db)
    portal_login(client, "ga.steward")
    source_id = register(client, db)
    assert "样例文件" in page(client, "/collection/sources/guided")
    assert "上传文件并归集" in page(client, f"/collection/sources/{source_id}")
    assert client.get("/collection/sources/guided2").status_code == 404  # neither a source id nor a page
