"""Building catalog definitions for tests."""

from __future__ import annotations

import copy
from typing import Any

from govshare.catalog import service
from govshare.catalog.schemas import ApplyReport, ResourceDefinition
from govshare.core.db import Database
from tests import factories

POPULATION: dict[str, Any] = {
    "name": "人口基本信息",
    "provider": "GA",
    "summary": "全市户籍人口和常住人口的基本信息，用于身份核验和人口统计。",
    "classification": {"category": "基础", "kind": "人口", "class": "1", "item": "01", "catalog": "001"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {
        "type": "有条件",
        "condition": "仅向承担行政审批职能的部门提供，用于身份核验",
        "methods": ["接口"],
    },
    "update_cycle": "实时",
    "grade": "重要",
    "items": [
        {
            "name": "公民身份号码",
            "field": "gmsfhm",
            "type": "C",
            "length": 18,
            "key": True,
            "base": True,
            "share": "无条件",
            "grade": "重要",
            "mask": "证件号码",
            "standard": "GB 11643",
        },
        {
            "name": "姓名",
            "field": "xm",
            "type": "C",
            "length": 50,
            "base": True,
            "share": "无条件",
            "mask": "姓名",
        },
        {"name": "性别", "field": "xb", "type": "C", "length": 1, "base": True, "share": "无条件"},
        {"name": "居住地址", "field": "jzdz", "type": "C", "length": 200},
    ],
}

MARRIAGE: dict[str, Any] = {
    "name": "婚姻登记信息",
    "provider": "MZ",
    "summary": "结婚登记、离婚登记和补领婚姻登记证的信息。",
    "classification": {"category": "主题", "theme": "社会保障", "class": "2", "item": "03", "catalog": "002"},
    "format": {"category": "数据库", "type": "MySQL"},
    "share": {"type": "无条件", "methods": ["接口", "数据库"]},
    "open": {"open": False},
    "update_cycle": "每日",
    "items": [
        {"name": "登记证字号", "field": "djzzh", "type": "C", "length": 30, "key": True},
        {"name": "登记日期", "field": "djrq", "type": "D"},
        {
            "name": "男方公民身份号码",
            "field": "nf_gmsfhm",
            "type": "C",
            "length": 18,
            "grade": "重要",
            "mask": "证件号码",
        },
    ],
}

TAX: dict[str, Any] = {
    "name": "纳税人涉税保密信息",
    "provider": "MZ",
    "summary": "纳税人的商业秘密与个人隐私等涉税保密信息。",
    "classification": {"category": "部门", "class": "3", "item": "11", "catalog": "001"},
    "format": {"category": "数据库", "type": "Oracle"},
    "share": {"type": "不予"},
    "legal_basis": "《中华人民共和国税收征收管理法》第八条",
    "update_cycle": "每月",
    "grade": "核心",
    "items": [
        {"name": "纳税人识别号", "field": "nsrsbh", "type": "C", "length": 20, "key": True, "grade": "核心"},
        {"name": "应纳税额", "field": "ynse", "type": "Y"},
    ],
}


def definition(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(base)
    result.update(changes)
    return result


def apply(db: Database, *definitions: dict[str, Any], publish: bool = True) -> ApplyReport:
    with db.transaction() as session:
        return service.apply_definitions(
            session,
            factories.SYSTEM,
            [ResourceDefinition.model_validate(d) for d in definitions],
            publish=publish,
        )
