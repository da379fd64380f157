"""End to end in the browser: 民政 applies for a 有条件 公安 resource, 公安 approves fewer items, 民政
sees the grant, and its application system gets exactly the approved items from the data API."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from playwright.sync_api import Page, expect

from govshare.core.clock import BEIJING
from govshare.jurisdiction import Jurisdiction
from govshare.sharing.workdays import WorkCalendar
from tests.browser.conftest import Node
from tests.browser.helpers import data_headers, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RESOURCE = "人口基本信息"
PROVIDER = "示例市公安局"
ASKED = ["gmsfhm", "xm", "xb", "csrq", "mz", "hjdz", "hyzk"]
APPROVED = ["gmsfhm", "xm", "xb", "csrq", "mz", "hyzk"]  # 户籍地址 (hjdz) refused


def test_apply_approve_fewer_items_grant_and_data_api(page: Page, another_page: Page, node: Node) -> None:
    # 民政's department admin finds the 公安 resource in the catalog.
    login(page, "mz.admin")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="目录").click()
    page.get_by_label("关键词").fill(RESOURCE)
    page.get_by_role("button", name="检索").click()
    hit = page.locator(".hits li").filter(has=page.get_by_role("link", name=RESOURCE, exact=True))
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("有条件")
    expect(hit).to_contain_text(PROVIDER)
    hit.get_by_role("link", name=RESOURCE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(RESOURCE)
    code = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert re.fullmatch(r"\d{6}-\d{6}", code), page.url

    # The application form: application system, purpose, basis, items.
    page.get_by_role("link", name="申请使用").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"申请使用：{RESOURCE}")
    form = page.locator("#apply form")
    form.get_by_label("使用数据的应用系统").select_option("mz-hydj")
    form.get_by_label("具体用途（业务事项）").fill(
        "婚姻登记当事人身份信息核验，核对民族与婚姻状况（浏览器测试）"
    )
    form.get_by_label("申请依据（业务依据或法律法规依据）").fill("《婚姻登记条例》")
    for field in ASKED:
        form.locator(f"#ap-item-{field}").check()
    screenshot(page, "sharing-apply")
    with page.expect_navigation():
        form.get_by_role("button", name="提交共享申请").click()
    expect(page.get_by_text("共享申请已提交")).to_be_visible()
    match = re.search(r"/sharing/requests/([A-Za-z0-9-]+)", page.url)
    assert match, page.url
    number = match.group(1)
    expect(page.locator(".tag").first).to_have_text("待审批")

    submitted = datetime.now(BEIJING)

    # 公安's department admin finds it in the inbox, with a deadline in working days.
    provider = another_page
    login(provider, "ga.admin")
    provider.goto("/sharing?side=provider")
    row = provider.locator("tbody tr").filter(has=provider.get_by_role("link", name=number, exact=True))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(RESOURCE)
    expect(row).to_contain_text("示例市民政局")
    expect(row).to_contain_text("待审批")
    due_text = row.locator("td").nth(6).inner_text()
    due_match = re.search(r"(\d{4})-(\d{2})-(\d{2})", due_text)
    assert due_match, f"no deadline shown: {due_text!r}"
    due = date(*map(int, due_match.groups()))
    # The provider's time limit counts working days (weekends and public holidays do not count).
    rules = Jurisdiction().sharing
    expected = WorkCalendar(rules).add_working_days(submitted, rules.provider_days).due_at
    assert due == expected.astimezone(BEIJING).date(), (due_text, expected)
    calendar_days = (due - submitted.date()).days
    assert calendar_days > rules.provider_days, "calendar days were counted, not working days"
    screenshot(provider, "sharing-inbox")

    # It approves fewer items than asked, with the reason a partial approval needs.
    row.get_by_role("link", name=number, exact=True).click()
    expect(provider.get_by_role("heading", level=1)).to_contain_text(number)
    screenshot(provider, "sharing-request-to-decide")
    approve = provider.locator(f"form[action='/sharing/requests/{number}/approve']")
    for field in APPROVED:
        expect(approve.locator(f"#ap-item-{field}")).to_be_checked()
    approve.locator("#ap-item-hjdz").uncheck()
    approve.get_by_label(re.compile("^说明")).fill(
        "户籍地址不是婚姻登记身份核验所必需的信息，按最小必要原则不予提供"
    )
    # The demo's mz-hydj already holds a grant on this resource: the page shows it beside the application,
    # and an approval that would narrow it is refused until the approver chooses merge or replace (#18.1).
    expect(provider.get_by_role("heading", name="该应用已持有的授权")).to_be_visible()
    with provider.expect_navigation():
        approve.get_by_role("button", name="同意").click()
    expect(provider.locator("#approve .error")).to_contain_text("请选择“合并”")
    approve.get_by_role("radio", name=re.compile("^取代：以本次同意为准")).check()
    with provider.expect_navigation():
        approve.get_by_role("button", name="同意").click()
    expect(provider.get_by_text("审批答复已办理")).to_be_visible()
    expect(provider.locator(".tag").first).to_have_text("部分同意")
    decided = provider.get_by_role("row", name=re.compile("^同意的信息项"))
    expect(decided).not_to_contain_text("户籍地址")
    expect(decided).to_contain_text("民族")

    # 民政 sees the new grant (and the one it replaces) on the grants page.
    page.goto("/sharing/grants")
    grants = page.locator("tbody tr").filter(has_text="应用 mz-hydj").filter(has_text=RESOURCE)
    current = grants.filter(has_text="民族")
    expect(current).to_have_count(1)
    expect(current).not_to_contain_text("户籍地址")
    expect(current.locator(".tag")).to_have_text("有效")
    screenshot(page, "sharing-grants-after-approval")

    # 民政's admin issues a key for its 婚姻登记 system on /apps; the full key is shown once.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="应用与密钥").click()
    page.locator("#app-mz-hydj").get_by_role("link", name="婚姻登记管理系统").click()
    issue = page.locator("#issue form")
    with page.expect_navigation():
        issue.get_by_role("button", name="签发密钥").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("接口密钥已签发")
    key = page.get_by_label("完整密钥").input_value()
    assert key.startswith("gs_") and key != node.keys["mz-hydj"]
    screenshot(page, "apps-key-issued")

    # The application system calls the data API with it: only the approved items come back.
    headers = data_headers(key, "婚姻登记当事人身份核验", "王小民")
    answer = page.request.get(f"/api/v1/data/{code}/records?limit=20", headers=headers)
    assert answer.status == 200, answer.text()
    records = answer.json()["items"]
    assert records, "the demo loaded 人口基本信息; the grant has no row scope"
    for record in records:
        assert sorted(record) == sorted(APPROVED), record
        assert "*" in record["gmsfhm"], "公民身份号码 is masked (no clear items were asked for)"
    listing = page.request.get("/api/v1/data", headers=headers).json()
    granted = next(entry for entry in listing if entry["resource"] == code)
    assert sorted(item["field"] for item in granted["items"]) == sorted(APPROVED)
    # Asking with the refused item as a condition is refused too (it would reveal it by inference).
    refused = page.request.get(f"/api/v1/data/{code}/records?hjdz=x", headers=headers)
    assert refused.status == 403, refused.text()
    # Without the purpose and operator headers the call is refused.
    bare = page.request.get(f"/api/v1/data/{code}/records", headers={"Authorization": f"Bearer {key}"})
    assert bare.status == 400

    # Revoking the key on /apps stops it at once.
    prefix = key.split("_")[1]
    page.get_by_role("link", name="← 返回 婚姻登记管理系统").click()
    row = page.locator(f"#key-{prefix}")
    expect(row).to_contain_text("有效")
    row.get_by_label("吊销理由").fill("浏览器测试结束，吊销测试密钥")
    with page.expect_navigation():
        row.get_by_role("button", name="吊销密钥").click()
    expect(page.locator(f"#key-{prefix}")).to_contain_text("已吊销")
    assert page.request.get("/api/v1/data", headers=headers).status == 401
