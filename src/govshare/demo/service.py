"""Seed the demo city. Idempotent: seeding twice changes nothing the second time.

Names of people come from Faker's zh_CN locale with a fixed seed, so every demo node looks the same and no
real person is copied. Later capabilities (catalog, data, applications) add their own demo content here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from faker import Faker
from sqlalchemy.orm import Session

from govshare.applications import readers as application_readers
from govshare.applications import service as applications
from govshare.applications.schemas import ApplicationCreate
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission, Role
from govshare.catalog import service as catalog
from govshare.catalog.schemas import CatalogFile
from govshare.identity import readers as identity_readers
from govshare.identity import service as identity
from govshare.identity.schemas import DepartmentCreate, UserCreate
from govshare.inventory import readers as inventory_readers
from govshare.inventory import service as inventory
from govshare.inventory.schemas import SystemCreate

# Every demo account shares this password. `govshare demo` refuses to run in production.
DEMO_PASSWORD = "Demo@2026-govshare"  # noqa: S105 - a published demo credential, not a secret
CITY_DIVISION = "990100"  # province code 99 does not exist in GB/T 2260: clearly fictional

# code, name, short pinyin for usernames
CITY_DEPARTMENTS: list[tuple[str, str, str]] = [
    ("DSJ", "示例市政务服务和数据管理局", "dsj"),
    ("GA", "示例市公安局", "ga"),
    ("MZ", "示例市民政局", "mz"),
    ("RS", "示例市人力资源和社会保障局", "rs"),
    ("SCJG", "示例市市场监督管理局", "scjg"),
    ("WJ", "示例市卫生健康委员会", "wj"),
    ("JY", "示例市教育局", "jy"),
    ("ZRZY", "示例市自然资源和规划局", "zrzy"),
    ("ZJ", "示例市住房和城乡建设局", "zj"),
    ("JT", "示例市交通运输局", "jt"),
    ("SW", "国家税务总局示例市税务局", "sw"),
    ("SFJ", "示例市司法局", "sfj"),
    ("CZ", "示例市财政局", "cz"),
    ("YB", "示例市医疗保障局", "yb"),
    ("STHJ", "示例市生态环境局", "sthj"),
    ("NY", "示例市农业农村局", "ny"),
    ("YJ", "示例市应急管理局", "yj"),
    ("TJ", "示例市统计局", "tj"),
    ("TYJR", "示例市退役军人事务局", "tyjr"),
    ("WL", "示例市文化广电旅游局", "wl"),
]
COUNTY_DEPARTMENTS: list[tuple[str, str, str, str]] = [
    ("DC-SJ", "示例市东城区数据资源中心", "990102", "dcsj"),
    ("XX-SJ", "示例县数据资源中心", "990121", "xxsj"),
]

# The bureau's officers (三员 and the catalog reviewer); usernames are documented in the README.
BUREAU_ACCOUNTS: list[tuple[str, Role]] = [
    ("admin", Role.PLATFORM_ADMIN),
    ("security", Role.SECURITY_ADMIN),
    ("auditor", Role.AUDITOR),
    ("reviewer", Role.CATALOG_REVIEWER),
]
DEPARTMENT_ROLES: list[tuple[str, Role]] = [
    ("admin", Role.DEPARTMENT_ADMIN),
    ("steward", Role.DATA_STEWARD),
    ("user", Role.DATA_USER),
]
APPLICATIONS: list[tuple[str, str, str]] = [
    ("ga-rkgl", "人口管理信息系统", "GA"),
    ("mz-hydj", "婚姻登记管理系统", "MZ"),
    ("rs-shbx", "社会保险业务系统", "RS"),
    ("scjg-djzc", "市场主体登记注册系统", "SCJG"),
    ("zj-zfbz", "住房保障管理系统", "ZJ"),
    ("yb-jsxt", "医保结算系统", "YB"),
]


@dataclass
class DemoResult:
    departments_created: int = 0
    users_created: int = 0
    applications_created: int = 0
    resources_created: int = 0
    resources_published: int = 0
    systems_created: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # application code -> key, shown once


@action(Permission.DEPARTMENT_MANAGE, name="demo.seed")
def seed(session: Session, actor: Actor) -> DemoResult:
    result = DemoResult()
    faker = Faker("zh_CN")
    faker.seed_instance(20261121)

    def ensure_department(code: str, name: str, division: str, level: str, parent: str | None) -> None:
        if identity_readers.department_by_code(session, code) is None:
            identity.create_department(
                session,
                actor,
                DepartmentCreate(
                    code=code, name=name, division_code=division, level=level, parent_code=parent
                ),
            )
            result.departments_created += 1

    def ensure_user(username: str, department: str, role: Role) -> None:
        display_name = faker.name()  # drawn even when the user exists, so names stay stable
        if identity_readers.user_by_username(session, username) is None:
            identity.create_user(
                session,
                actor,
                UserCreate(
                    username=username,
                    display_name=display_name,
                    department_code=department,
                    password=DEMO_PASSWORD,
                    roles=[role],
                ),
                seeded=True,  # the documented demo password: the demo's accounts are not forced to change it
            )
            result.users_created += 1

    for code, name, _ in CITY_DEPARTMENTS:
        ensure_department(code, name, CITY_DIVISION, "city", None if code == "DSJ" else "DSJ")
    for code, name, division, _ in COUNTY_DEPARTMENTS:
        ensure_department(code, name, division, "county", "DSJ")

    for username, role in BUREAU_ACCOUNTS:
        ensure_user(username, "DSJ", role)
    for code, _, short in CITY_DEPARTMENTS[1:]:
        for suffix, role in DEPARTMENT_ROLES:
            ensure_user(f"{short}.{suffix}", code, role)
    for code, _, _, short in COUNTY_DEPARTMENTS:
        ensure_user(f"{short}.admin", code, Role.DEPARTMENT_ADMIN)

    for code, name, department in APPLICATIONS:
        if application_readers.application_by_code(session, code) is None:
            applications.create_application(
                session,
                actor,
                ApplicationCreate(
                    code=code, name=name, department_code=department, description=f"{name}（示例）"
                ),
            )
            result.keys[code] = applications.issue_key(session, actor, code).secret
            result.applications_created += 1

    _seed_inventory(session, actor, result)
    _seed_catalog(session, actor, result)
    return result


# code, name, department, function, usage range, frequency, build year, funding, connected
SYSTEMS: list[tuple[str, str, str, str, str, str, int, str, bool]] = [
    (
        "ga-rkgl",
        "人口管理信息系统",
        "GA",
        "户籍登记、迁移和居民身份证管理",
        "跨部门",
        "每日",
        2012,
        "财政资金",
        True,
    ),
    (
        "mz-hydj",
        "婚姻登记管理系统",
        "MZ",
        "结婚、离婚登记和补领证件",
        "跨部门",
        "每日",
        2015,
        "财政资金",
        True,
    ),
    (
        "rs-shbx",
        "社会保险业务系统",
        "RS",
        "参保登记、缴费核定和待遇发放",
        "跨部门",
        "每日",
        2011,
        "财政资金",
        True,
    ),
    (
        "scjg-djzc",
        "市场主体登记注册系统",
        "SCJG",
        "市场主体设立、变更、注销登记",
        "跨部门",
        "每日",
        2016,
        "财政资金",
        True,
    ),
    (
        "zj-zfbz",
        "住房保障管理系统",
        "ZJ",
        "保障性住房申请、审核和分配",
        "部门内部",
        "每周",
        2014,
        "财政资金",
        True,
    ),
    ("yb-jsxt", "医保结算系统", "YB", "定点医药机构费用结算", "跨部门", "每日", 2019, "财政资金", True),
    (
        "mz-dbgl",
        "城乡低保管理系统",
        "MZ",
        "低保对象认定与动态管理",
        "部门内部",
        "每月",
        2009,
        "财政资金",
        False,
    ),
    ("jy-xjgl", "学籍管理系统", "JY", "中小学学籍登记与转学", "部门内部", "每月", 2013, "自筹资金", False),
    (
        "wj-fybz",
        "妇幼保健信息系统",
        "WJ",
        "孕产妇与儿童保健档案",
        "处室内部",
        "每周",
        2010,
        "财政资金",
        False,
    ),
    (
        "tj-dcsb",
        "统计调查数据上报系统",
        "TJ",
        "统计调查数据采集与审核",
        "处室内部",
        "每月",
        2008,
        "其他",
        False,
    ),
    ("cz-zwgl", "财政国库支付单机台账", "CZ", "国库集中支付台账", "单机", "偶尔", 2006, "自筹资金", False),
]


def _seed_inventory(session: Session, actor: Actor, result: DemoResult) -> None:
    for code, name, department, function, usage, frequency, year, funding, connected in SYSTEMS:
        if inventory_readers.system_by_code(session, code) is None:
            inventory.create_system(
                session,
                actor,
                SystemCreate.model_validate(
                    {
                        "code": code,
                        "name": name,
                        "department_code": department,
                        "function": function,
                        "usage_range": usage,
                        "usage_frequency": frequency,
                        "build_year": year,
                        "approved_by": "示例市发展和改革委员会",
                        "funding": funding,
                        "connected": connected,
                    }
                ),
            )
            result.systems_created += 1


CATALOG_FILE = Path(__file__).with_name("catalog.yaml")
# Every DRAFT_EVERY-th resource stays unpublished so the workbench and review queue have work in them;
# every other one of those is submitted for review.
DRAFT_EVERY = 20


def _seed_catalog(session: Session, actor: Actor, result: DemoResult) -> None:
    definitions = CatalogFile.model_validate(
        yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    ).resources
    in_progress = {i for i in range(len(definitions)) if i % DRAFT_EVERY == DRAFT_EVERY // 2}
    published = [d for i, d in enumerate(definitions) if i not in in_progress]
    drafts = [d for i, d in enumerate(definitions) if i in in_progress]
    report = catalog.apply_definitions(session, actor, published, publish=True)
    drafted = catalog.apply_definitions(session, actor, drafts, publish=False)
    for outcome in drafted.resources[::2]:
        if outcome.action == "created":
            catalog.submit(session, actor, outcome.resource_id)
    result.resources_created = report.created + drafted.created
    result.resources_published = report.published
