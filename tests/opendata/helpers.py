"""A small city for open-data tests: 民政 (MZ) publishes an open resource with three loaded records, whose
items cover every case of the open-data rule; 公安 (GA) has a resource with data that is NOT open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govshare.core.db import Database
from tests import factories
from tests.catalog.helpers import apply
from tests.collection.helpers import ingest
from tests.sharing import helpers as sharing

OPEN_NAME = "开放测试社会组织信息"
OPEN: dict[str, Any] = {
    "name": OPEN_NAME,
    "provider": "MZ",
    "summary": "用于数据开放测试的社会组织登记信息，包括统一社会信用代码、名称、成立日期和注册资金。",
    "classification": {"category": "部门", "class": "3", "item": "05", "catalog": "001"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {"type": "有条件", "condition": "仅向登记管理相关部门提供", "methods": ["接口"]},
    "open": {"open": True, "condition": "无条件开放，使用时请注明来源"},
    "update_cycle": "每月",
    "grade": "重要",
    "items": [
        {
            "name": "统一社会信用代码",
            "field": "tyshxydm",
            "type": "C",
            "length": 18,
            "key": True,
            "share": "无条件",
        },
        {"name": "组织名称", "field": "mc", "type": "C", "length": 100},
        {"name": "法定代表人", "field": "fddbr", "type": "C", "length": 50, "mask": "姓名"},
        {"name": "年度收入", "field": "ndsr", "type": "Y", "share": "不予"},
        {"name": "内部备注", "field": "nbbz", "type": "C", "length": 50, "grade": "重要"},
        {"name": "成立日期", "field": "clrq", "type": "D"},
        {"name": "注册资金（万元）", "field": "zczj", "type": "Y"},
    ],
}
OPENED = ["tyshxydm", "mc", "clrq", "zczj"]
WITHHELD = {"fddbr": "法定代表人", "ndsr": "年度收入", "nbbz": "内部备注"}

MAPPING = f"""
resource: {OPEN_NAME}
mode: full
columns:
  tyshxydm: 代码
  mc: 名称
  fddbr: 法人
  ndsr: 收入
  nbbz: 备注
  clrq: 成立日期
  zczj: 注册资金
"""
HEADER = "代码,名称,法人,收入,备注,成立日期,注册资金"
ROWS = [
    ("52110000MJ0000001A", "示例市助老服务中心", "赵一鸣", "120.5", "机密甲", "2019-05-01", "10"),
    ("52110000MJ0000002B", "=1+1", "钱二丽", "88", "机密乙", "2020-06-15", "3.5"),
    ("52110000MJ0000003C", "示例市青年志愿者协会", "孙三强", "42", "机密丙", "2021-07-20", "50"),
]
SECRETS = ["赵一鸣", "钱二丽", "孙三强", "机密甲", "机密乙", "机密丙", "120.5", "fddbr", "ndsr", "nbbz"]


def setup(db: Database, tmp_path: Path) -> dict[str, str]:
    """The city, the open resource with its records, and the non-open 人口 resource with its records.
    Returns {"open": code, "closed": code}."""
    factories.city(db)
    apply(db, OPEN, sharing.PEOPLE)
    path = tmp_path / "orgs.csv"
    path.write_text(HEADER + "\n" + "\n".join(",".join(r) for r in ROWS) + "\n", encoding="utf-8")
    ingest(db, path, MAPPING)
    ingest(db, sharing.write_people(tmp_path / "people.csv"), sharing.MAPPING)
    return {"open": sharing.resource_code(db, OPEN_NAME), "closed": sharing.resource_code(db)}
