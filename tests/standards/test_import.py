"""User code sets and data elements from CSV and Excel, through the service and the API, on SQLite and
PostgreSQL: a good file is imported whole, a file with any error imports nothing."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.auth.actor import Actor
from govshare.core.db import Database
from govshare.errors import Conflict, InvalidInput, PermissionDenied
from govshare.models import Code, CodeSet, DataElement
from govshare.standards import service
from govshare.standards.schemas import CodeSetImport, DataElementCreate
from tests import factories
from tests.standards.test_code_sets import READER

SYSTEM = Actor.system("test:standards")
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GOOD_CSV = "代码,名称,上级代码,生效日期,失效日期,备注\n1,男,,,,\n2,女,,,,\n9,未说明,,2020-01-01,,\n"
BAD_CSV = (
    "代码,名称,上级代码,生效日期\n"
    "1,男,,\n"
    ",女,,\n"  # no code
    "3,其他,7,\n"  # parent not in the file
    "1,男性,,\n"  # duplicate code
    "4,某,,2021-02-29\n"  # impossible date
)


def _count(db: Database, model: type) -> int:
    with db.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_user_code_set_and_a_new_version(db: Database) -> None:
    meta = CodeSetImport(code="GA-XB", version="2015", name="公安性别代码", source="本市公安局")
    with db.transaction() as session:
        report = service.import_code_set(session, SYSTEM, GOOD_CSV.encode("utf-8"), meta)
    assert (report.code_set, report.created_code_set, report.codes) == ("GA-XB", True, 3)
    gbk = "代码,名称\n0,男\n1,女\n".encode("gbk")  # 公安's own 0/1 coding, in a GBK file
    newer = CodeSetImport(code="GA-XB", version="2024", valid_from=date(2024, 1, 1))
    with db.transaction() as session:
        report = service.import_code_set(session, SYSTEM, gbk, newer)
    assert (report.created_code_set, report.codes) == (False, 2)
    with db.transaction(readonly=True) as session:
        code_set = service.get_code_set(session, READER, "GA-XB")
        page = service.list_codes(session, READER, "GA-XB")
        old = service.list_codes(session, READER, "GA-XB", version="2015")
    assert code_set.current_version == "2024"
    assert [(c.code, c.label) for c in page.items] == [("0", "男"), ("1", "女")]
    assert [c.code for c in old.items] == ["1", "2", "9"]
    assert old.items[2].valid_from == date(2020, 1, 1)
    with db.transaction() as session, pytest.raises(Conflict):
        service.import_code_set(session, SYSTEM, gbk, newer)


def test_excel_files_are_read_too(db: Database) -> None:
    data = factories.xlsx_bytes(
        [
            ["代码", "名称", "排序"],
            ["A", "甲", 2],
            ["B", "乙", 1],
            [None, None, None],
            [3, date(2020, 1, 2), 3],
        ]
    )
    with db.transaction() as session:
        report = service.import_code_set(
            session, SYSTEM, data, CodeSetImport(code="T-X", version="1", name="测试")
        )
    assert report.codes == 3
    with db.transaction(readonly=True) as session:
        page = service.list_codes(session, READER, "T-X")
    assert [(c.code, c.label) for c in page.items] == [("B", "乙"), ("A", "甲"), ("3", "2020-01-02")]


def test_a_file_with_errors_imports_nothing(db: Database) -> None:
    before = _count(db, Code), _count(db, CodeSet)
    with db.transaction() as session, pytest.raises(InvalidInput) as raised:
        service.import_code_set(
            session, SYSTEM, BAD_CSV.encode(), CodeSetImport(code="BAD", version="1", name="坏")
        )
    fields = {e.field: e.message for e in raised.value.errors}
    assert fields["第3行“代码”"] == "代码不能为空"
    assert fields["第5行“代码”"] == "代码“1”与第2行重复（有效期重叠）"
    assert "日期不存在" in fields["第6行“生效日期”"]
    assert fields["第4行“上级代码”"] == "上级代码“7”不在本文件中"
    assert "未导入任何内容" in raised.value.message
    assert (_count(db, Code), _count(db, CodeSet)) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xls"),
        (b"PK\x03\x04broken", "不是有效的 Excel"),
        ("名称\n男\n".encode(), "缺少必需的列：代码"),
        (b"\xff\xfe\x00garbage\x81", "无法识别文件编码"),
        ('代码,名称\n1,"未闭合\n'.encode(), "CSV 格式错误"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(db: Database, data: bytes, message: str) -> None:
    with db.transaction() as session, pytest.raises(InvalidInput) as raised:
        service.import_code_set(session, SYSTEM, data, CodeSetImport(code="X1", version="1", name="x"))
    assert message in raised.value.message


def test_only_administrators_edit_standards(db: Database) -> None:
    with db.transaction() as session, pytest.raises(PermissionDenied):
        service.import_code_set(
            session, READER, GOOD_CSV.encode(), CodeSetImport(code="Q1", version="1", name="q")
        )


def test_data_elements(db: Database) -> None:
    element = DataElementCreate(
        identifier="DE0001",
        name="性别代码",
        definition="人的性别",
        data_type="C",
        length=1,
        code_set="GB/T 2261.1",
        validator="code",
        standard_source="GB/T 2261.1-2003",
    )
    with db.transaction() as session:
        created = service.add_data_element(session, SYSTEM, element)
        assert created.code_set is not None and created.code_set.code == "GB-T-2261.1"
    csv_text = (
        "标识符,中文名称,数据类型,长度,代码集,校验规则,标准来源\n"
        "DE0002,公民身份号码,字符型,18,,id_number,GB 11643-1999\n"
        "DE0003,民族代码,C,2,GB-3304,code,GB 3304-1991\n"
    )
    with db.transaction() as session:
        report = service.import_data_elements(session, SYSTEM, csv_text.encode())
    assert report.identifiers == ["DE0002", "DE0003"]
    bad = (
        "标识符,中文名称,数据类型,长度,代码集,校验规则\n"
        "DE0004,好的,C,10,,\n"
        "DE0001,已存在,C,1,,\n"
        "DE0005,类型错,Q,1,,\n"
        "DE0006,没有代码集,C,2,NOPE,code\n"
        "DE0007,规则错,C,2,,nope\n"
    )
    with db.transaction() as session, pytest.raises(InvalidInput) as raised:
        service.import_data_elements(session, SYSTEM, bad.encode())
    messages = " ".join(f"{e.field} {e.message}" for e in raised.value.errors)
    for expected in ("数据元“DE0001”已存在", "data_type", "代码集“NOPE”不存在", "校验规则“nope”不存在"):
        assert expected in messages
    with db.transaction(readonly=True) as session:
        assert [e.identifier for e in service.list_data_elements(session, READER)] == [
            "DE0001",
            "DE0002",
            "DE0003",
        ]
        assert service.get_data_element(session, READER, "DE0003").code_set.code == "GB-3304"  # type: ignore[union-attr]
        assert isinstance(service.resolve_standard_ref(session, READER, "DE0002"), DataElement)
        assert isinstance(service.resolve_standard_ref(session, READER, "GB/T 2260"), CodeSet)
        assert service.resolve_standard_ref(session, READER, "nothing") is None


# --- through the API ---


def test_import_and_read_through_the_api(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")  # 平台管理员 holds standards:edit
    response = client.post(
        "/api/v1/standards/code-sets/import?code=GA-MZ&version=2020&name=公安民族代码",
        content=GOOD_CSV.encode("gbk"),
        headers={**headers, "Content-Type": CSV},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"code_set": "GA-MZ", "version": "2020", "created_code_set": True, "codes": 3}
    response = client.post(
        "/api/v1/standards/code-sets/import?code=GA-MZ2&version=1&name=x",
        content=factories.xlsx_bytes([["代码", "名称"], ["1", "a"], ["1", "b"]]),
        headers={**headers, "Content-Type": XLSX},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert any("重复" in e["message"] for e in body["errors"])
    response = client.post(
        "/api/v1/standards/code-sets/import?code=bad%20code&version=1",
        content=GOOD_CSV.encode(),
        headers={**headers, "Content-Type": CSV},
    )
    assert response.status_code == 422
    response = client.post(
        "/api/v1/standards/code-sets/import?code=X&version=1",
        content=b"{}",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 415

    factories.login(client, "ga.steward")  # a reader: catalog:read only
    sets = client.get("/api/v1/standards/code-sets").json()
    assert {"GA-MZ", "GB-3304"} <= {s["code"] for s in sets}
    assert "GA-MZ2" not in {s["code"] for s in sets}
    page = client.get("/api/v1/standards/code-sets/GB-3304/codes", params={"limit": 10}).json()
    assert [c["label"] for c in page["items"][:3]] == ["汉族", "蒙古族", "回族"]
    assert page["next_after"] == 10
    page2 = client.get("/api/v1/standards/code-sets/GB-3304/codes", params={"after": 10, "limit": 100}).json()
    assert page2["items"][0]["code"] == "11" and page2["next_after"] is None
    found = client.get("/api/v1/standards/code-sets/GB-T-2260/codes/110103").json()
    assert found[0]["valid_to"] == "2010-12-31"
    assert client.get("/api/v1/standards/code-sets/NOPE").status_code == 404
    assert client.get("/api/v1/standards/code-sets/GB-3304/codes/99").status_code == 404
    csrf = factories.login(client, "ga.steward")
    refused = client.post(
        "/api/v1/standards/code-sets/import?code=GA-X&version=1&name=x",
        content=GOOD_CSV.encode(),
        headers={**csrf, "Content-Type": CSV},
    )
    assert refused.status_code == 403


def test_elements_and_validation_through_the_api(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    response = client.post(
        "/api/v1/standards/elements",
        json={
            "identifier": "DE0101",
            "name": "民族",
            "data_type": "C",
            "length": 2,
            "code_set": "GB-3304",
            "validator": "code",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["code_set"] == "GB-3304"
    response = client.post(
        "/api/v1/standards/elements/import",
        content="标识符,中文名称,数据类型\nDE0102,手机号码,C\n".encode(),
        headers={**headers, "Content-Type": CSV},
    )
    assert response.json() == {"created": 1, "identifiers": ["DE0102"]}
    assert client.get("/api/v1/standards/elements/DE0101").json()["name"] == "民族"
    assert [
        e["identifier"] for e in client.get("/api/v1/standards/elements", params={"q": "DE01"}).json()
    ] == [
        "DE0101",
        "DE0102",
    ]
    validators = client.get("/api/v1/standards/validators").json()
    assert {v["name"] for v in validators} >= {"id_number", "uscc", "phone", "date", "number", "code"}
    result = client.post(
        "/api/v1/standards/validate",
        json={"validator": "id_number", "values": ["11010519491231002x", "110105194912310021", "", None]},
        headers=headers,
    ).json()
    assert (result["accepted"], result["rejected"], result["blank"]) == (1, 1, 2)
    assert result["results"][0]["value"] == "11010519491231002X"
    assert result["results"][1]["message"] == "公民身份号码校验码错误"
    result = client.post(
        "/api/v1/standards/validate",
        json={"validator": "code", "code_set": "GB-3304", "values": ["1", "汉族", "HA", "99"]},
        headers=headers,
    ).json()
    assert [r["value"] for r in result["results"]] == ["01", "01", "01", None]
    assert result["results"][3]["message"] == "不在代码集“中国各民族名称代码（GB 3304-1991）”中"
    dates = client.post(
        "/api/v1/standards/validate",
        json={"validator": "date", "values": ["2020年1月2日", "60"]},
        headers=headers,
    ).json()
    assert [r["value"] for r in dates["results"]] == ["2020-01-02", None]
    unknown = client.post(
        "/api/v1/standards/validate", json={"validator": "nope", "values": []}, headers=headers
    )
    assert unknown.status_code == 422
