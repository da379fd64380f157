"""The home page's figures and charts and the department dashboard: numbers from the stats services (the
chart tables show the same), public figures only for anonymous visitors, a department's staff limited to
their own department. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.auth.actor import Actor
from govshare.catalog import stats_service as catalog_stats
from govshare.collection import stats_service as collection_stats
from govshare.core.db import Database
from govshare.errors import PermissionDenied
from govshare.identity import service as identity
from govshare.identity.repository import UserRepository
from govshare.models import Application, Department, Resource, UsageDaily
from govshare.sharing import stats_service as sharing_stats
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, TAX, apply
from tests.collection.helpers import ingest
from tests.sharing.helpers import MAPPING, PEOPLE_ROWS, application_body, setup, today, write_people
from tests.web.portal_helpers import HTML, page, portal_login


def actor_of(db: Database, username: str) -> Actor:
    with db.transaction(readonly=True) as session:
        user = UserRepository(session).by_username(username)
        assert user is not None
        return identity.actor_for_user(user)


def table_after(html: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption: cells as text."""
    found = re.search(r"<caption>" + re.escape(caption) + r"</caption>(.*?)</table>", html, re.S)
    assert found, f"no table “{caption}”"
    body = found.group(1).split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def usage_rows(db: Database) -> None:
    """Two days of GA data used by MZ's application, one day of MZ data used by GA's."""
    with db.transaction() as session:
        ids = {d.code: d.id for d in session.scalars(select(Department))}
        apps = {a.code: a.id for a in session.scalars(select(Application))}
        resources = {r.department_id: r.id for r in session.scalars(select(Resource))}
        day = today()
        session.add_all(
            [
                UsageDaily(
                    day=day - timedelta(days=1),
                    resource_id=resources[ids["GA"]],
                    application_id=apps["mz-dbsh"],
                    provider_department_id=ids["GA"],
                    consumer_department_id=ids["MZ"],
                    calls=12,
                    rows=340,
                    refusals=2,
                ),
                UsageDaily(
                    day=day,
                    resource_id=resources[ids["GA"]],
                    application_id=apps["mz-dbsh"],
                    provider_department_id=ids["GA"],
                    consumer_department_id=ids["MZ"],
                    calls=30,
                    rows=1000,
                    refusals=0,
                ),
                UsageDaily(
                    day=day,
                    resource_id=resources[ids["MZ"]],
                    application_id=apps["ga-rkgl"],
                    provider_department_id=ids["MZ"],
                    consumer_department_id=ids["GA"],
                    calls=7,
                    rows=7,
                    refusals=1,
                ),
            ]
        )


def test_home_for_anonymous_shows_public_figures_and_charts_without_person_names(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    apply(db, POPULATION, MARRIAGE, TAX)
    html = page(client, "/")
    shown = re.findall(r'<span class="num">([^<]+)</span><span class="label">([^<]+)</span>', html)
    labels = {label: number for number, label in shown}
    assert labels["接入部门"] == "3" and labels["已发布资源"] == "3" and labels["用户"] == "6"
    assert labels["近 30 天接口调用（次）"] == "0"
    assert '<svg class="chart" role="img"' in html and "http://" not in html
    # the share-type mix: one of each, in the chart's table
    assert table_after(html, "共享类型构成") == [
        ["无条件共享", "1", "33.3%"],
        ["有条件共享", "1", "33.3%"],
        ["不予共享", "1", "33.3%"],
    ]
    growth = table_after(html, "目录增长（按首次发布月份）")
    assert growth[-1][1] == "3"  # cumulative
    # public: no person, no user name, no 待办
    for name in ("ga.admin", "mz.admin", "auditor", "待办", "我的角色"):
        assert name not in html
    assert "style=" not in html and "<script" not in html


def test_home_todo_counts_link_to_the_work(client: TestClient, db: Database, tmp_path: Path) -> None:
    setup(db, tmp_path)
    code = db_code(db)
    headers = factories.login(client, "mz.admin")
    filed = client.post("/api/v1/sharing/requests", json=application_body(code), headers=headers)
    assert filed.status_code == 201, filed.text
    portal_login(client, "ga.admin")
    html = page(client, "/")
    found = re.search(
        r'<a href="/sharing">待我审批、审查或协调的共享申请</a>：<strong class="todo-\w+">(\d+)</strong>',
        html,
    )
    assert found
    pending = int(found.group(1))
    with db.transaction(readonly=True) as session:
        assert pending == sharing_stats.awaiting_me(session, actor_of(db, "ga.admin"))
    assert '<a href="/catalog/manage">被退回待修改的目录</a>' in html
    assert '<a href="/collection">有待处理隔离记录的批次</a>' in html
    # mz.admin provides nothing that is asked for: nothing awaits it
    portal_login(client, "mz.admin")
    assert re.search(
        r"待我审批、审查或协调的共享申请</a>：<strong class=\"todo-none\">0</strong>", page(client, "/")
    )


def db_code(db: Database) -> str:
    from tests.sharing.helpers import resource_code

    return resource_code(db)


def test_dashboard_shows_the_departments_figures_equal_to_the_services(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    setup(db, tmp_path)
    apply(db, MARRIAGE)
    bad = [*PEOPLE_ROWS, ("123", "坏行", "1", "13800138000", "某地址", "110105", "1990-03-07", "01")]
    ingest(db, write_people(tmp_path / "people2.csv", bad), MAPPING)
    usage_rows(db)
    code = db_code(db)
    headers = factories.login(client, "mz.admin")
    assert (
        client.post("/api/v1/sharing/requests", json=application_body(code), headers=headers).status_code
        == 201
    )

    portal_login(client, "ga.admin")
    html = page(client, "/dashboard")
    assert "部门看板：测试市公安局" in html
    assert 'name="department"' not in html  # no selector for a department role
    ga = actor_of(db, "ga.admin")
    with db.transaction(readonly=True) as session:
        ga_id = session.scalars(select(Department.id).where(Department.code == "GA")).one()
        catalog = catalog_stats.department_catalog(session, ga, ga_id)
        batches = collection_stats.batches_by_day(session, ga, department_id=ga_id)
        provided = sharing_stats.usage_by_counterpart(
            session,
            ga,
            department_id=ga_id,
            side="provider",
            since=today() - timedelta(days=29),
            until=today(),
        )
        used = sharing_stats.usage_by_counterpart(
            session,
            ga,
            department_id=ga_id,
            side="consumer",
            since=today() - timedelta(days=29),
            until=today(),
        )
        open_requests = sharing_stats.open_as_provider(session, ga, department_id=ga_id)
        per_day = sharing_stats.usage_by_day(
            session,
            ga,
            department_id=ga_id,
            side="provider",
            since=today() - timedelta(days=29),
            until=today(),
        )
        quarantined = collection_stats.quarantined_batches(session, ga, department_id=ga_id)
    assert catalog.shares.published == 1 and catalog.shares.conditional == 1
    assert f'<span class="num" id="fig-published">{catalog.shares.published}</span>' in html
    assert table_after(html, "测试市公安局资源的共享类型") == [
        ["无条件共享", "0", "0.0%"],
        ["有条件共享", "1", "100.0%"],
        ["不予共享", "0", "0.0%"],
    ]
    # batches: two runs today, the second with one rejected row
    assert sum(b.batches for b in batches) == 2 and sum(b.rejected for b in batches) == 1
    assert table_after(html, "每日归集入库与拒收行数") == [
        [b.day, str(b.loaded), str(b.rejected), str(b.loaded + b.rejected)] for b in batches
    ]
    assert table_after(html, "每日归集批次") == [
        [b.day, str(b.batches), str(b.read), str(b.loaded), str(b.rejected), f"{b.rejection_rate * 100:.1f}%"]
        for b in batches
    ]
    assert quarantined == 1 and '<a href="/collection">1 个</a>' in html
    # usage of GA's data by MZ's application, and GA's application using MZ's data
    assert [(u.key, u.calls, u.rows, u.refusals) for u in provided] == [("mz-dbsh", 42, 1340, 2)]
    assert [(u.calls, u.refusals) for u in used] == [(7, 1)]
    assert '<span id="usage-provider-calls">42</span>' in html
    assert '<span id="usage-consumer-calls">7</span>' in html
    assert table_after(html, "本部门数据被调用：按调用方应用的调用次数") == [[provided[0].name, "42"]]
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert [(d.day, d.calls, d.rows, d.refusals) for d in per_day] == [
        (yesterday, 12, 340, 2),
        (today().isoformat(), 30, 1000, 0),
    ]
    daily = table_after(html, "本部门数据被调用：每日调用与拒绝次数")
    assert len(daily) == 30 and daily[0] == [(today() - timedelta(days=29)).isoformat(), "0", "0"]
    assert daily[-2:] == [[d.day, str(d.calls), str(d.refusals)] for d in per_day]
    assert table_after(html, "本部门数据被调用：每日返回行数")[-2:] == [[d.day, str(d.rows)] for d in per_day]
    # the open application as provider, with its working-day deadline
    assert len(open_requests) == 1
    assert f'<a href="/sharing/requests/{open_requests[0].number}">{open_requests[0].number}</a>' in html
    assert "测试市民政局 · 应用mz-dbsh" in html
    # update timeliness of the daily resource loaded today
    assert "按时 1 个" in html
    assert "style=" not in html and "<script" not in html


def test_a_department_admin_cannot_pick_another_department(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "ga.admin")
    assert "部门看板：测试市公安局" in page(client, "/dashboard?department=GA")
    denied = client.get("/dashboard?department=MZ", headers=HTML)
    assert denied.status_code == 403
    assert "测试市民政局" not in denied.text or "只能查看本部门" in denied.text
    # the services refuse too
    ga = actor_of(db, "ga.admin")
    with db.transaction(readonly=True) as session:
        mz_id = session.scalars(select(Department.id).where(Department.code == "MZ")).one()
        with pytest.raises(PermissionDenied):
            collection_stats.batches_by_day(session, ga, department_id=mz_id)
        with pytest.raises(PermissionDenied):
            sharing_stats.open_as_provider(session, ga, department_id=mz_id)
        with pytest.raises(PermissionDenied):
            sharing_stats.usage_by_day(
                session, ga, department_id=mz_id, side="provider", since=today(), until=today()
            )


def test_node_wide_roles_pick_a_department_and_others_are_refused(client: TestClient, db: Database) -> None:
    factories.city(db)
    apply(db, MARRIAGE, TAX)
    portal_login(client, "auditor")
    html = page(client, "/dashboard?department=MZ")
    assert "部门看板：测试市民政局" in html
    assert '<option value="GA">' in html and '<option value="MZ" selected>' in html
    assert '<span class="num" id="fig-published">2</span>' in html
    # every department's mix, as the service counts it (one GROUP BY)
    with db.transaction(readonly=True) as session:
        mixes = catalog_stats.share_mix_by_department(session, actor_of(db, "auditor"))
    assert [(m.code, m.unconditional, m.conditional, m.not_shared) for m in mixes] == [("MZ", 1, 0, 1)]
    assert table_after(html, "各部门已发布资源的共享类型") == [["测试市民政局", "1", "0", "1", "2"]]
    # the 安全管理员 has neither sharing:stats nor collection:read
    portal_login(client, "security")
    assert client.get("/dashboard", headers=HTML).status_code == 403
    client.cookies.clear()
    anonymous = client.get("/dashboard", headers=HTML, follow_redirects=False)
    assert anonymous.status_code in (303, 401)
