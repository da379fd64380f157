"""Money stored exactly (issue #14, defect 2): 数值 and 货币 items are exact decimals from the file to every
output — the stored column, the data API's JSON, CSV / NDJSON / Parquet exports, the change feed and the
open-data downloads — on SQLite and PostgreSQL, and migration 0012 converts record tables stored as floats."""

from __future__ import annotations

import csv
import importlib
import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import inspect, text

from govshare.collection import store
from govshare.core.db import Database
from govshare.models import RecordTable
from tests import factories
from tests.catalog.helpers import apply
from tests.collection.helpers import current, ingest, quarantined
from tests.sharing.helpers import PURPOSE, application_body, resource_code

NAME = "补贴发放精确金额测试信息"
MONEY: dict[str, Any] = {
    "name": NAME,
    "provider": "GA",
    "summary": "用于精确小数测试的补贴发放信息，包括统一社会信用代码、补贴金额（万元）、资产总额和评价得分。",
    "classification": {"category": "部门", "class": "3", "item": "02", "catalog": "002"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {
        "type": "有条件",
        "condition": "仅向承担社会救助职能的部门提供，用于资格审核",
        "methods": ["接口"],
    },
    "open": {"open": True, "condition": "无条件开放，使用时请注明来源"},
    "update_cycle": "每月",
    "grade": "一般",
    "items": [
        {"name": "统一社会信用代码", "field": "tyshxydm", "type": "C", "length": 18, "key": True},
        {"name": "补贴金额（万元）", "field": "btje", "type": "Y"},
        {"name": "资产总额", "field": "zcze", "type": "Y"},
        {"name": "评价得分", "field": "pjdf", "type": "N", "mask": "部分遮盖"},
    ],
}
MAPPING = f"""
resource: {NAME}
mode: full
columns:
  tyshxydm: 代码
  btje: {{from: 补贴金额, divide_by: 10000}}
  zcze: 资产总额
  pjdf: 得分
"""
A, B = "52110000MJ0000001A", "52110000MJ0000002B"
# 39,775,968 元 is 3977.5968 万元 (a float gives 3977.5968000000003); 18 significant digits do not fit a
# float at all (123456789012.34568); 1 分 is 0.000001 万元.
ROWS = [(A, "39,775,968", "123456789012.345678", "12.5"), (B, "0.01", "-0.5", "99.25")]
EXPECTED = {A: ("3977.5968", "123456789012.345678"), B: ("0.000001", "-0.5")}
ITEMS = ["tyshxydm", "btje", "zcze", "pjdf"]


def write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    lines = ["代码,补贴金额,资产总额,得分"] + [",".join(f'"{v}"' for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(db: Database, tmp_path: Path) -> Database:
    """The city and the money resource with its two records."""
    factories.city(db)
    apply(db, MONEY)
    batch = ingest(db, write(tmp_path / "money.csv", ROWS), MAPPING)
    assert batch.inserted == 2, batch
    return db


def grant(client: TestClient, loaded: Database) -> tuple[str, dict[str, str]]:
    """MZ's application holds an approved grant on every item of the money resource."""
    key = factories.application_key(loaded, "mz-dbsh", "MZ")
    code = resource_code(loaded, NAME)
    filed = client.post(
        "/api/v1/sharing/requests",
        json=application_body(code, items=ITEMS),
        headers=factories.login(client, "mz.admin"),
    )
    assert filed.status_code == 201, filed.text
    decided = client.post(
        f"/api/v1/sharing/requests/{filed.json()['number']}/decision",
        json={"decision": "approve"},
        headers=factories.login(client, "ga.admin"),
    )
    assert decided.status_code == 200, decided.text
    client.cookies.clear()
    return code, {**factories.bearer(key), **PURPOSE}


@pytest.fixture
def loaded(db: Database, tmp_path: Path) -> Database:
    return load(db, tmp_path)


@pytest.fixture
def granted(client: TestClient, loaded: Database) -> tuple[str, dict[str, str]]:
    return grant(client, loaded)


# --- stored -------------------------------------------------------------------------------------------------


def test_money_is_stored_as_exact_decimals(loaded: Database) -> None:
    rows = {r["tyshxydm"]: r for r in current(loaded, NAME)}
    for code, (money, assets) in EXPECTED.items():
        assert isinstance(rows[code]["btje"], Decimal), rows[code]
        assert rows[code]["btje"] == Decimal(money)
        assert rows[code]["zcze"] == Decimal(assets)
    assert rows[A]["pjdf"] == Decimal("12.5")
    columns = {c["name"]: str(c["type"]).upper() for c in inspect(loaded.engine).get_columns("rs_1")}
    with loaded.engine.connect() as connection:
        raw = connection.execute(text("SELECT btje FROM rs_1 WHERE tyshxydm = :a"), {"a": A}).scalar_one()
    if loaded.engine.dialect.name == "postgresql":
        assert columns["btje"] == "NUMERIC(18, 6)"
        assert raw == Decimal("3977.5968")
    else:  # SQLite's NUMERIC affinity would make a REAL of it: integer counts of 10⁻⁶
        assert columns["btje"] in ("BIGINT", "INTEGER")
        assert raw == 3977596800 and isinstance(raw, int)


def test_a_reload_of_the_same_money_changes_nothing(loaded: Database, tmp_path: Path) -> None:
    again = ingest(loaded, write(tmp_path / "again.csv", ROWS), MAPPING)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = ingest(
        loaded, write(tmp_path / "changed.csv", [ROWS[0], (B, "0.02", "-0.5", "99.25")]), MAPPING
    )
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert {r["tyshxydm"]: r["btje"] for r in current(loaded, NAME)}[B] == Decimal("0.000002")


def test_more_decimals_or_digits_than_stored_are_quarantined_naming_the_item(
    loaded: Database, tmp_path: Path
) -> None:
    rows = [
        (A, "1", "0.1234567", "1"),
        (B, "1", "1234567890123", "1"),
        ("52110000MJ0000003C", "1", "1.5", "1"),
    ]
    batch = ingest(
        loaded, write(tmp_path / "bad.csv", rows), MAPPING.replace("mode: full", "mode: incremental")
    )
    assert (batch.rejected, batch.updated) == (2, 0)
    messages = sorted(q.message for q in quarantined(loaded, batch.id))
    assert messages == [
        "资产总额（zcze）：小数位数超过 6 位",
        "资产总额（zcze）：超出可存储的范围（整数部分至多 12 位）",
    ]
    rows_now = {r["tyshxydm"]: r["zcze"] for r in current(loaded, NAME)}
    assert rows_now[A] == Decimal("123456789012.345678")  # the refused value left the record alone


# --- the data API, exports and the change feed ------------------------------------------------------------


def test_the_data_api_answers_money_as_exact_strings(
    client: TestClient, granted: tuple[str, dict[str, str]]
) -> None:
    code, headers = granted
    one = client.get(f"/api/v1/data/{code}/records/{A}", headers=headers)
    assert one.status_code == 200, one.text
    assert '"btje":"3977.5968"' in one.text.replace(" ", "")
    assert (one.json()["btje"], one.json()["zcze"]) == EXPECTED[A]
    assert one.json()["pjdf"] == "1**5"  # masked as its exact text "12.5"
    found = client.get(f"/api/v1/data/{code}/records", params={"btje": "3977.5968"}, headers=headers)
    assert [r["tyshxydm"] for r in found.json()["items"]] == [A]
    too_fine = client.get(f"/api/v1/data/{code}/records", params={"btje": "3977.5968001"}, headers=headers)
    assert too_fine.status_code == 422
    assert (
        "“3977.5968001”不是信息项“补贴金额（万元）”的有效取值（精确小数：整数至多 12 位，小数至多 6 位）"
        in too_fine.text
    )
    claims = {"key": A, "claims": {"btje": "3977.59680", "zcze": "123456789012.345679"}}
    verified = client.post(f"/api/v1/verify/{code}", json=claims, headers=headers)
    assert verified.json()["results"] == {"btje": "match", "zcze": "mismatch"}


def test_exports_keep_every_digit(client: TestClient, granted: tuple[str, dict[str, str]]) -> None:
    code, headers = granted
    url = f"/api/v1/data/{code}/export"
    body = client.get(url, params={"format": "csv"}, headers=headers)
    assert body.status_code == 200, body.text
    rows = {r["tyshxydm"]: r for r in csv.DictReader(io.StringIO(body.content.decode("utf-8-sig")))}
    assert {k: (r["btje"], r["zcze"]) for k, r in rows.items()} == EXPECTED
    assert rows[A]["pjdf"] == "1**5"  # the export masks what the API masks
    lines = [
        json.loads(line)
        for line in client.get(url, params={"format": "ndjson"}, headers=headers).text.splitlines()
    ]
    assert {r["tyshxydm"]: (r["btje"], r["zcze"]) for r in lines} == EXPECTED
    parquet = pq.read_table(
        io.BytesIO(client.get(url, params={"format": "parquet"}, headers=headers).content)
    )
    assert parquet.schema.field("btje").type == pa.decimal128(18, 6)
    assert parquet.column("btje").to_pylist() == [Decimal("3977.5968"), Decimal("0.000001")]
    assert parquet.column("zcze").to_pylist() == [Decimal("123456789012.345678"), Decimal("-0.5")]


def test_the_change_feed_carries_exact_money(client: TestClient, granted: tuple[str, dict[str, str]]) -> None:
    code, headers = granted
    feed = client.get(f"/api/v1/data/{code}/changes", headers=headers)
    assert feed.status_code == 200, feed.text
    records = {c["record"]["tyshxydm"]: c["record"] for c in feed.json()["changes"]}
    assert {k: (r["btje"], r["zcze"]) for k, r in records.items()} == EXPECTED


# --- open data ---------------------------------------------------------------------------------------------


def test_open_data_downloads_and_api_keep_every_digit(client: TestClient, loaded: Database) -> None:
    code = resource_code(loaded, NAME)
    url = f"/api/open/v1/datasets/{code}/download"
    body = client.get(url, params={"format": "csv"})
    assert body.status_code == 200, body.text
    rows = {r["tyshxydm"]: r for r in csv.DictReader(io.StringIO(body.content.decode("utf-8-sig")))}
    assert {k: (r["btje"], r["zcze"]) for k, r in rows.items()} == EXPECTED
    records = json.loads(client.get(url, params={"format": "json"}).content)
    assert {r["tyshxydm"]: (r["btje"], r["zcze"]) for r in records} == EXPECTED
    sheet = load_workbook(
        io.BytesIO(client.get(url, params={"format": "xlsx"}).content), read_only=True
    ).active
    assert sheet is not None
    cells = {r[0]: r[1:] for r in list(sheet.iter_rows(values_only=True))[2:]}
    # a number Excel holds exactly stays a number; 18 significant digits are kept as text
    assert cells[A] == (3977.5968, "123456789012.345678")
    assert cells[B] == (0.000001, -0.5)
    api = client.get(f"/api/open/v1/datasets/{code}/records").json()
    assert {r["tyshxydm"]: (r["btje"], r["zcze"]) for r in api["records"]} == EXPECTED


# --- migration 0012 -----------------------------------------------------------------------------------------


def _old_table(db: Database) -> None:
    """A record table as the code before 0012 made it: 货币 as FLOAT (the type 浮点 items still get), with
    its indexes and system columns."""
    factories.city(db)
    apply(db, MONEY)
    fields = [store.Field("tyshxydm", "C", 18), store.Field("btje", "F"), store.Field("jtrs", "I")]
    table = store.record_table("rs_1", fields, ["tyshxydm"])
    stamp = {"_valid_from": datetime(2026, 1, 1, 8), "_batch_id": 1}
    with db.transaction() as session:
        table.create(session.connection())
        columns = {"tyshxydm": "C", "btje": "Y", "jtrs": "I"}
        session.add(RecordTable(resource_id=1, table_name="rs_1", columns=columns, key=["tyshxydm"]))
        session.execute(
            table.insert(),
            [
                {"tyshxydm": A, "btje": 39775968 * 0.0001, "jtrs": 3, **stamp},
                {"tyshxydm": B, "btje": 0.1 + 0.2, "jtrs": None, **stamp},
                {"tyshxydm": "C", "btje": None, "jtrs": 1, **stamp},
            ],
        )


def _migrate(db: Database, direction: str) -> None:
    module = importlib.import_module("govshare.migrations.versions.0012_exact_decimals")
    with db.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        getattr(module, direction)()


def test_migration_0012_converts_float_money_exactly(db: Database) -> None:
    _old_table(db)
    assert 39775968 * 0.0001 == 3977.5968000000003  # the defect the migration repairs
    _migrate(db, "upgrade")
    _migrate(db, "upgrade")  # converted columns are left alone
    with db.transaction(readonly=True) as session:
        table = store.existing_table(session, 1)
        assert table is not None
        rows = {r["tyshxydm"]: r for r in session.execute(table.select()).mappings()}
    assert (rows[A]["btje"], rows[B]["btje"], rows["C"]["btje"]) == (
        Decimal("3977.5968"),
        Decimal("0.3"),
        None,
    )
    assert (rows[A]["jtrs"], rows[B]["jtrs"]) == (3, None)
    inspector = inspect(db.engine)
    assert {i["name"] for i in inspector.get_indexes("rs_1")} == {
        "ux_rs_1_current",
        "ix_rs_1_history",
        "ix_rs_1_batch",
    }
    declared = {c["name"]: str(c["type"]).upper() for c in inspector.get_columns("rs_1")}
    assert declared["btje"] in ("NUMERIC(18, 6)", "BIGINT")
    _migrate(db, "downgrade")
    with db.engine.connect() as connection:
        back = connection.execute(text("SELECT btje FROM rs_1 WHERE tyshxydm = :a"), {"a": A}).scalar_one()
    assert back == 3977.5968  # the exact value, as near as a float gets


def test_migration_0012_refuses_money_that_does_not_fit(db: Database) -> None:
    _old_table(db)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE rs_1 SET btje = 1e13 WHERE tyshxydm = 'C'"))
    with pytest.raises(RuntimeError, match="rs_1 的信息项 btje 有 1 个值"):
        _migrate(db, "upgrade")
