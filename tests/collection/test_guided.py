"""Guided registration in the domain (issue #13): the pure parts (`collection/guided.py`: pre-selection,
value maps, the mapping built from choices) and the guarded sample read that the portal and the API share
(`POST /api/v1/collection/guided-sample`), refused to whoever may not collect into the resource. The API
tests run on SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from httpx import Response

from govshare.auth.permissions import Permission
from govshare.collection import guided
from govshare.collection.guided import ItemRow, Sample
from govshare.collection.readers import SourceUnreadable
from govshare.core.db import Database
from govshare.standards.validators import CodeTable
from tests import factories
from tests.collection.helpers import PEOPLE, person_id, setup, write_csv

SEX = CodeTable.build("性别代码", [("1", "男"), ("2", "女"), ("9", "未说明")])
HEADER = ["公民身份号码", "姓名", "性 别", "SFYX", "住址"]
ZHANG = person_id("19900307", 123)


def _sample(columns: list[str], rows: list[list[str | None]] | None = None, kind: str = "csv") -> Sample:
    return Sample.model_validate({"kind": kind, "file": "样例", "columns": columns, "rows": rows or []})


def _row(
    field: str, column: str, *, key: bool = False, table: CodeTable | None = None, value_map: str = ""
) -> ItemRow:
    return ItemRow(
        field=field,
        name=field.upper(),
        type_label="字符型",
        key=key,
        required=key,
        code_table=table,
        column=column,
        value_map=value_map,
    )


# ---------------------------------------------------------------- pure functions


def test_preselect_matches_names_and_codes_ignoring_spaces_width_and_case() -> None:
    chosen = guided.preselect(PEOPLE["items"], ["公民身份号码", "姓名", "性 别", "ＳＦＹＸ", "住址", "XM"])
    assert chosen == {"gmsfhm": "公民身份号码", "xm": "姓名", "xb": "性 别", "sfyx": "ＳＦＹＸ"}


def test_a_column_is_preselected_for_one_item_at_most() -> None:
    items = [{"field": "xm", "name": "姓名"}, {"field": "xm2", "name": "姓名"}]
    assert guided.preselect(items, ["姓名"]) == {"xm": "姓名"}


def test_value_maps_are_read_and_checked_against_the_code_set() -> None:
    assert guided.parse_value_map("0=1， 1＝2；X=女", SEX) == {"0": "1", "1": "2", "X": "女"}
    assert guided.parse_value_map("", SEX) == {}
    for written, reason in (
        ("0-1", "格式不正确"),
        ("0=1, 0=2", "对应了两个代码"),
        ("0=7", "“7”"),
    ):
        with pytest.raises(ValueError, match=reason):
            guided.parse_value_map(written, SEX)


def test_the_mapping_built_from_choices() -> None:
    sample = _sample(["身份证", "姓名", "性别"])
    rows = [
        _row("gmsfhm", "身份证", key=True),
        _row("xm", "姓名"),
        _row("xb", "性别", table=SEX, value_map="0=1"),
    ]
    built = guided.build_mapping(rows, sample, allow_shared=False)
    assert built is not None and yaml.safe_load(built) == {
        "source": {"kind": "csv", "encoding": "auto"},
        "mode": "full",
        "columns": {"gmsfhm": "身份证", "xm": "姓名", "xb": {"from": "性别", "map": {"0": "1"}}},
    }
    workbook = guided.build_mapping([_row("xm", "姓名")], _sample(["姓名"], kind="xlsx"), allow_shared=False)
    assert workbook is not None and yaml.safe_load(workbook)["source"] == {"kind": "xlsx"}


def test_the_mapping_is_refused_with_a_reason_on_each_row() -> None:
    sample = _sample(["姓名", " 住址"])
    rows = [
        _row("gmsfhm", "", key=True),
        _row("xm", "姓名"),
        _row("cym", "姓名"),
        _row("jzdz", " 住址"),
        _row("dz", "没有的列"),
    ]
    assert guided.build_mapping(rows, sample, allow_shared=False) is None
    errors = {row.field: row.error or "" for row in rows}
    assert "主键信息项" in errors["gmsfhm"]
    assert "一列只能对应一个信息项" in errors["xm"] and "一列只能对应一个信息项" in errors["cym"]
    assert "首尾有空格" in errors["jzdz"] and "不在样例文件中" in errors["dz"]

    shared = [_row("xm", "姓名"), _row("cym", "姓名")]
    assert guided.build_mapping(shared, sample, allow_shared=True) is not None


def test_a_sample_is_read_with_the_batch_readers(tmp_path: Path) -> None:
    content = write_csv(
        tmp_path / "样例.csv", [[ZHANG, "张三", "0", "是", "北京"]], encoding="gbk", header=HEADER
    )
    sample = guided.read_sample(
        io.BytesIO(content.read_bytes()),
        "样例.csv",
        "csv",
        guided.expected_headers(PEOPLE["items"]),
        tmp_path,
    )
    assert sample.columns == HEADER and sample.encoding == "gb18030"
    assert sample.rows == [[ZHANG, "张三", "0", "是", "北京"]]
    assert [p.name for p in tmp_path.iterdir()] == ["样例.csv"]  # the copy read is gone
    with pytest.raises(SourceUnreadable, match=r"坏样例\.xlsx") as refused:
        guided.read_sample(io.BytesIO(b"not a workbook"), "坏样例.xlsx", "xlsx", [], tmp_path)
    assert str(tmp_path) not in refused.value.message  # the node's paths are never shown


# ---------------------------------------------------------------- the API


def _post(
    client: TestClient, headers: dict[str, str], content: bytes, filename: str = "样例.csv"
) -> Response:
    return client.post(
        "/api/v1/collection/guided-sample",
        params={"resource": "测试人口信息", "filename": filename},
        content=content,
        headers={**headers, "Content-Type": "text/csv"},
    )


def test_the_api_reads_a_sample_and_suggests_columns(
    db: Database, client: TestClient, tmp_path: Path
) -> None:
    setup(db)
    headers = factories.login(client, "ga.steward")
    content = write_csv(
        tmp_path / "样例.csv", [[ZHANG, "张三", "0", "是", "北京"]], encoding="gbk", header=HEADER
    )
    response = _post(client, headers, content.read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sample"]["kind"] == "csv" and body["sample"]["columns"] == HEADER
    assert body["sample"]["rows"] == [[ZHANG, "张三", "0", "是", "北京"]]
    assert body["suggested"] == {"gmsfhm": "公民身份号码", "xm": "姓名", "xb": "性 别", "sfyx": "SFYX"}


def test_the_api_refuses_what_it_cannot_read(db: Database, client: TestClient) -> None:
    setup(db)
    headers = factories.login(client, "ga.steward")
    wrong = _post(client, headers, b"a,b\n1,2\n", filename="样例.pdf")
    assert wrong.status_code == 422 and "样例文件须为" in wrong.text
    broken = _post(client, headers, b"not a workbook", filename="样例.xlsx")
    assert broken.status_code == 422 and "样例文件无法读取" in broken.text


def test_only_who_collects_into_the_resource_reads_a_sample(db: Database, client: TestClient) -> None:
    setup(db)
    other_department = _post(client, factories.login(client, "mz.admin"), b"a,b\n1,2\n")
    assert other_department.status_code == 403, other_department.text
    reader = _post(client, factories.login(client, "auditor"), b"a,b\n1,2\n")
    assert reader.status_code == 403, reader.text
    key = factories.application_key(db, "ga-push", "GA", scopes=[Permission.COLLECTION_PUSH])
    system = _post(client, factories.bearer(key), b"a,b\n1,2\n")
    assert system.status_code == 403, system.text
