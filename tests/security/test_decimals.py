"""Hostile numbers against the exact decimals of 数值/货币 items (issue #14, defect 2): a filter, key or
claim that no decimal column can hold is a 422 naming the item (or a plain mismatch), never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govshare.core.db import Database
from tests.collection.test_decimals import grant, load

HOSTILE = [
    "1e999999999",
    "-1E+999999999",
    "1e-999999999",
    "NaN",
    "sNaN",
    "Infinity",
    "9" * 60,  # longer values are refused before (data_api: 查询条件过长)
    " 1.5",
    "0x10",
    "1_000",
]


@pytest.fixture
def granted(client: TestClient, db: Database, tmp_path: Path) -> tuple[str, dict[str, str]]:
    return grant(client, load(db, tmp_path))


def test_hostile_numbers_in_filters_are_refused_naming_the_item(
    client: TestClient, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    for value in HOSTILE:
        answer = client.get(f"/api/v1/data/{code}/records", params={"btje": value}, headers=headers)
        assert answer.status_code == 422, (value[:20], answer.status_code, answer.text[:300])
        assert "补贴金额（万元）" in answer.text and "精确小数" in answer.text
        exported = client.get(
            f"/api/v1/data/{code}/export", params={"format": "csv", "zcze": value}, headers=headers
        )
        assert exported.status_code == 422, (value[:20], exported.status_code)


def test_hostile_claims_are_a_mismatch(client: TestClient, granted: tuple[str, dict[str, str]]) -> None:
    code, headers = granted
    for value in HOSTILE:
        claims = {"key": "52110000MJ0000001A", "claims": {"btje": value}}
        answer = client.post(f"/api/v1/verify/{code}", json=claims, headers=headers)
        assert answer.status_code == 200, (value[:20], answer.text[:300])
        assert answer.json()["results"] == {"btje": "mismatch"}
