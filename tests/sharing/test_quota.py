"""The grant's daily row quota counts every row a call returns, before the call answers: a single-record
look-up, 核验 and 一号通 included (issue #13: `get_record` checked the quota with 0 rows, so with
`rows_per_day=1` three calls answered 200, 200, 429 and the day recorded 2 rows). Both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from govshare.core.db import Database
from govshare.models import ShareGrant
from tests import factories
from tests.sharing.helpers import LI, WANG, ZHANG


def _limit(db: Database, *, rows: int, calls: int = 1000) -> None:
    with db.transaction() as session:
        session.execute(update(ShareGrant).values(requests_per_day=calls, rows_per_day=rows))


def _usage(client: TestClient) -> list[dict[str, Any]]:
    client.cookies.clear()
    factories.login(client, "admin")
    usage = client.get("/api/v1/sharing/usage", params={"group": "application"})
    assert usage.status_code == 200, usage.text
    client.cookies.clear()
    return list(usage.json())


def test_single_record_counts_its_row_before_answering(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    _limit(db, rows=1)
    codes = [
        client.get(f"/api/v1/data/{code}/records/{key}", headers=headers).status_code
        for key in (ZHANG, LI, WANG)
    ]
    assert codes == [200, 429, 429]
    refused = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers)
    assert refused.status_code == 429
    assert "今日剩余 0 条，本次需要 1 条" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    assert _usage(client) == [{"key": "mz-dbsh", "name": "应用mz-dbsh", "calls": 1, "rows": 1, "refusals": 3}]


def test_a_missing_record_uses_no_row(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    _limit(db, rows=1)
    missing = ZHANG[:-4] + "0000"
    assert client.get(f"/api/v1/data/{code}/records/{missing}", headers=headers).status_code in (404, 422)
    assert client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/data/{code}/records/{LI}", headers=headers).status_code == 429


def test_verify_counts_the_matched_row(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    _limit(db, rows=1)
    answers = [
        client.post(f"/api/v1/verify/{code}", json={"key": key, "claims": {"xm": name}}, headers=headers)
        for key, name in ((ZHANG, "张三"), (LI, "李四"), (WANG, "王五"))
    ]
    assert [a.status_code for a in answers] == [200, 429, 429]
    assert answers[0].json()["match"] is True
    assert "记录数上限" in answers[1].json()["detail"]
    assert _usage(client) == [{"key": "mz-dbsh", "name": "应用mz-dbsh", "calls": 1, "rows": 1, "refusals": 2}]


def test_one_number_query_refuses_the_part_over_the_row_quota(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    _limit(db, rows=1)
    first = client.get(f"/api/v1/person/{ZHANG}", headers=headers)
    assert first.status_code == 200, first.text
    assert [p["record"]["xm"] for p in first.json()["parts"]] == ["张*"]
    second = client.get(f"/api/v1/person/{LI}", headers=headers)
    assert second.status_code == 200, second.text
    (part,) = second.json()["parts"]
    assert part["resource"] == code
    assert part["record"] is None
    assert "记录数上限" in part["refused"]
    assert "李" not in second.text
    usage = _usage(client)
    assert [(u["calls"], u["rows"]) for u in usage] == [(1, 1)]


def test_filtered_page_counts_every_row(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    _limit(db, rows=2)
    too_many = client.get(f"/api/v1/data/{code}/records", headers=headers)
    assert too_many.status_code == 429
    assert "本次需要 3 条" in too_many.json()["detail"]
    page = client.get(f"/api/v1/data/{code}/records", params={"limit": 2}, headers=headers)
    assert page.status_code == 200, page.text
    assert len(page.json()["items"]) == 2
    assert client.get(f"/api/v1/data/{code}/records", params={"limit": 1}, headers=headers).status_code == 429
    assert client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers).status_code == 429
    usage = _usage(client)
    assert [(u["calls"], u["rows"]) for u in usage] == [(1, 2)]
