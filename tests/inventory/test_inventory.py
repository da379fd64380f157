"""The information-system inventory: filing through the API with department scope and Chinese validation,
the statistics the audit asks for (seed 002), and the command line. Every test runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from govshare.catalog import service as catalog
from govshare.catalog.schemas import ResourceDefinition
from govshare.cli.main import app as cli
from govshare.core.db import Database
from govshare.inventory import policies, service
from govshare.inventory.schemas import Bucket, SystemCreate
from govshare.models import AuditEntry
from tests import factories

SYSTEMS = "/api/v1/inventory/systems"


def _system(code: str = "ga-rkgl", department: str = "GA", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "人口管理信息系统",
        "department_code": department,
        "function": "户籍人口登记与变更",
        "usage_range": "跨部门",
        "usage_frequency": "每日",
        "build_year": 2018,
        "approved_by": "市发展改革委",
        "funding": "财政资金",
        "connected": True,
    }
    body.update(fields)
    return body


def _file(db: Database, **fields: Any) -> None:
    with db.transaction() as session:
        service.create_system(session, factories.SYSTEM, SystemCreate.model_validate(_system(**fields)))


def _resource(name: str, system: str, share: str, provider: str = "GA") -> ResourceDefinition:
    return ResourceDefinition.model_validate(
        {
            "name": name,
            "provider": provider,
            "summary": f"{name}的测试摘要",
            "classification": {"category": "部门", "class": "3", "item": "01", "catalog": "001"},
            "format": {"category": "数据库", "type": "PostgreSQL"},
            "share": {
                "type": share,
                "condition": "仅限于身份核验" if share == "有条件" else "",
                "methods": [] if share == "不予" else ["接口"],
            },
            "update_cycle": "每日",
            "legal_basis": "《中华人民共和国保守国家秘密法》" if share == "不予" else "",
            "system": system,
            "items": [{"name": "编号", "field": "bh", "type": "C", "length": 18, "key": True}],
        }
    )


def _publish(db: Database, *definitions: ResourceDefinition, publish: bool = True) -> list[int]:
    with db.transaction() as session:
        report = catalog.apply_definitions(session, factories.SYSTEM, list(definitions), publish=publish)
        return [r.resource_id for r in report.resources]


def _audit_actions(db: Database, target: str) -> list[str]:
    with db.transaction(readonly=True) as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_type == "info_system", AuditEntry.target_id == target)
                .order_by(AuditEntry.seq)
            )
        )


# ---------------------------------------------------------------- filing through the API


def test_crud_through_the_api(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "ga.steward")
    created = client.post(SYSTEMS, json=_system(), headers=headers)
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["usage_range"], out["usage_range_label"]) == ("cross_department", "跨部门")
    assert (out["usage_frequency"], out["funding"], out["funding_label"]) == ("daily", "fiscal", "财政资金")
    assert (out["department_name"], out["build_year"], out["connected"]) == ("测试市公安局", 2018, True)
    assert out["produced"] == {"unconditional": 0, "conditional": 0, "not_shared": 0}
    assert out["sharing"] == policies.NO_RESOURCES

    assert client.get(f"{SYSTEMS}/ga-rkgl").json()["name"] == "人口管理信息系统"
    duplicate = client.post(SYSTEMS, json=_system(name="另一个系统"), headers=headers)
    assert duplicate.status_code == 409
    assert "ga-rkgl" in duplicate.json()["detail"]

    changed = client.put(
        f"{SYSTEMS}/ga-rkgl",
        json={k: v for k, v in _system(usage_range="部门内部", connected=False).items() if k != "code"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["usage_range_label"], changed.json()["connected"]) == ("部门内部", False)
    # PUT replaces: a field left out takes its default.
    body = {k: v for k, v in _system(usage_range="部门内部", connected=False).items() if k != "code"}
    body.pop("build_year")
    assert client.put(f"{SYSTEMS}/ga-rkgl", json=body, headers=headers).json()["build_year"] is None
    # The same content again changes nothing and writes no audit entry.
    assert client.put(f"{SYSTEMS}/ga-rkgl", json=body, headers=headers).status_code == 200
    assert _audit_actions(db, "ga-rkgl") == ["inventory.create", "inventory.update", "inventory.update"]

    client.post(SYSTEMS, json=_system("ga-jjgl", usage_range="单机", connected=False), headers=headers)
    listed = client.get(SYSTEMS).json()
    assert [s["code"] for s in listed] == ["ga-jjgl", "ga-rkgl"]
    assert [s["code"] for s in client.get(SYSTEMS, params={"usage_range": "单机"}).json()] == ["ga-jjgl"]
    assert [s["code"] for s in client.get(SYSTEMS, params={"usage_range": "standalone"}).json()] == [
        "ga-jjgl"
    ]
    assert client.get(SYSTEMS, params={"connected": "true"}).json() == []
    assert len(client.get(SYSTEMS, params={"department": "GA", "connected": "false"}).json()) == 2
    assert client.get(SYSTEMS, params={"department": "MZ"}).json() == []

    missing = client.get(f"{SYSTEMS}/no-such-system")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert client.put(f"{SYSTEMS}/no-such-system", json=body, headers=headers).status_code == 404


def test_department_scope(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "ga.steward")
    refused = client.post(SYSTEMS, json=_system("mz-jz", "MZ"), headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert client.post(SYSTEMS, json=_system(), headers=headers).status_code == 201
    # Moving one's own system to another department needs rights there too.
    moved = {k: v for k, v in _system(department="MZ").items() if k != "code"}
    assert client.put(f"{SYSTEMS}/ga-rkgl", json=moved, headers=headers).status_code == 403

    headers = factories.login(client, "mz.admin")
    body = {k: v for k, v in _system(name="改名").items() if k != "code"}
    assert client.put(f"{SYSTEMS}/ga-rkgl", json=body, headers=headers).status_code == 403
    assert client.post(SYSTEMS, json=_system("mz-jz", "MZ"), headers=headers).status_code == 201

    headers = factories.login(client, "auditor")
    assert client.post(SYSTEMS, json=_system("dsj-x", "DSJ"), headers=headers).status_code == 403
    assert len(client.get(SYSTEMS).json()) == 2  # the auditor reads every department
    assert client.get("/api/v1/inventory/stats").status_code == 200

    headers = factories.login(client, "admin")  # the platform admin files for any department
    assert client.post(SYSTEMS, json=_system("dsj-x", "DSJ"), headers=headers).status_code == 201
    assert client.put(f"{SYSTEMS}/ga-rkgl", json=moved, headers=headers).json()["department_code"] == "MZ"

    headers = factories.login(client, "security")  # 安全管理员 holds no inventory permission
    assert client.get(SYSTEMS).status_code == 403

    with db.transaction(readonly=True) as session:
        denied = session.scalars(
            select(AuditEntry.actor_name).where(
                AuditEntry.outcome == "denied", AuditEntry.action == "inventory.create_system"
            )
        ).all()
    assert sorted(denied) == ["ga.steward"]  # the auditor is refused at the route, audited as such


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"code": "-bad"}, "code", "系统代码"),
        ({"code": "有中文"}, "code", "系统代码"),
        ({"name": "x"}, "name", "2"),
        ({"department_code": "NOPE"}, "department_code", "部门“NOPE”不存在"),
        ({"usage_range": "全市"}, "usage_range", "使用范围"),
        ({"usage_frequency": "每年"}, "usage_frequency", "使用频度"),
        ({"funding": "银行贷款"}, "funding", "经费来源"),
        ({"funding": 3}, "funding", "经费来源"),
        ({"build_year": 1979}, "build_year", "1980"),
        ({"build_year": policies.current_year() + 1}, "build_year", "建设年份"),
        ({"connected": "maybe"}, "connected", "布尔"),
        ({"approved_by": "审" * 101}, "approved_by", "100"),
    ],
)
def test_validation_errors_name_the_field(
    client: TestClient, db: Database, fields: dict[str, Any], field: str, fragment: str
) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    response = client.post(SYSTEMS, json=_system(**fields), headers=headers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert fragment in errors[0]["message"]


def test_labels_and_codes_are_both_accepted(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    body = _system(usage_range="office", usage_frequency="weekly", funding="自筹资金", build_year=None)
    out = client.post(SYSTEMS, json=body, headers=headers).json()
    assert (out["usage_range_label"], out["usage_frequency_label"], out["funding"]) == (
        "处室内部",
        "每周",
        "self",
    )
    assert out["build_year"] is None


def test_list_filters_are_validated(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.login(client, "auditor")
    bad_range = client.get(SYSTEMS, params={"usage_range": "全市"})
    assert bad_range.status_code == 422
    assert bad_range.json()["errors"][0]["field"] == "usage_range"
    bad_department = client.get(SYSTEMS, params={"department": "NOPE"})
    assert bad_department.status_code == 422
    assert bad_department.json()["errors"][0]["field"] == "department"
    for hostile in ("x" * 65, "a%00b", "' OR 1=1 --"):
        assert 400 <= client.get(f"{SYSTEMS}/{hostile}").status_code < 500


# ---------------------------------------------------------------- statistics


def _counts(buckets: list[Bucket]) -> dict[str, int]:
    return {b.label: b.count for b in buckets}


@pytest.fixture
def audited_city(db: Database) -> Database:
    """Four systems: one shares (无条件 and 有条件 resources), one produces only 不予共享, one has only a
    draft in the catalog, one had its only resource withdrawn; plus a resource naming an unfiled system."""
    factories.city(db)
    _file(db)  # ga-rkgl: 跨部门, 每日, 财政资金, 2018, connected
    _file(
        db,
        code="ga-jjgl",
        name="警务内部管理系统",
        usage_range="部门内部",
        usage_frequency="每周",
        funding="自筹资金",
        build_year=2012,
        connected=False,
    )
    _file(
        db,
        code="ga-dj",
        name="单机统计软件",
        usage_range="单机",
        usage_frequency="偶尔",
        funding="其他",
        build_year=None,
        connected=False,
    )
    _file(
        db,
        code="mz-jz",
        name="救助管理系统",
        department="MZ",
        usage_range="处室内部",
        usage_frequency="每月",
        build_year=2021,
    )
    _publish(
        db,
        _resource("人口基本信息", "ga-rkgl", "无条件"),
        _resource("人口变动信息", "ga-rkgl", "有条件"),
        _resource("警务内部信息", "ga-jjgl", "不予"),
        _resource("外部系统数据", "gone-sys", "无条件"),
    )
    _publish(db, _resource("单机数据", "ga-dj", "无条件"), publish=False)  # a draft does not count
    [withdrawn] = _publish(db, _resource("救助对象信息", "mz-jz", "无条件", provider="MZ"))
    with db.transaction() as session:
        catalog.withdraw(session, factories.SYSTEM, withdrawn, "测试下架")
    return db


def test_statistics_answer_the_audit_questions(audited_city: Database) -> None:
    with audited_city.transaction(readonly=True) as session:
        stats = service.inventory_stats(session, factories.SYSTEM)
    node = stats.node
    assert node.systems == 4
    assert _counts(node.by_usage_range) == {"单机": 1, "处室内部": 1, "部门内部": 1, "跨部门": 1}
    assert [b.percent for b in node.by_usage_range] == [25.0, 25.0, 25.0, 25.0]
    assert _counts(node.by_frequency) == {"每日": 1, "每周": 1, "每月": 1, "偶尔": 1}
    assert _counts(node.by_funding) == {"财政资金": 2, "自筹资金": 1, "其他": 1}
    assert (node.connected, node.not_connected) == (2, 2)
    assert (node.producing, node.sharing, node.only_not_shared, node.producing_nothing) == (2, 1, 1, 2)
    assert node.sharing_percent == 25.0
    assert _counts(node.by_share_type) == {"无条件共享": 1, "有条件共享": 1, "不予共享": 1}
    by_range = {
        r.label: (r.systems, r.sharing, r.not_shared, r.no_resources) for r in node.sharing_by_usage_range
    }
    assert by_range == {
        "单机": (1, 0, 0, 1),
        "处室内部": (1, 0, 0, 1),
        "部门内部": (1, 0, 1, 0),
        "跨部门": (1, 1, 0, 0),
    }
    years = {b.value: b.count for b in node.by_build_year if b.count}
    assert years == {"2010–2014": 1, "2015–2019": 1, "2020–2024": 1, "unknown": 1}
    assert node.by_build_year[0].value == "1980–1984"  # empty bands are listed too

    departments = {d.code: d for d in stats.departments}
    assert [d.code for d in stats.departments] == ["DSJ", "GA", "MZ"]
    ga, mz = departments["GA"], departments["MZ"]
    assert (ga.systems, ga.connected, ga.producing, ga.sharing, ga.only_not_shared, ga.producing_nothing) == (
        3,
        1,
        2,
        1,
        1,
        1,
    )
    assert (mz.systems, mz.producing, mz.producing_nothing) == (1, 0, 1)
    assert _counts(mz.by_usage_range)["处室内部"] == 1
    assert departments["DSJ"].systems == 0
    assert stats.zero_departments == ["DSJ"]
    assert stats.unregistered_system_codes == ["gone-sys"]


def test_statistics_and_produced_resources_through_the_api(
    client: TestClient, audited_city: Database
) -> None:
    factories.login(client, "auditor")
    stats = client.get("/api/v1/inventory/stats").json()
    assert (stats["node"]["systems"], stats["node"]["sharing"], stats["node"]["only_not_shared"]) == (4, 1, 1)
    assert stats["node"]["by_usage_range"][0] == {
        "value": "standalone",
        "label": "单机",
        "count": 1,
        "percent": 25.0,
    }

    rkgl = client.get(f"{SYSTEMS}/ga-rkgl").json()
    assert rkgl["produced"] == {"unconditional": 1, "conditional": 1, "not_shared": 0}
    assert (rkgl["sharing"], rkgl["sharing_label"]) == ("sharing", "共享（产生无条件或有条件共享资源）")
    assert client.get(f"{SYSTEMS}/ga-jjgl").json()["sharing"] == "not_shared"
    assert client.get(f"{SYSTEMS}/ga-dj").json()["sharing"] == "no_resources"
    assert client.get(f"{SYSTEMS}/mz-jz").json()["produced"]["unconditional"] == 0  # withdrawn

    # A new published version of a resource replaces the old one: the system still produces one.
    changed = _resource("人口基本信息", "ga-rkgl", "无条件").model_copy(update={"summary": "新的摘要"})
    _publish(audited_city, changed)
    assert client.get(f"{SYSTEMS}/ga-rkgl").json()["produced"]["unconditional"] == 1


def test_year_bands() -> None:
    assert policies.year_band(1980) == "1980–1984"
    assert policies.year_band(2019) == "2015–2019"
    assert policies.year_band(2020) == "2020–2024"
    assert policies.year_band(None) == policies.UNKNOWN_YEAR
    assert policies.year_bands(2026) == [f"{y}–{y + 4}" for y in range(1980, 2030, 5)]
    assert policies.sharing_status(set()) == policies.NO_RESOURCES
    assert policies.sharing_status({"none"}) == policies.NOT_SHARED
    assert policies.sharing_status({"none", "conditional"}) == policies.SHARING


# ---------------------------------------------------------------- the command line

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["inventory", *args])
    return result.exit_code, result.output


@pytest.mark.usefixtures("cli_env")
def test_cli_add_list_and_stats(db: Database) -> None:
    factories.city(db)
    code, out = invoke(
        "add",
        "ga-rkgl",
        "人口管理信息系统",
        "--dept",
        "GA",
        "--range",
        "跨部门",
        "--frequency",
        "每日",
        "--funding",
        "财政资金",
        "--year",
        "2018",
        "--connected",
        "--function",
        "户籍人口登记",
        "--approved-by",
        "市发展改革委",
        "--json",
    )
    assert code == 0, out
    added = json.loads(out)
    assert (added["usage_range"], added["connected"], added["approved_by"]) == (
        "cross_department",
        True,
        "市发展改革委",
    )
    code, out = invoke(
        "add", "mz-jz", "救助管理系统", "--dept", "MZ", "--range", "单机", "--frequency", "偶尔"
    )
    assert code == 2  # --funding is required
    code, out = invoke(
        "add",
        "mz-jz",
        "救助管理系统",
        "--dept",
        "MZ",
        "--range",
        "单机",
        "--frequency",
        "偶尔",
        "--funding",
        "其他",
    )
    assert code == 0, out
    assert "已登记信息系统 mz-jz" in out and "未接入平台" in out

    code, out = invoke("list", "--json")
    assert [s["code"] for s in json.loads(out)] == ["ga-rkgl", "mz-jz"]
    code, out = invoke("list", "--dept", "MZ")
    assert code == 0 and "mz-jz" in out and "ga-rkgl" not in out and "共 1 个信息系统" in out

    code, out = invoke("show", "ga-rkgl")
    assert code == 0 and "所属部门：测试市公安局（GA）" in out

    code, out = invoke("stats")
    assert code == 0, out
    assert "信息系统 2 个：已接入平台 1，未接入 1" in out
    assert "单机 1（50.0%）" in out
    assert "未登记信息系统的部门：DSJ" in out
    code, out = invoke("stats", "--json")
    assert json.loads(out)["node"]["producing_nothing"] == 2


@pytest.mark.usefixtures("cli_env")
def test_cli_errors_are_chinese_and_name_the_field(db: Database) -> None:
    factories.city(db)
    base = ["--dept", "GA", "--range", "跨部门", "--frequency", "每日", "--funding", "财政资金"]
    code, out = invoke("add", "ga-x", "某系统", *base, "--year", "1975")
    assert code == 2 and "build_year" in out and "1980" in out
    code, out = invoke(
        "add",
        "ga-x",
        "某系统",
        "--dept",
        "GA",
        "--range",
        "全市",
        "--frequency",
        "每日",
        "--funding",
        "财政资金",
    )
    assert code == 2 and "usage_range" in out and "使用范围" in out
    code, out = invoke(
        "add",
        "ga-x",
        "某系统",
        "--dept",
        "NOPE",
        "--range",
        "单机",
        "--frequency",
        "每日",
        "--funding",
        "其他",
    )
    assert code == 1 and "部门“NOPE”不存在" in out
    assert invoke("add", "ga-x", "某系统", *base)[0] == 0
    code, out = invoke("add", "ga-x", "某系统", *base)
    assert code == 1 and "已存在" in out
    code, out = invoke("show", "nope")
    assert code == 1 and "不存在" in out
