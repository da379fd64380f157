"""/api/v1/collection: pushes by a department's system, live batch status, quarantine downloads, sources,
and who may do what."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govshare.auth.permissions import Permission
from govshare.core.db import Database
from tests import factories
from tests.collection.helpers import current, person_id, setup

PUSH_MAPPING = """
source: {kind: push}
mode: incremental
cursor: gxsj
columns:
  gmsfhm: 身份证号
  xm: 姓名
  xb: {from: 性别, map: {"0": "1", "1": "2"}}
  gxsj: 更新时间
"""
ZHANG = person_id("19900307", 123)


@pytest.fixture
def source(db: Database, client: TestClient) -> int:
    setup(db)
    headers = factories.login(client, "ga.steward")
    response = client.post(
        "/api/v1/collection/sources",
        json={"resource": "测试人口信息", "name": "公安人口推送", "mapping": PUSH_MAPPING},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "push"
    return int(response.json()["id"])


def records() -> list[object]:
    return [
        {"身份证号": ZHANG, "姓名": "张三", "性别": "0", "更新时间": "2024-01-01 00:00:00"},
        {"身份证号": "123", "姓名": "坏号", "性别": "0", "更新时间": "2024-01-01 00:00:00"},
        "not an object",
        {"身份证号": ZHANG, "姓名": "张三丰", "性别": "0", "更新时间": "2024-02-01 00:00:00"},
    ]


def test_a_departments_system_pushes_records_and_follows_the_batch(
    db: Database, client: TestClient, source: int
) -> None:
    key = factories.application_key(db, "ga-rk", "GA", scopes=[Permission.COLLECTION_PUSH])
    response = client.post(
        f"/api/v1/collection/sources/{source}/records",
        json={"records": records()},
        headers=factories.bearer(key),
    )
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]
    followed = client.get(f"/api/v1/collection/batches/{batch_id}", headers=factories.bearer(key))
    assert followed.status_code == 200, followed.text
    batch = followed.json()
    assert (batch["status"], batch["kind"], batch["mode"]) == ("succeeded", "push", "incremental")
    assert (batch["read"], batch["inserted"], batch["superseded"], batch["rejected"]) == (4, 1, 1, 2)
    assert current(db)[0]["xm"] == "张三丰"
    assert client.get("/api/v1/collection/batches", headers=factories.bearer(key)).status_code == 403
    factories.login(client, "ga.steward")  # the records in quarantine are for the department's staff
    quarantine = client.get(f"/api/v1/collection/batches/{batch_id}/quarantine").json()
    assert sorted((q["row_no"], q["rule"]) for q in quarantine) == [(2, "id.length"), (3, "json.not_object")]


def test_a_key_pushes_only_to_its_own_departments_sources(
    db: Database, client: TestClient, source: int
) -> None:
    other = factories.application_key(db, "mz-app", "MZ", scopes=[Permission.COLLECTION_PUSH])
    reader = factories.application_key(db, "ga-read", "GA")  # default scopes: reading only
    for key in (other, reader):
        response = client.post(
            f"/api/v1/collection/sources/{source}/records",
            json={"records": records()},
            headers=factories.bearer(key),
        )
        assert response.status_code == 403, response.text
    assert current(db) == []


def test_quarantine_downloads_are_for_the_provider_only(
    db: Database, client: TestClient, source: int
) -> None:
    headers = factories.login(client, "ga.steward")
    pushed = client.post(
        f"/api/v1/collection/sources/{source}/records", json={"records": records()}, headers=headers
    ).json()
    url = f"/api/v1/collection/batches/{pushed['id']}/quarantine"
    csv = client.get(url, params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("行号,问题字段,规则,原因")
    xlsx = client.get(url, params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.cell(row=2, column=1).value == "2"
    for username in ("admin", "auditor", "mz.admin"):
        factories.login(client, username)
        assert client.get(url).status_code == 403, username
    factories.login(client, "admin")  # the platform admin monitors batches, without the records
    listing = client.get("/api/v1/collection/batches")
    assert listing.status_code == 200 and [b["id"] for b in listing.json()] == [pushed["id"]]
    factories.login(client, "mz.admin")
    assert client.get("/api/v1/collection/batches").json() == []
    assert client.get(f"/api/v1/collection/batches/{pushed['id']}").status_code == 403


def test_reprocess_a_fixed_file_over_the_api(db: Database, client: TestClient, source: int) -> None:
    headers = factories.login(client, "ga.steward")
    pushed = client.post(
        f"/api/v1/collection/sources/{source}/records", json={"records": records()}, headers=headers
    ).json()
    csv = client.get(f"/api/v1/collection/batches/{pushed['id']}/quarantine", params={"format": "csv"})
    fixed = csv.content.decode("utf-8-sig").replace(",123,", f",{person_id('19800101', 55)},")
    response = client.post(
        f"/api/v1/collection/batches/{pushed['id']}/reprocess",
        content=fixed.encode("utf-8-sig"),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    again = client.get(f"/api/v1/collection/batches/{response.json()['id']}").json()
    # the line that was no JSON object has nothing in the mapped columns: empty, and still waiting
    assert (again["status"], again["read"], again["inserted"], again["empty"]) == ("succeeded", 2, 1, 1)
    assert len(current(db)) == 2
    waiting = client.get(f"/api/v1/collection/batches/{pushed['id']}/quarantine").json()
    assert [(q["row_no"], q["resolved_by"]) for q in waiting] == [(2, again["id"]), (3, None)]


def test_registering_a_source_checks_the_mapping_against_the_catalog(
    db: Database, client: TestClient, source: int
) -> None:
    headers = factories.login(client, "ga.steward")
    bad = client.post(
        "/api/v1/collection/sources",
        json={"resource": "测试人口信息", "name": "坏映射", "mapping": "columns: {nosuch: 列}"},
        headers=headers,
    )
    assert bad.status_code == 422 and "nosuch" in bad.text
    local = client.post(
        "/api/v1/collection/sources",
        json={
            "resource": "测试人口信息",
            "name": "本机文件",
            "mapping": "source: {path: /etc/passwd}\ncolumns: {gmsfhm: 身份证号}",
        },
        headers=headers,
    )
    assert local.status_code == 422 and "文件路径" in local.text
    factories.login(client, "mz.admin")
    other = client.post(
        "/api/v1/collection/sources",
        json={"resource": "测试人口信息", "name": "越权", "mapping": PUSH_MAPPING},
        headers={"X-CSRF-Token": factories.login(client, "mz.admin")["X-CSRF-Token"]},
    )
    assert other.status_code == 403
    assert [s["name"] for s in client.get("/api/v1/collection/sources").json()] == []
