"""Catalog search latency over 10,000 published resources, on SQLite and PostgreSQL.

Builds the catalog through the real indexing code (`search_service.index_version`), then runs a fixed mix of
queries through `search_service.search` (full text + facets, the same call the API makes) and, in the same
run, the baseline: a plain substring scan (LIKE '%词%') over the same documents without the index and without
facets. Prints p50/p95/p99 and the ratio. Not a test: nothing here asserts on time.

    .venv/bin/python benchmarks/catalog_search.py [--resources 10000] [--queries 300] [--pg URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from govshare.auth.actor import Actor
from govshare.catalog import search_service
from govshare.catalog.search_service import SearchQuery
from govshare.core import migrations
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.core.node import NodeConfig
from govshare.models import Department, Resource, ResourceItem, ResourceVersion, SearchDocument
from govshare.settings import Settings

SUBJECTS = [
    "人口",
    "户籍",
    "婚姻",
    "社保",
    "医保",
    "企业",
    "个体工商户",
    "不动产",
    "车辆",
    "驾驶人",
    "学籍",
    "医疗机构",
    "药品",
    "食品经营",
    "安全生产",
    "环境监测",
    "排污许可",
    "建筑工程",
    "公积金",
    "低保",
    "残疾人",
    "养老机构",
    "行政处罚",
    "行政许可",
    "信用评价",
    "纳税",
    "发票",
    "土地",
    "林地",
    "水资源",
    "气象",
    "交通违法",
    "公交",
    "出租车",
    "危险化学品",
    "特种设备",
    "执业医师",
    "教师资格",
    "律师",
    "公证",
    "退役军人",
    "旅游景区",
]
KINDS = [
    "基本信息",
    "登记信息",
    "变更信息",
    "注销信息",
    "许可信息",
    "监测数据",
    "统计数据",
    "名录",
    "核验信息",
    "年报信息",
]
ITEMS = [
    "统一社会信用代码",
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "单位名称",
    "法定代表人",
    "登记日期",
    "登记机关",
    "地址",
    "联系电话",
    "证件编号",
    "有效期",
    "状态",
    "行政区划",
    "金额",
    "备注",
    "审批结果",
    "检测值",
    "等级",
]
QUERIES = [
    "人口",
    "婚姻登记",
    "企业 许可",
    "身份号码",
    "不动产",
    "医疗",
    "信用",
    "排污",
    "驾驶",
    "公积金",
    "登记",
    "车",
    "药品 监测",
    "学籍 信息",
    "社会信用代码",
    "地址",
    "养老",
    "危险化学品",
    "气象数据",
    "年报",
]
SHARE = ["unconditional", "conditional", "none"]
CYCLES = ["realtime", "daily", "weekly", "monthly", "quarterly", "annual"]


def build(db: Database, n: int, rng: random.Random) -> float:
    started = time.perf_counter()
    with db.transaction() as session:
        departments = []
        for i in range(40):
            d = Department(code=f"D{i:02d}", name=f"示例市第{i}局", division_code="990100", level="city")
            session.add(d)
            departments.append(d)
        session.flush()
        now = utcnow()
        for i in range(n):
            subject, kind = rng.choice(SUBJECTS), rng.choice(KINDS)
            resource = Resource(
                code=f"3{i % 90 + 10:02d}001-{i:06d}",
                department_id=rng.choice(departments).id,
                status="active",
                created_at=now,
                updated_at=now,
                first_published_at=now,
            )
            version = ResourceVersion(
                number=1,
                state="published",
                name=f"{subject}{kind}",
                summary=f"本资源记录全市{subject}的{kind}，"
                f"供{rng.choice(SUBJECTS)}等业务使用，按{rng.choice(['日', '月', '季度'])}更新。",
                category="theme",
                theme=rng.choice(["公共服务", "社会保障", "信用体系"]),
                class_code="2",
                item_code="10",
                catalog_code="001",
                format_category="database",
                share_type=rng.choice(SHARE),
                share_methods=["api"],
                update_cycle=rng.choice(CYCLES),
                security_grade=rng.choice(["general", "important", "core"]),
                created_by="bench",
                created_at=now,
                updated_at=now,
                published_at=now,
                overrides=[],
                related_codes=[],
            )
            version.items = [
                ResourceItem(
                    position=j,
                    name=name,
                    field_name=f"f{j}",
                    data_type="C",
                    length=50,
                    security_grade="general",
                )
                for j, name in enumerate(rng.sample(ITEMS, 8))
            ]
            resource.versions = [version]
            session.add(resource)
            session.flush()
            search_service.index_version(session, resource, version)
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(db: Database, queries: int, rng: random.Random) -> tuple[list[float], list[float]]:
    actor = Actor.system("bench")
    indexed, scanned = [], []
    with db.transaction(readonly=True) as session:
        for _ in range(queries):
            q = rng.choice(QUERIES)
            query = SearchQuery(q=q, share_type=rng.choice([None, None, "有条件"]), page_size=20)
            t = time.perf_counter()
            search_service.search(session, actor, query)
            indexed.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            stmt = select(SearchDocument.resource_id).where(SearchDocument.text.contains(q.split()[0]))
            if query.share_type:
                stmt = stmt.where(SearchDocument.share_type == "conditional")
            session.execute(stmt.order_by(SearchDocument.published_at.desc()).limit(20)).all()
            session.scalar(select(func.count()).select_from(stmt.subquery()))
            scanned.append((time.perf_counter() - t) * 1000)
    return indexed, scanned


def run(name: str, url: str, args: argparse.Namespace) -> str:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    engine = create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    db = Database(url, NodeConfig.from_settings(settings))
    rng = random.Random(20261121)
    built = build(db, args.resources, rng)
    with db.transaction(readonly=True) as session:
        tokens = session.scalar(select(func.count()).select_from(search_service.SearchToken))
    search_service.search  # noqa: B018 - warm imports
    measure(db, 20, random.Random(1))  # warm caches
    indexed, scanned = measure(db, args.queries, random.Random(2))
    db.dispose()
    line = (
        f"| {name} | {args.resources} | {tokens} | {built:.1f} s | {statistics.median(indexed):.2f} | "
        f"{percentile(indexed, 95):.2f} | {percentile(indexed, 99):.2f} | {statistics.median(scanned):.2f} | "
        f"{percentile(scanned, 99):.2f} |"
    )
    print(line, flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(
        "| database | resources | index rows | build | search p50 ms | p95 | p99 | LIKE scan p50 ms | p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    admin = make_url(args.pg)
    name = f"govshare_bench_{uuid.uuid4().hex[:8]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    try:
        run("PostgreSQL", admin.set(database=name).render_as_string(hide_password=False), args)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
