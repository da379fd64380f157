"""Portal pages of sharing: civil servants apply, approve, refuse, withdraw, negotiate and revoke in the
browser with plain HTML forms (POST with the CSRF token, no JavaScript), through the same services as the API.
States are checked through the API, not only the pages' status codes. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.core.node import node_config
from govshare.models import ShareRequest
from govshare.sharing.workdays import WorkCalendar
from tests import factories
from tests.catalog.helpers import apply as publish
from tests.sharing.helpers import PEOPLE, resource_code, setup, today
from tests.web.portal_helpers import HTML, page, portal_login, post


def state(client: TestClient, number: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/sharing/requests/{number}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def number_of(response: Response) -> str:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/sharing/requests/(SQ-\d{4}-\d{6})\?done=\w+", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def application_form(code: str, application: str = "mz-dbsh", **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "resource": code,
        "application": application,
        "purpose_kind": "data_check",
        "purpose": "最低生活保障对象资格审核",
        "basis": "《社会救助暂行办法》第十一条",
        "items": ["gmsfhm", "xm", "sjhm", "qx"],
        "clear_items": ["sjhm"],
        "scope_item": "qx",
        "scope_values": "110105，110106",
        "period_start": today().isoformat(),
        "period_end": (today() + timedelta(days=180)).isoformat(),
        "requests_per_day": "1000",
        "rows_per_day": "10000",
    }
    form.update(overrides)
    return form


def test_apply_approve_refuse_and_csrf_through_the_forms(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    setup(db, tmp_path)
    code = resource_code(db)

    # 民政's department admin finds the resource in the catalog and opens the application form.
    portal_login(client, "mz.admin", "/sharing")
    home = page(client, "/sharing")
    assert '<a href="/sharing">共享</a>' in home and "共享申请" in home
    assert f'href="/sharing/apply?resource={code}">申请使用' in page(client, f"/catalog/{code}")
    form = page(client, f"/sharing/apply?resource={code}")
    assert "共享申请" in form and "共享测试人口信息" in form and "有条件共享" in form
    assert "应用mz-dbsh（mz-dbsh）" in form  # the department's applications as a select
    assert "政治面貌" in form and "不予共享，不能申请" in form
    assert 'name="items" value="zzmm"' not in form  # a 不予共享 item cannot be ticked
    assert "订阅无条件共享的信息项" in form  # 公民身份号码 and 姓名 are 无条件 within the resource
    assert "<script" not in form and "http://" not in form and "https://" not in form

    # A forged 不予共享 item is refused with the service's Chinese message; the form keeps what was typed.
    bad = post(client, "/sharing/apply", form, **application_form(code, items=["gmsfhm", "zzmm"]))
    assert bad.status_code == 422
    assert "信息项：信息项“政治面貌”为不予共享，不能申请" in bad.text
    assert "最低生活保障对象资格审核</textarea>" in bad.text
    assert client.get("/api/v1/sharing/requests").json() == []

    filed = post(client, "/sharing/apply", form, **application_form(code))
    number = number_of(filed)
    request = state(client, number)
    assert request["state"] == "pending"
    assert (request["items"], request["clear_items"]) == (["gmsfhm", "xm", "sjhm", "qx"], ["sjhm"])
    assert request["row_scope"] == {"qx": ["110105", "110106"]}
    mine = page(client, filed.headers["location"])
    assert "共享申请已提交" in mine and "待审批" in mine and "办理时限" in mine
    assert "手机号码（sjhm）" in mine and "所在区县：110105、110106" in mine
    assert "撤回申请" in mine and "/approve" not in mine  # the applicant cannot approve its own application
    assert number in page(client, "/sharing?side=consumer")

    # 公安's department admin sees it waiting, with the approval form.
    portal_login(client, "ga.admin", "/sharing")
    waiting = page(client, "/sharing?side=provider")
    assert "待我审批的" in waiting and number in waiting and "待审批" in waiting
    assert number not in page(client, "/sharing?side=consumer")
    detail = page(client, f"/sharing/requests/{number}")
    assert "同意（可部分同意）" in detail and "不同意的理由" in detail
    assert (
        'name="items" value="sjhm" checked' in detail and 'name="scope" value="qx:110106" checked' in detail
    )

    # Refusing without a reason shows the page again with the message; nothing changes.
    refused = post(client, f"/sharing/requests/{number}/refuse", detail, reason="")
    assert refused.status_code == 422
    assert "理由：不同意共享必须说明理由（至少 4 个字）" in refused.text
    assert state(client, number)["state"] == "pending"

    # A post without the token, or with another one, is refused and changes nothing.
    approval = {"items": ["gmsfhm", "xm", "qx"], "scope": ["qx:110105"], "reason": "手机号码不属于审核所需"}
    for forged in ({}, {"csrf_token": "0" * 64}):
        response = client.post(
            f"/sharing/requests/{number}/approve", data={**approval, **forged}, follow_redirects=False
        )
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
    assert state(client, number)["state"] == "pending"

    # Partial approval without its reason: the page says why and keeps the ticked boxes.
    no_reason = post(client, f"/sharing/requests/{number}/approve", detail, **{**approval, "reason": ""})
    assert no_reason.status_code == 422
    assert "部分同意（信息项、记录范围、期限或配额少于申请）须说明理由" in no_reason.text
    assert (
        'name="items" value="sjhm">' in no_reason.text and 'name="scope" value="qx:110106">' in no_reason.text
    )
    assert state(client, number)["state"] == "pending"

    # Approving fewer items (no 手机号码, so no clear text either) and 东城 only.
    decided = post(client, f"/sharing/requests/{number}/approve", detail, **approval)
    assert (decided.status_code, decided.headers["location"]) == (
        303,
        f"/sharing/requests/{number}?done=decided",
    )
    result = state(client, number)
    assert result["state"] == "partial"
    assert result["approved_items"] == ["gmsfhm", "xm", "qx"]
    assert (result["approved_clear_items"], result["approved_row_scope"]) == ([], {"qx": ["110105"]})
    grant_id = result["grant_id"]
    assert grant_id
    shown = page(client, decided.headers["location"])
    assert "审批答复已办理" in shown and "部分同意" in shown and "手机号码不属于审核所需" in shown
    assert f'href="/sharing/grants#grant-{grant_id}"' in shown
    assert "/approve" not in shown  # decided: no form any more
    grants = page(client, "/sharing/grants")
    assert f'id="grant-{grant_id}"' in grants and "有效" in grants and "公民身份号码（gmsfhm）" in grants
    assert f'action="/sharing/grants/{grant_id}/revoke"' in grants

    # Deciding twice is a conflict, shown on the page.
    again = post(client, f"/sharing/requests/{number}/refuse", detail, reason="重复办理的答复")
    assert again.status_code == 409
    assert "只有“待审批”的申请可以办理" in again.text
    assert state(client, number)["state"] == "partial"


def test_withdraw_revoke_visibility_and_login(client: TestClient, db: Database, tmp_path: Path) -> None:
    setup(db, tmp_path)
    factories.application_key(db, "mz-jzgl", "MZ")
    code = resource_code(db)
    portal_login(client, "mz.admin", "/sharing")
    form = page(client, f"/sharing/apply?resource={code}")
    first = number_of(post(client, "/sharing/apply", form, **application_form(code)))
    second = number_of(post(client, "/sharing/apply", form, **application_form(code, application="mz-jzgl")))

    # The same application cannot have two open applications for the resource: a conflict on the page.
    twice = post(client, "/sharing/apply", form, **application_form(code))
    assert twice.status_code == 409 and "该应用对此资源已有办理中的申请" in twice.text

    # 民政 withdraws the second application.
    detail = page(client, f"/sharing/requests/{second}")
    withdrawn = post(client, f"/sharing/requests/{second}/withdraw", detail)
    assert withdrawn.headers["location"] == f"/sharing/requests/{second}?done=withdrawn"
    assert state(client, second)["state"] == "withdrawn"
    shown = page(client, withdrawn.headers["location"])
    assert "申请已撤回" in shown and "已撤回" in shown and "申请方撤回申请" in shown
    assert "撤回申请</button>" not in shown
    assert state(client, first)["state"] == "pending"
    listed = page(client, "/sharing?side=consumer&state=withdrawn")
    assert second in listed and first not in listed

    # Pending: the deadline counts down in working days (the jurisdiction's calendar), on its page and in
    # the provider's inbox.
    with db.transaction(readonly=True) as session:
        due = session.scalars(select(ShareRequest.due_at).where(ShareRequest.number == first)).one()
        assert due is not None
        left = WorkCalendar(node_config(session).jurisdiction.sharing).working_days_left(utcnow(), due)
    assert left > 0
    assert f"剩余 {left} 个工作日" in page(client, f"/sharing/requests/{first}")
    portal_login(client, "ga.admin", "/sharing")
    assert f"剩余 {left} 个工作日" in page(client, "/sharing?side=provider&state=pending")
    portal_login(client, "mz.admin", "/sharing")

    # Past its deadline, the application is marked 已超期 in the list and on its page.
    with db.transaction() as session:
        session.execute(
            update(ShareRequest)
            .where(ShareRequest.number == first)
            .values(due_at=utcnow() - timedelta(days=1))
        )
    overdue = page(client, f"/sharing/requests/{first}")
    with db.transaction(readonly=True) as session:
        due = session.scalars(select(ShareRequest.due_at).where(ShareRequest.number == first)).one()
        assert due is not None
        late = -WorkCalendar(node_config(session).jurisdiction.sharing).working_days_left(utcnow(), due)
    assert (f"已超期 {late} 个工作日" if late > 0 else "已超期</strong>") in overdue
    assert "办理时限" in overdue and "剩余" not in overdue
    assert "已超期" in page(client, "/sharing?side=consumer&state=pending")
    assert "已超期" not in page(client, f"/sharing/requests/{second}")

    # A user of an unrelated department sees neither the application nor its forms.
    portal_login(client, "rs.admin", "/sharing")
    missing = client.get(f"/sharing/requests/{first}", headers=HTML)
    assert missing.status_code == 404 and f"共享申请“{first}”不存在" in missing.text
    assert first not in page(client, "/sharing")
    refused = post(client, f"/sharing/requests/{first}/withdraw", page(client, "/sharing"))
    assert refused.status_code == 403
    portal_login(client, "mz.admin", "/sharing")
    assert state(client, first)["state"] == "pending"

    # 公安 approves everything; 民政 gives the grant up with a reason on the grants page.
    portal_login(client, "ga.admin", "/sharing")
    detail = page(client, f"/sharing/requests/{first}")
    approved = post(
        client,
        f"/sharing/requests/{first}/approve",
        detail,
        items=["gmsfhm", "xm", "sjhm", "qx"],
        clear_items=["sjhm"],
        scope=["qx:110105", "qx:110106"],
    )
    assert approved.status_code == 303, approved.text
    assert state(client, first)["state"] == "approved"
    grant_id = state(client, first)["grant_id"]
    portal_login(client, "mz.admin", "/sharing")
    grants = page(client, "/sharing/grants")
    no_reason = post(client, f"/sharing/grants/{grant_id}/revoke", grants, reason="")
    assert no_reason.status_code == 422 and "理由：不能为空" in no_reason.text
    revoked = post(client, f"/sharing/grants/{grant_id}/revoke", grants, reason="审核工作已结束")
    assert revoked.headers["location"] == f"/sharing/grants?done=revoked#grant-{grant_id}"
    assert client.get(f"/api/v1/sharing/grants/{grant_id}").json()["state"] == "revoked"
    after = page(client, "/sharing/grants?done=revoked")
    assert "授权已撤销" in after and "已撤销" in after and "审核工作已结束" in after
    assert f'action="/sharing/grants/{grant_id}/revoke"' not in after

    # Anonymous visitors are sent to the login page and back.
    client.cookies.clear()
    for path in ("/sharing", f"/sharing/requests/{first}", "/sharing/grants"):
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, f"/login?next={path}")
    anonymous = client.post(f"/sharing/requests/{first}/withdraw", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_dispute_escalate_settle_subscribe_and_negotiate(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    setup(db, tmp_path)
    code = resource_code(db)
    closed = copy.deepcopy(PEOPLE)
    closed.update(
        name="共享测试不予共享信息",
        share={"type": "不予", "condition": "涉及国家秘密"},
        legal_basis="《中华人民共和国保守国家秘密法》",
    )
    for item in closed["items"]:
        item.pop("share", None)
    publish(db, closed)
    closed_code = resource_code(db, "共享测试不予共享信息")

    portal_login(client, "mz.admin", "/sharing")
    form = page(client, f"/sharing/apply?resource={code}")
    number = number_of(post(client, "/sharing/apply", form, **application_form(code)))

    portal_login(client, "ga.admin", "/sharing")
    detail = page(client, f"/sharing/requests/{number}")
    post(client, f"/sharing/requests/{number}/refuse", detail, reason="申请用途与共享条件不符")
    assert state(client, number)["state"] == "refused"

    # 民政 disagrees: 协商.
    portal_login(client, "mz.admin", "/sharing")
    detail = page(client, f"/sharing/requests/{number}")
    assert "对答复有异议，发起协商" in detail and "申请用途与共享条件不符" in detail
    disputed = post(client, f"/sharing/requests/{number}/dispute", detail, reason="低保审核属于社会救助职能")
    assert disputed.headers["location"].endswith("?done=disputed")
    assert state(client, number)["state"] == "negotiating"

    # 公安 answers in writing; 民政 still takes it to the 主管部门.
    portal_login(client, "ga.admin", "/sharing")
    detail = page(client, f"/sharing/requests/{number}")
    assert "答复协商" in detail
    post(client, f"/sharing/requests/{number}/answer", detail, reason="请补充低保审核的具体依据")
    portal_login(client, "mz.admin", "/sharing")
    detail = page(client, f"/sharing/requests/{number}")
    assert "提供部门的协商答复" in detail and "请补充低保审核的具体依据" in detail
    post(client, f"/sharing/requests/{number}/escalate", detail, reason="已补充依据，提供部门仍未同意")
    assert state(client, number)["state"] == "escalated"

    # The reviewer (主管部门) sees it among its work and directs the provider to decide again.
    portal_login(client, "reviewer", "/sharing")
    assert number in page(client, "/sharing?side=supervise")
    detail = page(client, f"/sharing/requests/{number}")
    assert "主管部门协调" in detail and "责成提供部门重新审批" in detail
    unchosen = post(client, f"/sharing/requests/{number}/settle", detail, comment="请重新审批")
    assert unchosen.status_code == 422 and "办理结果：请选择“责成重新审批”或“协调办结”" in unchosen.text
    post(
        client,
        f"/sharing/requests/{number}/settle",
        detail,
        outcome="reopen",
        comment="属于社会救助职能，请重新审批",
    )
    assert state(client, number)["state"] == "pending"

    # 无条件 items are subscribed to at once.
    portal_login(client, "mz.admin", "/sharing")
    form = page(client, f"/sharing/apply?resource={code}")
    subscribed = post(
        client,
        "/sharing/subscribe",
        form,
        resource=code,
        application="mz-dbsh",
        purpose_kind="work_reference",
        purpose="身份核对",
        items=["gmsfhm", "xm"],
    )
    assert subscribed.status_code == 303 and subscribed.headers["location"].startswith(
        "/sharing/grants?done=subscribed"
    )
    grants = client.get("/api/v1/sharing/grants").json()
    assert [(g["kind"], g["items"], g["state"]) for g in grants] == [
        ("subscription", ["gmsfhm", "xm"], "active")
    ]
    assert "无条件订阅" in page(client, "/sharing/grants")

    # A 不予共享 resource offers only 协商.
    closed_form = page(client, f"/sharing/apply?resource={closed_code}")
    assert "发起协商" in closed_form and 'action="/sharing/apply"' not in closed_form
    assert 'action="/sharing/subscribe"' not in closed_form
    negotiated = post(
        client,
        "/sharing/negotiate",
        closed_form,
        resource=closed_code,
        application="mz-dbsh",
        reason="核查低保对象的政治面貌信息",
    )
    other = number_of(negotiated)
    assert state(client, other)["state"] == "negotiating" and state(client, other)["kind"] == "negotiate"
    assert "协商申请已提交" in page(client, negotiated.headers["location"])
