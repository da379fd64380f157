"""公共数据开放: only open resources and only their opened items leave the node, through the pages, the
downloads, the public API and DCAT; anonymous, rate-limited, counted; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SH
from sqlalchemy import select, text

from govshare.core.db import Database
from govshare.jurisdiction import CatalogRules, Grade
from govshare.models import AuditEntry, OpenUsageDaily
from govshare.opendata import downloads, service
from govshare.opendata.policies import GRADE, NOT_SHARED, PERSONAL, withheld_reason
from govshare.sharing.ratelimit import TokenBucket
from tests import factories
from tests.opendata import helpers
from tests.opendata.helpers import OPENED, ROWS, SECRETS, WITHHELD
from tests.sharing.helpers import RESOURCE_NAME as CLOSED_NAME
from tests.web.portal_helpers import HTML, page

API = "/api/open/v1"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SHAPES = Path(__file__).resolve().parents[1] / "data" / "dcat-ap-3.0.1"
EXPECTED_ROWS = {
    (r[0], r[1], r[5], float(r[6])) for r in ROWS
}  # tyshxydm, mc, clrq, zczj of every current record


@pytest.fixture
def codes(db: Database, tmp_path: Path) -> dict[str, str]:
    return helpers.setup(db, tmp_path)


def _no_secrets(data: bytes | str) -> None:
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    leaked = [s for s in SECRETS if s in text]
    assert leaked == [], f"withheld values or items leaked: {leaked}"


# --- the rule -----------------------------------------------------------------------------------------


def test_the_rule_opens_only_unmasked_shared_lowest_grade_items() -> None:
    rules = CatalogRules()
    base = {"item_share_type": None, "resource_share_type": "conditional", "grade": "general", "rules": rules}
    assert withheld_reason(**base, mask_rule="none") is None
    assert withheld_reason(**base, mask_rule="name") == PERSONAL
    assert withheld_reason(**{**base, "item_share_type": "none"}, mask_rule="none") == NOT_SHARED
    assert withheld_reason(**{**base, "resource_share_type": "none"}, mask_rule="none") == NOT_SHARED
    assert (
        withheld_reason(
            **{**base, "item_share_type": "unconditional", "resource_share_type": "none"}, mask_rule="none"
        )
        is None
    )
    assert withheld_reason(**{**base, "grade": "important"}, mask_rule="none") == GRADE
    assert withheld_reason(**{**base, "grade": "no-such-grade"}, mask_rule="none") == GRADE
    # the lowest grade of the jurisdiction's own scale, not a fixed name
    scale = CatalogRules(grades=(Grade(code="L1", label="一级"), Grade(code="L2", label="二级")))
    assert withheld_reason(**{**base, "rules": scale, "grade": "L1"}, mask_rule="none") is None
    assert withheld_reason(**{**base, "rules": scale, "grade": "general"}, mask_rule="none") == GRADE


# --- visibility ---------------------------------------------------------------------------------------


def test_a_resource_that_is_not_open_is_invisible_everywhere(
    client: TestClient, codes: dict[str, str]
) -> None:
    closed = codes["closed"]
    assert client.get(f"{API}/datasets/{closed}").status_code == 404
    assert client.get(f"{API}/datasets/{closed}/records").status_code == 404
    for fmt in ("csv", "xlsx", "json"):
        response = client.get(f"{API}/datasets/{closed}/download", params={"format": fmt})
        assert response.status_code == 404
        assert "不存在或未向社会开放" in response.json()["detail"]
    page(client, f"/open/datasets/{closed}", status=404)
    assert CLOSED_NAME not in page(client, "/open")
    listed = client.get(f"{API}/datasets").json()
    assert [d["code"] for d in listed["datasets"]] == [codes["open"]]
    turtle = client.get(f"{API}/dcat", params={"format": "turtle"}).text
    assert closed not in turtle and CLOSED_NAME not in turtle
    # unknown codes answer the same way
    assert client.get(f"{API}/datasets/000000-999999").status_code == 404


def test_anonymous_access_needs_no_cookie(client: TestClient, codes: dict[str, str]) -> None:
    client.cookies.clear()
    response = client.get(f"{API}/datasets/{codes['open']}")
    assert response.status_code == 200
    assert response.json()["name"] == helpers.OPEN_NAME
    assert "set-cookie" not in response.headers
    html = page(client, f"/open/datasets/{codes['open']}")
    assert helpers.OPEN_NAME in html and "登录" in html  # the masthead offers login: nobody is logged in


# --- downloads ----------------------------------------------------------------------------------------


def test_downloads_hold_exactly_the_opened_items_and_all_current_rows(
    client: TestClient, codes: dict[str, str]
) -> None:
    url = f"{API}/datasets/{codes['open']}/download"

    response = client.get(url, params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    _no_secrets(response.content)
    reader = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(reader[0]) == OPENED
    # a name that looks like a formula is written with a leading ' in CSV (issue #12): never live in Excel
    in_csv = {(c, "'=1+1" if n == "=1+1" else n, d, z) for c, n, d, z in EXPECTED_ROWS}
    assert {(r["tyshxydm"], r["mc"], r["clrq"], float(r["zczj"])) for r in reader} == in_csv

    response = client.get(url, params={"format": "json"})
    assert response.status_code == 200
    _no_secrets(response.content)
    records = json.loads(response.content)
    assert all(list(r) == OPENED for r in records)
    assert {(r["tyshxydm"], r["mc"], r["clrq"], float(r["zczj"])) for r in records} == EXPECTED_ROWS

    response = client.get(url, params={"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["统一社会信用代码", "组织名称", "成立日期", "注册资金（万元）"]
    assert list(rows[1]) == OPENED
    body = rows[2:]
    assert {(r[0], r[1], r[2].date().isoformat(), float(r[3])) for r in body} == EXPECTED_ROWS  # type: ignore[union-attr]
    assert "=1+1" in {r[1] for r in body}  # text that looks like a formula stays text
    _no_secrets(" ".join(str(v) for r in rows for v in r))


def test_a_download_is_counted_and_audited_as_anonymous_access(
    client: TestClient, db: Database, codes: dict[str, str]
) -> None:
    code = codes["open"]
    assert client.get(f"{API}/datasets/{code}/download", params={"format": "csv"}).status_code == 200
    assert (
        client.get(f"{API}/datasets/{code}/download", params={"format": "csv"}).status_code == 200
    )  # cached
    assert client.get(f"{API}/datasets/{code}/download", params={"format": "json"}).status_code == 200
    assert client.get(f"{API}/datasets/{code}/records").status_code == 200
    with db.transaction(readonly=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "open.download")).all()
        usage = session.scalars(select(OpenUsageDaily).where(OpenUsageDaily.resource_id != 0)).one()
    assert len(entries) == 3
    assert {e.actor_type for e in entries} == {"anonymous"}
    assert {e.target_id for e in entries} == {code}
    assert {e.detail["format"] for e in entries} == {"csv", "json"}
    assert entries[0].client_addr == "testclient"
    assert (usage.downloads_csv, usage.downloads_json, usage.downloads_xlsx, usage.api_calls) == (2, 1, 0, 1)

    stats = client.get(f"{API}/stats").json()
    assert stats["totals"]["downloads_csv"] == 2
    assert stats["totals"]["api_calls"] >= 1
    assert stats["top"][0]["code"] == code and stats["top"][0]["downloads"] == 3
    assert stats["months"][-1]["downloads"] == 3
    # the records call is counted, not audited
    html = page(client, "/open/stats")
    assert helpers.OPEN_NAME in html and "热门数据集" in html


def _write_elsewhere(db: Database) -> None:
    """Take the node's write lock from another connection, with no patience for a lock: on SQLite a raw
    connection with timeout 0 (BEGIN IMMEDIATE fails at once while a writer holds the database); on
    PostgreSQL a row lock wait of at most 200 ms on the usage counter."""
    if db.is_sqlite:
        path = db.engine.url.database
        assert path
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
        return
    with db.transaction() as session:
        session.execute(text("SET LOCAL lock_timeout = '200ms'"))
        service.count(session, 0, "page_views")


@pytest.mark.parametrize("caller", ["anonymous", "logged-in", "key"])
def test_generating_a_download_blocks_no_other_writer(
    client: TestClient,
    db: Database,
    codes: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caller: str,
) -> None:
    """The file is generated, and the caller identified, in a read-only session; the count and the audit
    entry are written after it in one short transaction. Another writer of the node succeeds while the
    generation runs, whoever downloads."""
    headers: dict[str, str] = {}
    if caller == "logged-in":
        factories.login(client, "mz.admin")
    elif caller == "key":
        headers = factories.bearer(factories.application_key(db, "mz-open", "MZ"))
    generate = downloads._generate
    wrote: list[str] = []

    def generate_while_someone_writes(*args: object, **kwargs: object) -> None:
        _write_elsewhere(db)
        wrote.append("elsewhere")
        generate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(downloads, "_generate", generate_while_someone_writes)
    url = f"{API}/datasets/{codes['open']}/download"
    response = client.get(url, params={"format": "csv"}, headers=headers)
    assert response.status_code == 200, response.text
    assert wrote == ["elsewhere"]
    with db.transaction(readonly=True) as session:
        usage = session.scalars(select(OpenUsageDaily).where(OpenUsageDaily.resource_id != 0)).one()
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "open.download")).all()
    assert usage.downloads_csv == 1 and len(audited) == 1  # written after the generation, not lost
    expected = {"anonymous": "anonymous", "logged-in": "user", "key": "application"}[caller]
    assert audited[0].actor_type == expected


# --- the public API ---------------------------------------------------------------------------------------


def test_records_are_paged_with_a_bounded_page_size(client: TestClient, codes: dict[str, str]) -> None:
    url = f"{API}/datasets/{codes['open']}/records"
    first = client.get(url, params={"page_size": 2}).json()
    second = client.get(url, params={"page_size": 2, "page": 2}).json()
    assert first["total"] == 3 and first["fields"] == OPENED
    assert len(first["records"]) == 2 and len(second["records"]) == 1
    seen = {r["tyshxydm"] for r in first["records"] + second["records"]}
    assert seen == {r[0] for r in ROWS}
    assert all(list(r) == OPENED for r in first["records"])
    _no_secrets(json.dumps(first, ensure_ascii=False) + json.dumps(second, ensure_ascii=False))
    assert client.get(url, params={"page_size": 101}).status_code == 422
    assert client.get(url, params={"page_size": 0}).status_code == 422
    too_deep = client.get(url, params={"page": 100_000, "page_size": 100})
    assert too_deep.status_code == 422 and "请下载文件" in too_deep.text


def test_dataset_api_and_search(client: TestClient, codes: dict[str, str]) -> None:
    detail = client.get(f"{API}/datasets/{codes['open']}").json()
    assert [i["field"] for i in detail["items"]] == OPENED
    assert detail["withheld_items"] == 3 and detail["record_count"] == 3
    assert detail["open_condition"] == "无条件开放，使用时请注明来源"
    assert detail["downloads"]["csv"] == f"{API}/datasets/{codes['open']}/download?format=csv"
    _no_secrets(json.dumps(detail, ensure_ascii=False))
    assert client.get(f"{API}/datasets", params={"q": "社会组织"}).json()["total"] == 1
    assert client.get(f"{API}/datasets", params={"q": "人口"}).json()["total"] == 0
    assert client.get(f"{API}/datasets", params={"provider": "GA"}).json()["total"] == 0
    found = client.get(f"{API}/datasets", params={"provider": "MZ"}).json()
    assert found["total"] == 1 and found["providers"][0]["value"] == "MZ"


def test_rate_limit_answers_429_with_retry_after(client: TestClient, codes: dict[str, str]) -> None:
    app = client.app
    app.state.open_rate = TokenBucket(1)  # type: ignore[attr-defined]  # 1/s, a burst of 2
    assert client.get(f"{API}/datasets").status_code == 200
    assert client.get(f"{API}/datasets").status_code == 200
    refused = client.get(f"{API}/datasets/{codes['open']}/download", params={"format": "csv"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "请求过于频繁" in refused.json()["detail"]


HOSTILE = [
    f"{API}/datasets?page=99999999999999999999",
    f"{API}/datasets?page=-1",
    f"{API}/datasets?q=%00",
    f"{API}/datasets?q=" + "x" * 500,
    f"{API}/datasets/%00",
    f"{API}/datasets/1'%20OR%20'1'='1",
    f"{API}/datasets/x;DROP%20TABLE%20catalog_resource/records",
    f"{API}/datasets/A/records?page_size=99999999999999999999",
    f"{API}/datasets/A/download?format=exe",
    f"{API}/dcat?format=xml",
    "/open?page=99999999999",
    "/open?q=%00",
    "/open?provider=" + "x" * 100,
    "/open/datasets/1'%20OR%201=1",
]


def test_hostile_parameters_are_refused_with_4xx(client: TestClient, codes: dict[str, str]) -> None:
    for path in HOSTILE:
        response = client.get(path, headers=HTML if path.startswith("/open") else {})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])


def test_sql_like_search_text_is_just_text(client: TestClient, codes: dict[str, str]) -> None:
    response = client.get(f"{API}/datasets", params={"q": "' OR 1=1 --"})
    assert response.status_code == 200 and response.json()["total"] == 0


# --- DCAT -------------------------------------------------------------------------------------------------


def test_dcat_lists_only_open_datasets_and_validates(client: TestClient, codes: dict[str, str]) -> None:
    response = client.get(f"{API}/dcat", params={"format": "turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {URIRef(f"http://testserver/catalog/resources/{codes['open']}")}
    (dataset,) = datasets
    assert (
        dataset,
        DCTERMS.accessRights,
        URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC"),
    ) in graph
    keywords = {str(k) for k in graph.objects(dataset, DCAT.keyword)}
    assert not keywords & set(WITHHELD.values())
    downloads = {
        str(u) for d in graph.objects(dataset, DCAT.distribution) for u in graph.objects(d, DCAT.downloadURL)
    }
    assert downloads == {
        f"http://testserver{API}/datasets/{codes['open']}/download?format={f}"
        for f in ("csv", "xlsx", "json")
    }
    assert (dataset, DCAT.landingPage, URIRef(f"http://testserver/open/datasets/{codes['open']}")) in graph
    assert not list(graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/hydra/core#Collection")))

    jsonld = client.get(f"{API}/dcat", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(Graph().parse(data=jsonld.text, format="json-ld")) == len(graph)

    shapes = Graph()
    for name in ("shapes.ttl", "range.ttl"):
        shapes.parse(SHAPES / name, format="turtle")
    conforms, report, text = validate(graph, shacl_graph=shapes, inference="none", advanced=False)
    violations = list(report.subjects(SH.resultSeverity, SH.Violation))
    assert violations == [], text
    assert conforms, text
    assert Literal(helpers.OPEN_NAME, lang="zh") in set(graph.objects(dataset, DCTERMS.title))


# --- pages ------------------------------------------------------------------------------------------------


def test_portal_pages_show_the_open_dataset(client: TestClient, codes: dict[str, str]) -> None:
    code = codes["open"]
    home = page(client, "/open")
    assert "公共数据开放" in home and helpers.OPEN_NAME in home
    assert "示例" in home or "测试" in home  # the provider facet
    assert f'href="/open/datasets/{code}"' in home
    assert "3 条记录" in home

    filtered = page(client, "/open?provider=GA")
    assert helpers.OPEN_NAME not in filtered and "没有找到符合条件的开放数据集" in filtered

    detail = page(client, f"/open/datasets/{code}")
    for item in ("统一社会信用代码", "组织名称", "成立日期", "注册资金（万元）"):
        assert item in detail
    assert "无条件开放，使用时请注明来源" in detail
    assert "未开放的数据项（3）" in detail
    assert PERSONAL in detail and NOT_SHARED in detail and GRADE in detail
    for value in ("示例市助老服务中心", "示例市青年志愿者协会", "52110000MJ0000003C"):
        assert value in detail  # the preview
    for secret in ("赵一鸣", "钱二丽", "机密甲", "120.5"):
        assert secret not in detail
    for fmt in ("csv", "xlsx", "json"):
        assert f'href="/api/open/v1/datasets/{code}/download?format={fmt}"' in detail
    assert f"GET /api/open/v1/datasets/{code}/records?page=1&amp;page_size=20" in detail
    assert "http://" not in detail and "https://" not in detail

    api = page(client, "/open/api")
    assert "429" in api and "Retry-After" in api and "/api/open/v1/dcat" in api

    stats = page(client, "/open/stats")
    assert "开放数据集" in stats and "每月下载" in stats


def test_page_views_are_counted_not_audited(client: TestClient, db: Database, codes: dict[str, str]) -> None:
    page(client, f"/open/datasets/{codes['open']}")
    page(client, f"/open/datasets/{codes['open']}")
    with db.transaction(readonly=True) as session:
        views = session.scalars(
            select(OpenUsageDaily.page_views).where(OpenUsageDaily.resource_id != 0)
        ).one()
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action.like("open.%"))).all()
    assert views == 2 and audited == []
