"""目录统计: exact figures for a small catalog."""

from __future__ import annotations

from fastapi.testclient import TestClient

from govshare.core.db import Database
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, TAX, apply, definition


def test_catalog_statistics(client: TestClient, db: Database) -> None:
    factories.city(db)
    apply(db, POPULATION, MARRIAGE, TAX)
    apply(db, definition(MARRIAGE, name="收养登记信息"), publish=False)
    factories.login(client, "auditor")
    response = client.get("/api/v1/catalog/stats")
    assert response.status_code == 200, response.text
    stats = response.json()
    node = stats["node"]
    assert (
        node["compiled"],
        node["published"],
        node["unconditional"],
        node["conditional"],
        node["not_shared"],
        node["items"],
    ) == (4, 3, 1, 1, 1, 9)
    per = {d["code"]: d for d in stats["departments"]}
    assert (per["GA"]["published"], per["MZ"]["compiled"], per["MZ"]["published"]) == (1, 3, 2)
    assert [d["code"] for d in stats["zero_departments"]] == ["DSJ"]
    assert stats["by_category"] == {"基础": 1, "主题": 1, "部门": 1}
    assert sum(m["published"] for m in stats["first_published_by_month"]) == 3
