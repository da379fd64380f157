"""The department Excel template (目录编制模板): download, fill, import all-or-nothing with every error named
by sheet, row and column, export and round trip, hostile uploads, department scope; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from typer.testing import CliRunner

from govshare.auth.actor import Actor
from govshare.catalog import excel, excel_service
from govshare.catalog.schemas import ResourceDefinition
from govshare.cli.main import app as cli_app
from govshare.core.db import Database
from govshare.models import Resource
from govshare.web.problems import PROBLEM_TYPE
from tests import factories

XLSX = excel.XLSX_MEDIA_TYPE
ENUMERATED = {
    excel.RESOURCES: [
        "资源分类",
        "基础类别",
        "主题",
        "格式分类",
        "共享类型",
        "共享方式",
        "是否向社会开放",
        "更新周期",
        "安全级别",
    ],
    excel.ITEMS: ["数据类型", "是否主键", "是否可为空", "是否基础信息项", "共享类型", "安全级别", "脱敏规则"],
}

# Two resources as a department fills them in: Chinese labels and aliases, numbers where Excel makes them
# (项 typed as 1 in a General cell), items of the second resource interleaved with the first's.
RESOURCES = [
    {
        "资源序号": 1,
        "信息资源名称": "人口基本信息",
        "提供方代码": "GA",
        "摘要": "全市户籍人口和常住人口的基本信息",
        "资源分类": "基础",
        "基础类别": "人口",
        "类": 1,
        "项": 1,
        "目": 1.0,
        "格式分类": "数据库",
        "格式类型": "PostgreSQL",
        "共享类型": "有条件共享",
        "共享条件": "仅限于公安、民政、人社等部门用于身份核验",
        "共享方式": "接口、数据库",
        "是否向社会开放": "否",
        "更新周期": "实时",
        "法律依据": "《中华人民共和国居民身份证法》",
        "安全级别": "重要",
    },
    {
        "资源序号": 2,
        "信息资源名称": "机动车驾驶证信息",
        "提供方代码": "GA",
        "摘要": "机动车驾驶证的核发与有效期信息",
        "资源分类": "部门",
        "类": "3",
        "项": "02",
        "目": "005",
        "格式分类": "电子表格",
        "格式类型": "xlsx",
        "共享类型": "无条件",
        "共享方式": "文件",
        "更新周期": "每月",
    },
]
ITEMS = [
    {
        "资源序号": 1,
        "序号": 1,
        "信息项名称": "公民身份号码",
        "字段名": "gmsfhm",
        "数据类型": "字符型",
        "长度": 18,
        "是否主键": "是",
        "是否可为空": "否",
        "是否基础信息项": "是",
        "共享类型": "无条件共享",
        "安全级别": "重要",
        "脱敏规则": "证件号码",
        "数据元/代码集": "GB 11643",
    },
    {"资源序号": 2, "序号": 2, "信息项名称": "准驾车型", "字段名": "zjcx", "数据类型": "字符型", "长度": 10},
    {
        "资源序号": 1,
        "序号": 2,
        "信息项名称": "姓名",
        "字段名": "xm",
        "数据类型": "字符型",
        "长度": 50,
        "是否基础信息项": "是",
        "共享类型": "无条件共享",
        "脱敏规则": "姓名",
    },
    {
        "资源序号": 2,
        "序号": 1,
        "信息项名称": "驾驶证号",
        "字段名": "jszh",
        "数据类型": "字符型",
        "长度": 18,
        "是否主键": "是",
    },
    {"资源序号": 1, "序号": 3, "信息项名称": "出生日期", "字段名": "csrq", "数据类型": "日期型"},
    {"资源序号": 2, "序号": 3, "信息项名称": "有效期至", "字段名": "yxqz", "数据类型": "D"},
]


# ---------------------------------------------------------------- helpers


def fill(template: bytes, resources: list[dict[str, Any]], items: list[dict[str, Any]]) -> bytes:
    """The template filled with openpyxl, by header, as a department would in Excel."""
    workbook = load_workbook(io.BytesIO(template))
    for name, rows in ((excel.RESOURCES, resources), (excel.ITEMS, items)):
        sheet = workbook[name]
        columns = {cell.value: cell.column for cell in sheet[1]}
        for number, row in enumerate(rows, start=2):
            for header, value in row.items():
                sheet.cell(row=number, column=columns[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def post(client: TestClient, headers: dict[str, str], data: bytes, **params: Any) -> Response:
    return client.post(
        "/api/v1/catalog/import.xlsx",
        params=params,
        content=data,
        headers={**headers, "Content-Type": XLSX},
    )


def resource_count(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(Resource)) or 0)


def errors_of(response: Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith(PROBLEM_TYPE), response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def assert_problem(response: Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_TYPE)
    body: dict[str, Any] = response.json()
    assert body["code"] and body["detail"]
    return body


@pytest.fixture
def steward(client: TestClient, db: Database) -> dict[str, str]:
    factories.city(db)
    return factories.login(client, "ga.steward")


@pytest.fixture
def template(client: TestClient, steward: dict[str, str]) -> bytes:
    response = client.get("/api/v1/catalog/template.xlsx")
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def filled(template: bytes) -> bytes:
    return fill(template, RESOURCES, ITEMS)


# ---------------------------------------------------------------- the template


def test_the_template_has_both_sheets_headers_drop_downs_and_text_code_columns(
    client: TestClient, steward: dict[str, str]
) -> None:
    response = client.get("/api/v1/catalog/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="catalog-template.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "目录编制模板.xlsx"

    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:3] == [excel.RESOURCES, excel.ITEMS, excel.HELP]
    assert workbook[excel.LISTS].sheet_state == "hidden"
    resources, items = workbook[excel.RESOURCES], workbook[excel.ITEMS]
    assert [c.value for c in resources[1]] == list(excel.RESOURCE_HEADERS)
    assert [c.value for c in items[1]] == list(excel.ITEM_HEADERS)
    assert excel.RESOURCE_HEADERS[:6] == (
        "资源序号",
        "信息资源名称",
        "提供方代码",
        "信息资源代码",
        "摘要",
        "资源分类",
    )
    assert excel.ITEM_HEADERS[-1] == "数据元/代码集"
    assert (resources.freeze_panes, items.freeze_panes) == ("C2", "D2")

    for sheet in (resources, items):
        headers = [c.value for c in sheet[1]]
        lists = {
            str(dv.sqref).split(":")[0].rstrip("0123456789"): dv
            for dv in sheet.data_validations.dataValidation
            if dv.type == "list"
        }
        for header in ENUMERATED[sheet.title]:
            letter = get_column_letter(headers.index(header) + 1)
            assert letter in lists, f"{sheet.title}「{header}」has no drop-down"
            assert lists[letter].formula1.startswith(f"'{excel.LISTS}'!")
        assert len(lists) == len(ENUMERATED[sheet.title])

    options = workbook[excel.LISTS]
    columns = {
        c.value: [r[0].value for r in options.iter_rows(min_row=2, min_col=c.column, max_col=c.column)]
        for c in options[1]
    }
    assert [v for v in columns["安全级别"] if v] == ["一般", "重要", "核心"]  # the jurisdiction's scale
    assert [v for v in columns["共享类型"] if v] == ["无条件共享", "有条件共享", "不予共享"]

    for header in ("类", "项", "目", "细目", "提供方代码", "信息资源代码"):
        letter = get_column_letter(excel.RESOURCE_HEADERS.index(header) + 1)
        assert resources.column_dimensions[letter].number_format == "@", header
    assert resources.column_dimensions["B"].width >= 20
    assert workbook[excel.HELP]["A1"].value.startswith("政务信息资源目录编制模板")
    assert excel.parse_workbook(response.content) == (
        [],
        [excel.CellError(excel.RESOURCES, None, None, "没有填写任何信息资源")],
    )


def test_an_application_key_with_catalog_read_downloads_the_template(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    key = factories.application_key(db, "ga-app", "GA")
    response = client.get("/api/v1/catalog/template.xlsx", headers=factories.bearer(key))
    assert response.status_code == 200
    assert client.get("/api/v1/catalog/template.xlsx").status_code == 401


# ---------------------------------------------------------------- importing


def test_a_steward_imports_the_filled_template_as_drafts(
    client: TestClient, db: Database, steward: dict[str, str], filled: bytes
) -> None:
    response = post(client, steward, filled)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"], report["published"]) == (2, 0, 0, 0)
    assert [r["name"] for r in report["resources"]] == ["人口基本信息", "机动车驾驶证信息"]

    listed = client.get("/api/v1/catalog/resources", params={"department": "GA"}).json()
    by_name = {r["name"]: r for r in listed}
    population = by_name["人口基本信息"]
    assert population["status"] == "new" and population["current"] is None
    assert population["pending"]["state"] == "draft"
    definition = population["pending"]["definition"]
    assert definition["classification"] == {
        "category": "基础", "kind": "人口", "class": "1", "item": "01", "catalog": "001",
    }  # fmt: skip
    assert definition["share"] == {
        "type": "有条件共享",
        "condition": "仅限于公安、民政、人社等部门用于身份核验",
        "methods": ["接口", "数据库"],
    }
    assert [i["field"] for i in definition["items"]] == ["gmsfhm", "xm", "csrq"]
    first = definition["items"][0]
    assert (first["type"], first["length"], first["key"], first["nullable"]) == ("C", 18, True, False)
    assert (first["share"], first["mask"], first["standard"]) == ("无条件共享", "证件号码", "GB 11643")
    licence = by_name["机动车驾驶证信息"]["pending"]["definition"]
    assert licence["classification"]["item"] == "02"
    assert [i["field"] for i in licence["items"]] == ["jszh", "zjcx", "yxqz"]  # ordered by 序号
    assert licence["grade"] == "一般"

    again = post(client, steward, filled)  # importing the same file again changes nothing
    assert again.json()["unchanged"] == 2
    assert resource_count(db) == 2


def test_a_steward_may_not_publish_through_the_import(
    client: TestClient, db: Database, steward: dict[str, str], filled: bytes
) -> None:
    response = post(client, steward, filled, publish="true")
    assert_problem(response, 403)
    assert resource_count(db) == 0


def test_published_resources_export_and_round_trip(
    client: TestClient, db: Database, steward: dict[str, str], filled: bytes
) -> None:
    with db.transaction() as session:
        report = excel_service.import_workbook(session, Actor.system("test:excel"), filled, publish=True)
    assert (report.created, report.published) == (2, 2)
    assert all(o.code for o in report.resources)

    response = client.get("/api/v1/catalog/export.xlsx", params={"department": "GA"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "信息资源目录-GA-" in unquote(response.headers["content-disposition"])
    definitions, problems = excel.parse_workbook(response.content)
    assert problems == []

    exported = client.get("/api/v1/catalog/export", params={"department": "GA"}).json()["resources"]

    def canonical(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [ResourceDefinition.model_validate(d).model_dump(mode="json") for d in items]

    assert canonical(definitions) == canonical(exported)
    assert [d["code"] for d in definitions] == [o.code for o in report.resources]
    assert definitions[0]["classification"]["item"] == "01"
    sheet = load_workbook(io.BytesIO(response.content))[excel.ITEMS]
    assert sheet["E2"].value == "字符型"  # labels, not letter codes

    again = post(client, steward, response.content)
    assert again.status_code == 200, again.text
    assert {k: again.json()[k] for k in ("created", "updated", "unchanged", "published")} == {
        "created": 0, "updated": 0, "unchanged": 2, "published": 0,
    }  # fmt: skip

    # editing the export makes a new draft version of the published resource
    workbook = load_workbook(io.BytesIO(response.content))
    workbook[excel.RESOURCES]["E2"] = "修改后的摘要"
    buffer = io.BytesIO()
    workbook.save(buffer)
    edited = post(client, steward, buffer.getvalue()).json()
    assert (edited["updated"], edited["unchanged"]) == (1, 1)
    assert resource_count(db) == 2


def test_every_error_is_named_by_sheet_row_and_column_and_nothing_is_imported(
    client: TestClient, db: Database, steward: dict[str, str], template: bytes
) -> None:
    good = RESOURCES[1]
    resources = [
        {**RESOURCES[0], "共享类型": "随便共享"},
        {**good, "资源序号": 2, "信息资源名称": None},
        {**good, "资源序号": 3, "信息资源名称": "有条件无条件说明", "共享类型": "有条件"},
        {**good, "资源序号": 4, "信息资源名称": "完全正确的资源"},
    ]
    items = [
        {**ITEMS[0]},
        {**ITEMS[3], "资源序号": 2},
        {**ITEMS[3], "资源序号": 3},
        {**ITEMS[1], "资源序号": 3, "长度": None},
        {**ITEMS[3], "资源序号": 4},
        {**ITEMS[1], "资源序号": 9},
    ]
    response = post(client, steward, fill(template, resources, items))
    body = assert_problem(response, 422)
    assert body["code"] == "invalid_input"
    errors = errors_of(response)
    assert "随便共享" in errors["「信息资源」第 2 行「共享类型」"]
    assert errors["「信息资源」第 3 行「信息资源名称」"] == "必填，不能为空"
    assert "共享条件" in errors["「信息资源」第 4 行「共享条件」"]
    assert errors["「信息项」第 5 行「长度」"] == "字符型信息项须填写长度"
    assert errors["「信息项」第 7 行「资源序号」"] == "资源序号“9”在「信息资源」表中不存在"
    assert len(errors) == 5, errors
    assert "未导入任何内容" in body["detail"]
    assert resource_count(db) == 0


def test_structural_errors_are_reported_before_anything_is_written(
    client: TestClient, db: Database, steward: dict[str, str], template: bytes
) -> None:
    resources = [
        RESOURCES[0],
        {**RESOURCES[1], "项": 1.5, "类": 12},
        {**RESOURCES[1], "资源序号": 1, "信息资源名称": "重复序号"},
        {**RESOURCES[1], "资源序号": 3, "信息资源名称": "没有信息项", "是否向社会开放": "也许"},
    ]
    items = [*ITEMS[:5], {**ITEMS[5], "长度": "很长", "字段名": "Bad Name"}]
    errors = errors_of(post(client, steward, fill(template, resources, items)))
    assert errors == {
        "「信息资源」第 3 行「类」": "应为 1 位数字（1–9）",
        "「信息资源」第 3 行「项」": "应为数字代码（不能有小数或负号），建议把单元格设为文本格式",
        "「信息资源」第 4 行「资源序号」": "资源序号“1”与第 2 行重复",
        "「信息资源」第 5 行「资源序号」": "资源序号“3”在「信息项」表中没有信息项",
        "「信息资源」第 5 行「是否向社会开放」": "“也许”应为“是”或“否”",
        "「信息项」第 7 行「字段名」": "应以小写字母开头，只含小写字母、数字和下划线，最长 64 个字符",
        "「信息项」第 7 行「长度」": "应为正整数",
    }
    assert resource_count(db) == 0


def test_errors_found_while_applying_are_put_back_on_their_cells(
    client: TestClient, db: Database, steward: dict[str, str], template: bytes
) -> None:
    resources = [RESOURCES[0], {**RESOURCES[1], "信息资源代码": "GA-NOPE-1"}]
    errors = errors_of(post(client, steward, fill(template, resources, ITEMS)))
    assert list(errors) == ["「信息资源」第 3 行「信息资源代码」"]
    assert "不存在" in errors["「信息资源」第 3 行「信息资源代码」"]
    assert resource_count(db) == 0


def test_two_rows_for_the_same_resource_are_refused(
    client: TestClient, db: Database, steward: dict[str, str], template: bytes
) -> None:
    resources = [RESOURCES[0], {**RESOURCES[1], "信息资源名称": RESOURCES[0]["信息资源名称"]}]
    errors = errors_of(post(client, steward, fill(template, resources, ITEMS)))
    assert errors == {
        "「信息资源」第 3 行「信息资源名称」": "与第 2 行的信息资源提供方与名称相同，同一资源只能填写一行"
    }
    assert resource_count(db) == 0


def test_business_rules_on_items_point_at_the_item_row(
    client: TestClient, db: Database, steward: dict[str, str], template: bytes
) -> None:
    items = [{**ITEMS[0], "共享类型": "有条件"}, *ITEMS[1:]]  # a base item of 人口 must be 无条件
    items[5] = {**items[5], "安全级别": "绝密"}  # not on this jurisdiction's scale
    errors = errors_of(post(client, steward, fill(template, RESOURCES, items)))
    assert "须无条件共享" in errors["「信息项」第 2 行「共享类型」"]
    assert "不是有效的安全级别" in errors["「信息项」第 7 行「安全级别」"]
    assert len(errors) == 2
    assert resource_count(db) == 0


def test_a_steward_cannot_import_another_departments_resources(
    client: TestClient, db: Database, steward: dict[str, str], template: bytes
) -> None:
    resources = [RESOURCES[0], {**RESOURCES[1], "提供方代码": "MZ"}]
    response = post(client, steward, fill(template, resources, ITEMS))
    assert assert_problem(response, 403)["code"] == "permission_denied"
    assert resource_count(db) == 0

    unknown = [RESOURCES[0], {**RESOURCES[1], "提供方代码": "NOPE"}]
    errors = errors_of(post(client, steward, fill(template, unknown, ITEMS)))
    assert errors == {"「信息资源」第 3 行「提供方代码」": "提供方部门“NOPE”不存在"}


# ---------------------------------------------------------------- hostile uploads


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info.filename))
    return buffer.getvalue()


def _empty_workbook() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def test_hostile_uploads_get_a_problem_never_a_500(
    client: TestClient, db: Database, steward: dict[str, str], filled: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = {
        "random bytes": random.Random(7).randbytes(4096),
        "csv": "资源序号,信息资源名称\n1,人口基本信息\n".encode(),
        "truncated xlsx": filled[: len(filled) // 2],
        "empty body": b"",
        "old xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "zip without a workbook": _replace_part(filled, "xl/workbook.xml", b"not xml"),
        "corrupt sheet": _replace_part(filled, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row"),
        "empty workbook": _empty_workbook(),
    }
    for name, data in uploads.items():
        response = post(client, steward, data)
        body = assert_problem(response, 422)
        assert body["errors"], name
    empty = errors_of(post(client, steward, uploads["empty workbook"]))
    assert empty == {
        "「信息资源」": "缺少工作表「信息资源」：请使用平台提供的目录编制模板",
        "「信息项」": "缺少工作表「信息项」：请使用平台提供的目录编制模板",
    }
    assert "另存为" in errors_of(post(client, steward, uploads["old xls"]))["文件"]

    for content_type in ("text/csv", "application/json", "application/octet-stream", ""):
        response = client.post(
            "/api/v1/catalog/import.xlsx", content=filled, headers={**steward, "Content-Type": content_type}
        )
        assert assert_problem(response, 415)["code"] == "unsupported_media_type"
    multipart = client.post(
        "/api/v1/catalog/import.xlsx", files={"file": ("a.xlsx", filled, XLSX)}, headers=steward
    )
    assert_problem(multipart, 415)

    monkeypatch.setattr(excel, "MAX_UPLOAD_BYTES", 1000)
    assert assert_problem(post(client, steward, filled), 413)["code"] == "payload_too_large"
    chunked = client.post(  # no Content-Length: the limit holds while streaming
        "/api/v1/catalog/import.xlsx",
        content=iter([filled[:800], filled[800:]]),
        headers={**steward, "Content-Type": XLSX},
    )
    assert_problem(chunked, 413)
    monkeypatch.setattr(excel, "MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    monkeypatch.setattr(excel, "MAX_UNCOMPRESSED_BYTES", 10_000)  # as a zip bomb would exceed it
    assert "解压后" in errors_of(post(client, steward, filled))["文件"]
    monkeypatch.setattr(excel, "MAX_UNCOMPRESSED_BYTES", 512 * 1024 * 1024)
    monkeypatch.setattr(excel, "MAX_RESOURCES", 1)
    assert "信息资源超过 1 行" in errors_of(post(client, steward, filled))["「信息资源」第 3 行"]
    assert resource_count(db) == 0


def test_routes_refuse_callers_without_the_permission(
    client: TestClient, db: Database, filled: bytes
) -> None:
    client.cookies.clear()  # `filled` downloaded the template as the steward
    anonymous = client.post(
        "/api/v1/catalog/import.xlsx", content=filled, headers={"Content-Type": "text/csv"}
    )
    assert anonymous.status_code == 401  # the caller is checked before the body is looked at
    key = factories.application_key(db, "ga-app", "GA")
    refused = client.post(
        "/api/v1/catalog/import.xlsx", content=filled, headers={**factories.bearer(key), "Content-Type": XLSX}
    )
    assert assert_problem(refused, 403)["code"] == "permission_denied"
    assert resource_count(db) == 0


# ---------------------------------------------------------------- the parser on its own


def test_parse_restores_codes_reads_booleans_and_tolerates_reordered_columns() -> None:
    workbook = Workbook()
    resources = workbook.active
    resources.title = excel.RESOURCES
    headers = [
        "备注",
        "类",
        "项",
        "目",
        "细目",
        *excel.RESOURCE_HEADERS[:8],
        "共享类型(三选一)",
        "格式分类*",
        "更新周期",
    ]
    resources.append(headers)
    resources.append(
        [
            "随手记",
            2,
            3.0,
            12,
            7,
            "A-1",
            "名称",
            "GA",
            None,
            "摘要",
            "主题",
            None,
            "社会保障",
            "无条件",
            "数据库",
            "每年",
        ]
    )
    items = workbook.create_sheet(excel.ITEMS)
    items.append(list(excel.ITEM_HEADERS))
    items.append(["A-1", None, "编号", "bh", "字符型", 20.0, "是", False, "否", None, None, None, None])
    items.append([None] * 13)  # blank rows are skipped
    items.append(["A-1", None, "金额", "je", "货币型", None, 0, True, None, None, None, None, 12345])
    buffer = io.BytesIO()
    workbook.save(buffer)

    definitions, errors = excel.parse_workbook(buffer.getvalue())
    assert errors == []
    assert definitions == [
        {
            "name": "名称",
            "provider": "GA",
            "summary": "摘要",
            "classification": {
                "class": "2",
                "item": "03",
                "catalog": "012",
                "detail": "7",
                "category": "主题",
                "theme": "社会保障",
            },
            "format": {"category": "数据库"},
            "share": {"type": "无条件"},
            "update_cycle": "每年",
            "items": [
                {
                    "name": "编号",
                    "field": "bh",
                    "type": "字符型",
                    "length": 20,
                    "key": True,
                    "nullable": False,
                    "base": False,
                },
                {
                    "name": "金额",
                    "field": "je",
                    "type": "货币型",
                    "key": False,
                    "nullable": True,
                    "standard": "12345",
                },
            ],
        }
    ]
    ResourceDefinition.model_validate(definitions[0])


def test_parse_reports_missing_sheets_and_headers() -> None:
    workbook = Workbook()
    workbook.active.title = excel.RESOURCES
    workbook.active.append(["资源序号", "信息资源名称"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _, errors = excel.parse_workbook(buffer.getvalue())
    assert [str(e) for e in errors] == ["「信息项」：缺少工作表「信息项」：请使用平台提供的目录编制模板"]

    items = workbook.create_sheet(excel.ITEMS)
    items.append(list(excel.ITEM_HEADERS))
    buffer = io.BytesIO()
    workbook.save(buffer)
    _, errors = excel.parse_workbook(buffer.getvalue())
    assert {e.column for e in errors} == {
        "提供方代码",
        "资源分类",
        "类",
        "项",
        "目",
        "格式分类",
        "共享类型",
        "更新周期",
    }
    assert all(e.row == 1 and e.field.startswith("「信息资源」第 1 行「") for e in errors)


def test_formulas_in_exported_text_stay_text() -> None:
    definition = ResourceDefinition.model_validate(
        {
            "name": '=HYPERLINK("http://x")',
            "provider": "GA",
            "summary": "=1+1",
            "classification": {"category": "部门", "class": "1", "item": "01", "catalog": "001"},
            "format": {"category": "数据库"},
            "share": {"type": "无条件", "methods": ["接口"]},
            "update_cycle": "每日",
            "items": [{"name": "=A1", "field": "a", "type": "C", "length": 1, "key": True}],
        }
    ).model_dump(by_alias=True)
    data = excel.build_template([definition], ["一般", "重要"])
    sheet = load_workbook(io.BytesIO(data))[excel.RESOURCES]
    assert (sheet["B2"].value, sheet["B2"].data_type) == ('=HYPERLINK("http://x")', "s")
    definitions, errors = excel.parse_workbook(data)
    assert errors == []
    assert definitions[0]["name"] == '=HYPERLINK("http://x")'
    assert definitions[0]["items"][0]["name"] == "=A1"


# ---------------------------------------------------------------- the command line

runner = CliRunner()


@pytest.fixture
def cli_city(cli_env: None, db: Database) -> None:
    factories.city(db)


@pytest.mark.usefixtures("cli_city")
def test_the_command_line_writes_imports_and_exports(db: Database, tmp_path: Path) -> None:
    template = tmp_path / "模板.xlsx"
    result = runner.invoke(cli_app, ["catalog", "template", str(template)])
    assert result.exit_code == 0, result.output
    assert load_workbook(template).sheetnames[:2] == [excel.RESOURCES, excel.ITEMS]

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(fill(template.read_bytes(), [{**RESOURCES[0], "目": None}, RESOURCES[1]], ITEMS))
    result = runner.invoke(cli_app, ["catalog", "import", str(broken)])
    assert result.exit_code == 1
    assert "「信息资源」第 2 行「目」：必填，不能为空" in result.output
    result = runner.invoke(cli_app, ["catalog", "import", str(broken), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [
        {"field": "「信息资源」第 2 行「目」", "message": "必填，不能为空"}
    ]
    assert resource_count(db) == 0

    good = tmp_path / "good.xlsx"
    good.write_bytes(fill(template.read_bytes(), RESOURCES, ITEMS))
    result = runner.invoke(cli_app, ["catalog", "import", str(good), "--publish", "--json"])
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["created"], json.loads(result.stdout)["published"]) == (2, 2)

    out = tmp_path / "导出.xlsx"
    result = runner.invoke(cli_app, ["catalog", "export-xlsx", str(out), "--dept", "GA"])
    assert result.exit_code == 0, result.output
    definitions, errors = excel.parse_workbook(out.read_bytes())
    assert errors == [] and len(definitions) == 2
    result = runner.invoke(cli_app, ["catalog", "import", str(out), "--json"])
    assert json.loads(result.stdout)["unchanged"] == 2

    missing = runner.invoke(cli_app, ["catalog", "import", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 2
