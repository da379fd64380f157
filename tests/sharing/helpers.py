"""A small city for sharing tests: 公安 (GA) provides a 有条件 population resource with loaded records;
民政 (MZ) consumes it through its application; the bureau (DSJ) supervises and audits."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.auth.permissions import Role
from govshare.core.clock import BEIJING, utcnow
from govshare.core.db import Database
from govshare.models import Resource, ResourceVersion
from tests import factories
from tests.catalog.helpers import apply
from tests.collection.helpers import ingest, person_id
from tests.scenarios import seeded

RESOURCE_NAME = "共享测试人口信息"

PEOPLE: dict[str, Any] = {
    "name": RESOURCE_NAME,
    "provider": "GA",
    "summary": "用于共享测试的人口信息，包括身份号码、姓名、性别、手机号码、居住地址、所在区县和政治面貌。",
    "classification": {"category": "部门", "class": "3", "item": "02", "catalog": "001"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {
        "type": "有条件",
        "condition": "仅向承担社会救助职能的部门提供，用于资格审核",
        "methods": ["接口"],
    },
    "update_cycle": "每日",
    "grade": "重要",
    "items": [
        {
            "name": "公民身份号码",
            "field": "gmsfhm",
            "type": "C",
            "length": 18,
            "key": True,
            "nullable": False,
            "standard": "GB 11643",
            "share": "无条件",
            "grade": "重要",
            "mask": "证件号码",
        },
        {"name": "姓名", "field": "xm", "type": "C", "length": 20, "mask": "姓名", "share": "无条件"},
        {"name": "性别", "field": "xb", "type": "C", "length": 1},
        {"name": "手机号码", "field": "sjhm", "type": "C", "length": 11, "mask": "手机号码"},
        {"name": "居住地址", "field": "jzdz", "type": "C", "length": 100, "mask": "部分遮盖"},
        {"name": "所在区县", "field": "qx", "type": "C", "length": 6},
        {"name": "出生日期", "field": "csrq", "type": "D"},
        {"name": "政治面貌", "field": "zzmm", "type": "C", "length": 2, "share": "不予"},
    ],
}

MAPPING = f"""
resource: {RESOURCE_NAME}
mode: full
columns:
  gmsfhm: 身份证号
  xm: 姓名
  xb: 性别
  sjhm: 手机
  jzdz: 地址
  qx: 区县
  csrq: 出生日期
  zzmm: 政治面貌
"""

ZHANG = person_id("19900307", 123, "110105")  # 东城
LI = person_id("19851120", 246, "110106")  # 丰台
WANG = person_id("19780101", 357, "110105")
PEOPLE_ROWS = [
    (ZHANG, "张三", "1", "13800138000", "北京市东城区东华门街道1号", "110105", "1990-03-07", "01"),
    (LI, "李四", "2", "13900139000", "北京市丰台区卢沟桥街道2号", "110106", "1985-11-20", "13"),
    (WANG, "王五", "1", "13700137000", "北京市东城区景山街道3号", "110105", "1978-01-01", "13"),
]
HEADER = ["身份证号", "姓名", "性别", "手机", "地址", "区县", "出生日期", "政治面貌"]
PURPOSE_TEXT = "低保资格审核 MZ-2026-0815"
OPERATOR_TEXT = "民政经办人赵六"
# HTTP header values are bytes; Chinese travels percent-encoded (UTF-8), as the API documents.
PURPOSE = {"X-Purpose": quote(PURPOSE_TEXT), "X-Operator": quote(OPERATOR_TEXT)}


def write_people(path: Path, rows: list[tuple[str, ...]] = PEOPLE_ROWS) -> Path:
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def setup(db: Database, tmp_path: Path) -> dict[str, str]:
    """The city, the published resource with three loaded records, and keys of the consuming (MZ) and a
    third (RS, 人社) application. Returns {"mz": key, "rs": key, "ga": key}. Built once per session and
    database kind, copied into later tests' databases (`tests/scenarios.py`)."""
    people = write_people(tmp_path / "people.csv")
    return seeded(db, "sharing.setup", lambda: _build(db, people))


def _build(db: Database, people: Path) -> dict[str, str]:
    factories.city(db)
    factories.department(db, "RS", "测试市人社局", parent="DSJ")
    factories.user(db, "reviewer", "DSJ", Role.CATALOG_REVIEWER)
    factories.user(db, "mz.user", "MZ", Role.DATA_USER)
    factories.user(db, "rs.admin", "RS", Role.DEPARTMENT_ADMIN)
    apply(db, PEOPLE)
    ingest(db, people, MAPPING)
    return {
        "mz": factories.application_key(db, "mz-dbsh", "MZ"),
        "rs": factories.application_key(db, "rs-shbz", "RS"),
        "ga": factories.application_key(db, "ga-rkgl", "GA"),
    }


def resource_code(db: Database, name: str = RESOURCE_NAME) -> str:
    with db.transaction(readonly=True) as session:
        code = session.scalars(
            select(Resource.code).join(ResourceVersion).where(ResourceVersion.name == name)
        ).first()
    assert code
    return code


def today() -> date:
    return utcnow().astimezone(BEIJING).date()


def application_body(code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "application": "mz-dbsh",
        "resource": code,
        "purpose_kind": "data_check",
        "purpose": "最低生活保障对象资格审核",
        "basis": "《社会救助暂行办法》第十一条",
        "items": ["gmsfhm", "xm", "sjhm", "jzdz", "qx"],
        "clear_items": [],
        "row_scope": {},
        "period_start": today().isoformat(),
        "period_end": (today() + timedelta(days=180)).isoformat(),
        "requests_per_day": 1000,
        "rows_per_day": 10000,
    }
    body.update(overrides)
    return body


def approved_grant(client: TestClient, code: str, **decision: Any) -> str:
    """MZ applies, GA approves: returns the request number."""
    headers = factories.login(client, "mz.admin")
    filed = client.post("/api/v1/sharing/requests", json=application_body(code), headers=headers)
    assert filed.status_code == 201, filed.text
    number = str(filed.json()["number"])
    headers = factories.login(client, "ga.admin")
    answer = client.post(
        f"/api/v1/sharing/requests/{number}/decision",
        json={"decision": "approve", **decision},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    return number
