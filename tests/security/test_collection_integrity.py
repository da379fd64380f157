"""Hostile input to collection (issue #14): a pushing system that sends one record in full mode must not
wipe a department's resource; a file made of nothing but unmatched quotes must not hide its lines, nor cost
more than a bounded look-ahead per line. On SQLite and PostgreSQL where storage is involved."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govshare.auth.permissions import Permission
from govshare.collection.readers import ReaderOptions, open_file
from govshare.core.db import Database
from tests import factories
from tests.collection.helpers import current, person_id, setup
from tests.collection.readers.util import read_all

PUSH_MAPPING = """
source: {kind: push}
mode: incremental
columns:
  gmsfhm: 身份证号
  xm: 姓名
"""


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
    return int(response.json()["id"])


def test_a_pushed_full_batch_cannot_wipe_the_resource(db: Database, client: TestClient, source: int) -> None:
    key = factories.application_key(db, "ga-rk", "GA", scopes=[Permission.COLLECTION_PUSH])
    people = [{"身份证号": person_id("19800101", 2 * n + 1), "姓名": f"张{n}"} for n in range(20)]
    loaded = client.post(
        f"/api/v1/collection/sources/{source}/records",
        json={"records": people},
        headers=factories.bearer(key),
    )
    assert loaded.status_code == 202, loaded.text
    assert len(current(db)) == 20
    wipe = client.post(
        f"/api/v1/collection/sources/{source}/records",
        json={"records": people[:1], "mode": "full"},
        headers=factories.bearer(key),
    )
    assert wipe.status_code == 202, wipe.text
    batch = client.get(
        f"/api/v1/collection/batches/{wipe.json()['id']}", headers=factories.bearer(key)
    ).json()
    assert batch["status"] == "failed"
    assert "全量归集将关闭现有 20 条记录中的 19 条" in batch["error"]
    assert len(current(db)) == 20  # nothing was closed
    refused = client.post(
        f"/api/v1/collection/sources/{source}/records",
        json={"records": people[:1], "mode": "full", "allow_removals": True},
        headers=factories.bearer(key),
    )
    assert refused.status_code == 422  # a pushing system has no way to allow the removal
    assert len(current(db)) == 20


def test_a_file_of_unmatched_quotes_hides_no_line(tmp_path: Path) -> None:
    lines = ["a,b,c"] + [f'"{n},x{n},y' if n % 2 else f'{n},"x{n},y' for n in range(20_000)]
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = open_file(path, "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.height == 0
    assert [m.row for m in reader.malformed] == list(range(2, 20_002))  # each line by itself
    assert all(m.rule == "csv.quote" and "\n" not in m.raw for m in reader.malformed)
