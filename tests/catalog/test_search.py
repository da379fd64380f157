"""Chinese full-text search with filters and facets, time-limited and capped, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from govshare.catalog import tokens
from govshare.core.db import Database
from govshare.core.timelimit import time_limited
from govshare.errors import QueryTimeout
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, TAX, apply, definition

LICENCE = definition(
    MARRIAGE,
    name="医疗机构执业许可信息",
    provider="GA",
    summary="医疗机构执业登记和校验信息。",
    share={"type": "无条件", "methods": ["文件"]},
    open={"open": True},
    update_cycle="每月",
)


@pytest.fixture
def catalog(db: Database) -> Database:
    factories.city(db)
    apply(db, POPULATION, MARRIAGE, TAX, LICENCE)
    apply(db, definition(MARRIAGE, name="收养登记信息", summary="收养登记草稿。"), publish=False)  # a draft
    return db


def _search(client: TestClient, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/v1/catalog/search", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_bigrams_find_substrings() -> None:
    assert tokens.tokens("人口基本信息") == {"人口", "口基", "基本", "本信", "信息"}
    assert tokens.tokens("GB 11643 身份证") == {"gb", "11643", "身份", "份证"}
    assert tokens.tokens("ＡＢＣ１２") == {"abc12"}  # full-width folded


def test_search_by_name_summary_and_item_names(client: TestClient, catalog: Database) -> None:
    factories.login(client, "ga.steward")
    assert [h["name"] for h in _search(client, q="人口")["hits"]] == ["人口基本信息"]
    by_item = _search(client, q="身份号码")["hits"]
    assert {h["name"] for h in by_item} == {"人口基本信息", "婚姻登记信息", "医疗机构执业许可信息"}
    ranked = _search(client, q="登记")["hits"]  # in one name, in the other's items and summary
    assert [h["name"] for h in ranked] == ["婚姻登记信息", "医疗机构执业许可信息"]
    assert ranked[0]["score"] > ranked[1]["score"]
    assert [h["name"] for h in _search(client, q="执业 许可")["hits"]] == ["医疗机构执业许可信息"]
    assert [h["name"] for h in _search(client, q="婚")["hits"]] == ["婚姻登记信息"]  # one character
    assert _search(client, q="收养")["total"] == 0  # drafts are not searchable
    assert _search(client, q="不存在的词")["total"] == 0


def test_filters_and_facets(client: TestClient, catalog: Database) -> None:
    factories.login(client, "mz.admin")
    everything = _search(client)
    assert everything["total"] == 4
    share = {f["value"]: f["count"] for f in everything["facets"]["share_type"]}
    assert share == {"unconditional": 2, "conditional": 1, "none": 1}
    providers = {f["value"]: (f["label"], f["count"]) for f in everything["facets"]["provider"]}
    assert providers == {"GA": ("测试市公安局", 2), "MZ": ("测试市民政局", 2)}
    assert {f["value"]: f["count"] for f in everything["facets"]["open"]} == {"true": 1, "false": 3}

    filtered = _search(client, share_type="无条件", provider="GA")
    assert [h["name"] for h in filtered["hits"]] == ["医疗机构执业许可信息"]
    # a facet counts with the other filters applied, not its own: the share-type facet still offers choices
    facet = {f["value"]: f["count"] for f in filtered["facets"]["share_type"]}
    assert facet == {"unconditional": 1, "conditional": 1}
    assert _search(client, classification="base:population")["total"] == 1
    assert _search(client, grade="核心")["hits"][0]["name"] == "纳税人涉税保密信息"
    assert _search(client, open="true")["total"] == 1


def test_paging_and_caps(client: TestClient, catalog: Database) -> None:
    factories.login(client, "mz.admin")
    first, second = _search(client, page_size=3), _search(client, page_size=3, page=2)
    assert len(first["hits"]) == 3
    assert len(second["hits"]) == 1
    assert {h["resource_id"] for h in first["hits"]}.isdisjoint(h["resource_id"] for h in second["hits"])
    for params in (
        {"q": "字" * 101},
        {"page_size": 101},
        {"page": 10_001},
        {"share_type": "随便"},
        {"grade": "绝密"},
        {"page": 300, "page_size": 20},
    ):
        response = client.get("/api/v1/catalog/search", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


def test_queries_are_interrupted_at_the_time_limit(db: Database) -> None:
    heavy = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
        "SELECT count(*) FROM n"
    )
    with (
        db.transaction(readonly=True) as session,
        pytest.raises(QueryTimeout),
        time_limited(session, 50),
    ):
        session.execute(text(heavy))


def test_applications_search_with_their_key(client: TestClient, catalog: Database) -> None:
    key = factories.application_key(catalog, "mz-app", "MZ")
    client.cookies.clear()
    response = client.get("/api/v1/catalog/search", params={"q": "婚姻"}, headers=factories.bearer(key))
    assert response.json()["total"] == 1
