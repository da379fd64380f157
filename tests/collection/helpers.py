"""A population resource and mappings for collection tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govshare.auth.actor import Actor
from govshare.collection import jobs, service
from govshare.collection.mapping import load_mapping
from govshare.collection.schemas import BatchOut
from govshare.core.db import Database
from govshare.standards import validators
from tests import factories
from tests.catalog.helpers import apply

OPERATOR = Actor.system("test:collection")

PEOPLE: dict[str, Any] = {
    "name": "测试人口信息",
    "provider": "GA",
    "summary": "用于归集测试的人口基本信息，包括身份号码、姓名、性别、出生日期、地址和更新时间。",
    "classification": {"category": "部门", "class": "3", "item": "02", "catalog": "001"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {
        "type": "有条件",
        "condition": "仅向承担行政审批职能的部门提供，用于身份核验",
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
            "grade": "重要",
            "mask": "证件号码",
        },
        {"name": "姓名", "field": "xm", "type": "C", "length": 20, "mask": "姓名"},
        {"name": "性别", "field": "xb", "type": "C", "length": 1, "standard": "GB/T 2261.1"},
        {"name": "出生日期", "field": "csrq", "type": "D"},
        {"name": "居住地址", "field": "jzdz", "type": "C", "length": 100},
        {"name": "家庭人数", "field": "jtrs", "type": "I"},
        {"name": "是否有效", "field": "sfyx", "type": "L"},
        {"name": "更新时间", "field": "gxsj", "type": "T"},
    ],
}

MAPPING = """
resource: 测试人口信息
mode: full
cursor: gxsj
columns:
  gmsfhm: 身份证号
  xm: {from: 姓名, normalize: text}
  xb: {from: 性别, map: {"0": "1", "1": "2"}}
  csrq: 出生日期
  jzdz: 地址
  gxsj: 更新时间
warnings: [sex_vs_id, birth_vs_id]
"""

HEADER = ["身份证号", "姓名", "性别", "出生日期", "地址", "更新时间"]


def person_id(birth: str, sequence: int, area: str = "110105") -> str:
    """A valid 18-digit number: odd sequence = male."""
    body = f"{area}{birth}{sequence:03d}"
    return body + validators.id_check_digit(body)


def setup(db: Database) -> None:
    factories.city(db)
    apply(db, PEOPLE)


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", header: list[str] | None = None
) -> Path:
    lines = [",".join(header or HEADER)] + [",".join(r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def ingest(
    db: Database,
    path: Path | None,
    mapping: str = MAPPING,
    *,
    mode: str | None = None,
    actor: Actor = OPERATOR,
    records: list[object] | None = None,
    allow_removals: bool = False,
) -> BatchOut:
    parsed = load_mapping(mapping, base_dir=path.parent if path else None)
    with db.transaction() as session:
        started = service.start_ingest(
            session,
            actor,
            parsed.resource or "",
            parsed,
            source_path=str(path) if path else None,
            mode=mode,
            allow_removals=allow_removals,
        )
    batch = jobs.run_started(db, actor, started, path=str(path) if path else None, records=records)
    with db.transaction(readonly=True) as session:
        out = service.get_batch(session, actor, batch.id)
    assert out.read == out.accounted, f"read {out.read} != accounted {out.accounted}: {out}"
    return out


def current(db: Database, resource: str = "测试人口信息", **where: Any) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return service.records(session, OPERATOR, resource, where=where or None, limit=10_000)


def quarantined(db: Database, batch_id: int, severity: str = "error") -> list[Any]:
    with db.transaction() as session:
        return service.quarantine(session, OPERATOR, batch_id, severity=severity)[1]


def raw(row: Any) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row.raw)
    return value
