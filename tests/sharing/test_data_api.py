"""The data API's operations under a grant: filtered pages, export, the change feed, 核验, 一号通, quotas and
the rate limit. Both databases."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sqlalchemy import update

from govshare.core.db import Database
from govshare.models import ShareGrant
from govshare.sharing.access import subject_digest
from govshare.sharing.ratelimit import TokenBucket
from govshare.standards import validators
from tests import factories
from tests.collection.helpers import ingest, person_id
from tests.sharing.helpers import (
    LI,
    MAPPING,
    PEOPLE_ROWS,
    WANG,
    ZHANG,
    write_people,
)

MASKED_ZHANG = ZHANG[:6] + "********" + ZHANG[-4:]


def test_filtered_query_pages_by_cursor(client: TestClient, granted: tuple[str, dict[str, str]]) -> None:
    code, headers = granted
    first = client.get(f"/api/v1/data/{code}/records", params={"qx": "110105", "limit": 1}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["gmsfhm"] for r in page["items"]] == [MASKED_ZHANG]
    assert set(page["items"][0]) == {"gmsfhm", "xm", "sjhm", "jzdz", "qx"}
    assert page["items"][0]["sjhm"] == "138****8000"
    assert page["next"]
    second = client.get(
        f"/api/v1/data/{code}/records",
        params={"qx": "110105", "limit": 1, "after": page["next"]},
        headers=headers,
    ).json()
    assert [r["xm"] for r in second["items"]] == ["王*"]
    assert second["next"] is None
    everyone = client.get(f"/api/v1/data/{code}/records", headers=headers).json()
    assert len(everyone["items"]) == 3
    # An item outside the grant (性别) cannot be used as a filter: that would reveal it.
    refused = client.get(f"/api/v1/data/{code}/records", params={"xb": "1"}, headers=headers)
    assert refused.status_code == 403
    huge = client.get(f"/api/v1/data/{code}/records", params={"limit": 100_000}, headers=headers).json()
    assert huge["truncated"] is True and huge["limit"] == 1000


def test_export_streams_masked_granted_records(
    client: TestClient, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    response = client.get(f"/api/v1/data/{code}/export", params={"format": "csv"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-row-count"] == "3"
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["gmsfhm"] == MASKED_ZHANG
    assert set(rows[0]) == {"gmsfhm", "xm", "sjhm", "jzdz", "qx"}
    assert all(raw[0] not in text for raw in PEOPLE_ROWS)  # no clear id number anywhere
    ndjson = client.get(
        f"/api/v1/data/{code}/export", params={"format": "ndjson", "qx": "110106"}, headers=headers
    )
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [r["xm"] for r in lines] == ["李*"]
    parquet = client.get(f"/api/v1/data/{code}/export", params={"format": "parquet"}, headers=headers)
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 3
    assert table.column("sjhm").to_pylist()[1] == "139****9000"


def test_change_feed_delivers_upserts_then_deletions(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    code, headers = granted
    first = client.get(f"/api/v1/data/{code}/changes", params={"limit": 2}, headers=headers).json()
    assert [c["op"] for c in first["changes"]] == ["upsert", "upsert"]
    assert first["more"] is True
    rest = client.get(f"/api/v1/data/{code}/changes", params={"since": first["next"]}, headers=headers).json()
    assert [c["op"] for c in rest["changes"]] == ["upsert"]
    assert rest["more"] is False
    idle = client.get(f"/api/v1/data/{code}/changes", params={"since": rest["next"]}, headers=headers).json()
    assert idle["changes"] == []
    # A full reload: 李四 moves, 王五 is gone, a newcomer arrives.
    newcomer = person_id("20000101", 111, "110105")
    rows = [
        PEOPLE_ROWS[0],
        (LI, "李四", "2", "13900139000", "北京市丰台区新村街道9号", "110106", "1985-11-20", "13"),
        (newcomer, "赵一", "1", "13600136000", "北京市东城区和平里街道5号", "110105", "2000-01-01", "13"),
    ]
    batch = ingest(db, write_people(tmp_path / "reload.csv", rows), MAPPING)
    assert (batch.inserted, batch.updated, batch.removed) == (1, 1, 1)
    delta = client.get(f"/api/v1/data/{code}/changes", params={"since": rest["next"]}, headers=headers).json()
    ops = [(c["op"], (c.get("record") or c.get("key"))["gmsfhm"]) for c in delta["changes"]]
    assert sorted(ops) == sorted(
        [
            ("upsert", LI[:6] + "********" + LI[-4:]),
            ("upsert", newcomer[:6] + "********" + newcomer[-4:]),
            ("delete", WANG[:6] + "********" + WANG[-4:]),
        ]
    )
    bad = client.get(f"/api/v1/data/{code}/changes", params={"since": "bm90LWEtY3Vyc29y"}, headers=headers)
    assert bad.status_code == 422


def test_verify_answers_match_or_mismatch_only(
    client: TestClient, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    answer = client.post(
        f"/api/v1/verify/{code}",
        json={"key": ZHANG, "claims": {"xm": "张三", "sjhm": "13800000000"}},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"found": True, "match": False, "results": {"xm": "match", "sjhm": "mismatch"}}
    assert "13800138000" not in answer.text
    unknown = client.post(
        f"/api/v1/verify/{code}",
        json={"key": person_id("19700101", 1), "claims": {"xm": "张三"}},
        headers=headers,
    ).json()
    assert unknown == {"found": False, "match": False, "results": {"xm": "mismatch"}}
    not_granted = client.post(
        f"/api/v1/verify/{code}", json={"key": ZHANG, "claims": {"xb": "1"}}, headers=headers
    )
    assert not_granted.status_code == 403


def test_one_number_query_labels_each_part(client: TestClient, granted: tuple[str, dict[str, str]]) -> None:
    code, headers = granted
    found = client.get(f"/api/v1/person/{ZHANG}", headers=headers)
    assert found.status_code == 200, found.text
    parts = found.json()["parts"]
    assert [(p["resource"], p["provider"], p["record"]["xm"]) for p in parts] == [(code, "GA", "张*")]
    invalid = client.get(f"/api/v1/person/{ZHANG[:-1]}0", headers=headers)
    assert invalid.status_code == 422
    assert "公民身份号码" in invalid.json()["detail"]
    body = "91110000600037341"
    nobody = client.get(f"/api/v1/org/{body}{validators.uscc_check_char(body)}", headers=headers)
    assert nobody.status_code == 200, nobody.text
    assert nobody.json()["parts"] == []  # no granted resource is keyed by 统一社会信用代码


def test_daily_quota_answers_429_with_retry_after(
    client: TestClient, db: Database, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    with db.transaction() as session:
        session.execute(update(ShareGrant).values(requests_per_day=2, rows_per_day=2))
    assert client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers).status_code == 200
    too_many_rows = client.get(f"/api/v1/data/{code}/export", headers=headers)
    assert too_many_rows.status_code == 429
    assert "记录数上限" in too_many_rows.json()["detail"]
    assert client.get(f"/api/v1/data/{code}/records/{LI}", headers=headers).status_code == 200
    third = client.get(f"/api/v1/data/{code}/records/{WANG}", headers=headers)
    assert third.status_code == 429
    assert int(third.headers["retry-after"]) > 0
    factories.login(client, "admin")
    usage = client.get("/api/v1/sharing/usage", params={"group": "application"}).json()
    assert usage == [{"key": "mz-dbsh", "name": "应用mz-dbsh", "calls": 2, "rows": 2, "refusals": 2}]


def test_rate_limit_per_application(client: TestClient, granted: tuple[str, dict[str, str]]) -> None:
    code, headers = granted
    client.app.state.data_rate = TokenBucket(1, burst=2)  # type: ignore[attr-defined]
    codes = [
        client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers).status_code for _ in range(4)
    ]
    assert codes[:2] == [200, 200]
    assert 429 in codes[2:]
    limited = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(10, burst=2)
    assert bucket.take("a", now=0.0) is None
    assert bucket.take("a", now=0.0) is None
    assert bucket.take("a", now=0.0) == 1
    assert bucket.take("b", now=0.0) is None  # per application
    assert bucket.take("a", now=0.1) is None  # one token back after 1/rate seconds


def test_subject_digest_is_keyed_and_normalised() -> None:
    key = b"k" * 32
    assert subject_digest(key, "11010519900307123x") == subject_digest(key, " 11010519900307123X ")
    assert subject_digest(key, ZHANG) != subject_digest(b"j" * 32, ZHANG)
    assert ZHANG not in subject_digest(key, ZHANG)
