"""End to end in the browser: a 数据管理员 compiles a resource and submits it, the 目录审核员 publishes it and
anyone finds it in the catalog; an anonymous citizen finds an open dataset and downloads its CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NEW_RESOURCE = "公交线路站点信息"


def test_steward_compiles_reviewer_publishes_and_the_catalog_finds_it(page: Page, another_page: Page) -> None:
    # 交通运输局's 数据管理员 fills in the form (no JavaScript needed) and submits it for review.
    login(page, "jt.steward")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="编目").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("目录编制")
    page.get_by_role("link", name="新建信息资源").click()
    form = page.locator("form.catalog-form")
    form.get_by_label("信息资源名称（必填）").fill(NEW_RESOURCE)
    form.get_by_label(re.compile("^摘要")).fill(
        "本市公交线路及其站点的名称、位置和首末班时间，用于出行服务和交通规划。"
    )
    form.get_by_label("资源分类（必填）").select_option("部门")
    form.get_by_label("类（1 位数字）").fill("3")
    form.get_by_label("项（2 位数字）").fill("10")
    form.get_by_label("目（3 位数字）").fill("901")
    form.get_by_label("格式分类（必填）").select_option("数据库")
    form.get_by_label(re.compile("^格式类型")).fill("PostgreSQL")
    form.get_by_label("更新周期（必填）").select_option("每日")
    form.get_by_label("共享类型（必填）").select_option("无条件共享")
    form.get_by_label("接口", exact=True).check()
    rows = [
        ("线路编号", "xlbh", "C", "20", True),
        ("线路名称", "xlmc", "C", "100", False),
        ("站点名称", "zdmc", "C", "100", False),
    ]
    for i, (name, field, kind, length, key) in enumerate(rows):
        form.get_by_label(f"第 {i + 1} 行 信息项名称").fill(name)
        form.get_by_label(f"第 {i + 1} 行 字段名").fill(field)
        form.get_by_label(f"第 {i + 1} 行 数据类型").select_option(kind)
        form.get_by_label(f"第 {i + 1} 行 长度").fill(length)
        if key:
            form.get_by_label(f"第 {i + 1} 行 主键").check()
    screenshot(page, "catalog-new-filled")
    with page.expect_navigation():
        form.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator("main")).not_to_contain_text("需要修改")
    expect(page.get_by_text("已提交审核，请等待目录审核员审核。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_RESOURCE)
    expect(page.locator(".tag").first).to_have_text("待审核")
    draft_url = page.url.split("?")[0]

    # Not yet in the catalog: nothing is published before the review.
    another_page_search = another_page
    login(another_page_search, "mz.user")
    another_page_search.goto(f"/catalog?q={NEW_RESOURCE}")
    expect(another_page_search.locator(".hits")).to_contain_text("没有找到符合条件的信息资源")

    # The 目录审核员 finds it in the queue and publishes it.
    page.context.clear_cookies()
    login(page, "reviewer")
    page.goto("/catalog/manage")
    queue = page.locator("section").filter(has=page.get_by_role("heading", name=re.compile("^待审核")))
    queue.get_by_role("link", name=NEW_RESOURCE).first.click()
    assert page.url.split("?")[0].split("#")[0] == draft_url
    page.locator("#review").get_by_label("审核意见（可选）").fill("元数据完整，同意发布")
    with page.expect_navigation():
        page.locator("#review").get_by_role("button", name="通过并发布").click()
    expect(page.get_by_text("审核通过，信息资源已发布。")).to_be_visible()
    expect(page.locator(".tag").first).to_have_text("已发布")
    code = re.search(r"\b3\d{5}-\d{6}\b", page.locator("p.meta").first.inner_text())
    assert code, page.locator("p.meta").first.inner_text()

    # Now the catalog search finds it, with its code, provider and items.
    another_page_search.goto("/catalog")
    another_page_search.get_by_label("关键词").fill(NEW_RESOURCE)
    another_page_search.get_by_role("button", name="检索").click()
    hit = another_page_search.locator(".hits li").filter(has_text=NEW_RESOURCE)
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text(code.group(0))
    expect(hit).to_contain_text("示例市交通运输局")
    expect(hit).to_contain_text("无条件")
    hit.get_by_role("link", name=NEW_RESOURCE).click()
    expect(another_page_search.get_by_role("heading", level=1)).to_have_text(NEW_RESOURCE)
    expect(another_page_search.locator("main")).to_contain_text("zdmc")


def test_a_citizen_finds_an_open_dataset_and_downloads_its_csv(page: Page) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据开放").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("公共数据开放")
    page.get_by_label("关键词").fill("企业登记")
    page.get_by_role("button", name="检索").click()
    page.locator(".hits").get_by_role("link", name="企业登记注册信息", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("企业登记注册信息")

    opened = page.locator("h2:has-text('开放的数据项') + table tbody tr td:nth-child(2)").all_inner_texts()
    withheld = page.locator("h2:has-text('未开放的数据项') + p + table").inner_text()
    assert "法定代表人" in withheld
    count_text = page.get_by_role("row", name=re.compile("^记录数")).inner_text()
    count = int(re.search(r"(\d+) 条", count_text).group(1))  # type: ignore[union-attr]
    first_code = page.locator(".open-scroll tbody tr").first.locator("td").first.inner_text()

    with page.expect_download() as info:
        page.get_by_role("link", name="下载 CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    raw = download.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV with a byte-order mark, so Excel reads it as UTF-8"
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == opened, (table[0], opened)
    assert "fddbr" not in table[0] and all("法定代表人" not in cell for cell in table[0])
    assert len(table) - 1 == count
    assert first_code in {row[0] for row in table[1:]}
