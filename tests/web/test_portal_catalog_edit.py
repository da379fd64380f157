"""Portal pages of 目录编制: a 数据管理员 compiles a resource with its items in plain HTML forms, a 目录审核员
returns and approves it; the Excel template; the resource page's update status and masked sample rows.
Everything through the pages (no JavaScript), checked against the services and the API; both databases."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from govshare.auth.permissions import Role
from govshare.catalog import excel
from govshare.collection.freshness_service import assess
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.models import AuditEntry, Batch
from tests import factories
from tests.catalog.helpers import MARRIAGE, apply, definition
from tests.sharing import helpers as sharing
from tests.web.portal_helpers import HTML, page, portal_login, post, token

NAME = "户籍迁移登记信息"


def draft_form(**changes: Any) -> dict[str, Any]:
    """The form as a steward fills it in: a 有条件 department resource with two items."""
    data: dict[str, Any] = {
        "rows": "8",
        "name": NAME,
        "summary": "户籍迁入、迁出登记的信息，用于办理户籍相关业务。",
        "category": "部门",
        "class_code": "3",
        "item_code": "02",
        "catalog_code": "007",
        "format_category": "数据库",
        "format_type": "PostgreSQL",
        "share_type": "有条件共享",
        "share_condition": "仅向承担户籍管理职能的部门提供",
        "share_methods": ["接口", "文件"],
        "open": "否",
        "update_cycle": "每日",
        "item-0-name": "公民身份号码",
        "item-0-field": "gmsfhm",
        "item-0-type": "C",
        "item-0-length": "18",
        "item-0-key": "是",
        "item-0-mask": "证件号码",
        "item-0-standard": "GB 11643",
        "item-1-name": "迁入日期",
        "item-1-field": "qrrq",
        "item-1-type": "D",
        "item-1-nullable": "是",
        "item-1-mask": "不脱敏",
        "action": "save",
    }
    data.update(changes)
    return data


def people(db: Database) -> None:
    factories.city(db)
    factories.user(db, "reviewer", "DSJ", Role.CATALOG_REVIEWER)
    factories.user(db, "mz.steward", "MZ", Role.DATA_STEWARD)


def resource_json(client: TestClient, resource_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/catalog/resources/{resource_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_steward_compiles_reviewer_returns_then_publishes(client: TestClient, db: Database) -> None:
    people(db)
    portal_login(client, "ga.steward")
    new = page(client, "/catalog/new")
    assert "新建信息资源" in new and 'name="item-7-name"' in new and 'name="item-8-name"' not in new
    assert "<script" not in new and "style=" not in new

    # 添加更多行: the form comes back with five more rows and what was typed
    more = post(client, "/catalog/new", new, **draft_form(action="more"))
    assert more.status_code == 200
    assert 'name="item-12-name"' in more.text and f'value="{NAME}"' in more.text
    assert 'value="gmsfhm"' in more.text

    # a bad field name: a Chinese message next to the form, what was typed kept, nothing saved
    bad = post(client, "/catalog/new", new, **draft_form(**{"item-1-field": "QRRQ", "class_code": "x"}))
    assert bad.status_code == 422
    assert "信息项第 2 行「字段名」：须以小写字母开头" in bad.text
    assert "类：须为 1 位数字（1-9）" in bad.text
    assert 'value="QRRQ"' in bad.text and f'value="{NAME}"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert client.get("/api/v1/catalog/resources").json() == []

    saved = post(client, "/catalog/new", new, **draft_form())
    assert saved.status_code == 303, saved.text
    found = re.fullmatch(r"/catalog/manage/(\d+)\?done=created", saved.headers["location"])
    assert found
    resource_id = int(found.group(1))
    work = page(client, saved.headers["location"])
    assert "草稿已保存" in work and "提交审核" in work and "迁入日期" in work
    stored = resource_json(client, resource_id)
    assert stored["pending"]["state"] == "draft" and stored["code"] is None
    assert [i["field"] for i in stored["pending"]["definition"]["items"]] == ["gmsfhm", "qrrq"]
    assert stored["pending"]["definition"]["share"]["methods"] == ["接口", "文件"]

    submitted = post(client, f"/catalog/manage/{resource_id}/submit", work)
    assert submitted.status_code == 303
    assert resource_json(client, resource_id)["pending"]["state"] == "submitted"
    listing = page(client, "/catalog/manage")
    assert NAME in listing and "待审核" in listing
    assert page(client, f"/catalog/drafts/{resource_id}/edit", status=409)

    # the reviewer returns it: a comment is required
    portal_login(client, "reviewer")
    queue = page(client, "/catalog/manage")
    assert "待审核（1）" in queue and NAME in queue
    review = page(client, f"/catalog/manage/{resource_id}")
    assert "退回修改" in review and "通过并发布" in review
    empty = post(client, f"/catalog/manage/{resource_id}/return", review, comment="  ")
    assert empty.status_code == 422 and "退回时须写明审核意见" in empty.text
    comment = "摘要请写明数据的起始年份"
    returned = post(client, f"/catalog/manage/{resource_id}/return", review, comment=comment)
    assert returned.status_code == 303
    assert resource_json(client, resource_id)["pending"]["state"] == "returned"

    # the steward sees the comment, fixes the draft and submits again from the form
    portal_login(client, "ga.steward")
    listing = page(client, "/catalog/manage")
    assert "已退回" in listing and "摘要请写明数据的起始年份" in listing
    edit = page(client, f"/catalog/drafts/{resource_id}/edit")
    assert "摘要请写明数据的起始年份" in edit and f'value="{NAME}"' in edit and 'value="qrrq"' in edit
    again = post(
        client,
        f"/catalog/drafts/{resource_id}/edit",
        edit,
        **draft_form(summary="2010 年以来户籍迁入、迁出登记的信息。", action="submit"),
    )
    assert again.status_code == 303, again.text
    assert again.headers["location"] == f"/catalog/manage/{resource_id}?done=submitted"
    assert resource_json(client, resource_id)["pending"]["state"] == "submitted"

    # the reviewer approves: the resource gets its code and is found in the catalog
    portal_login(client, "reviewer")
    review = page(client, f"/catalog/manage/{resource_id}")
    approved = post(client, f"/catalog/manage/{resource_id}/approve", review, comment="")
    assert approved.status_code == 303
    published = resource_json(client, resource_id)
    assert published["code"] and published["status"] == "active" and published["pending"] is None
    hits = page(client, "/catalog?q=户籍迁移")
    assert NAME in hits and published["code"] in hits

    # another department's steward cannot edit it
    portal_login(client, "mz.steward")
    own = page(client, "/catalog/manage")
    assert NAME not in own
    page(client, f"/catalog/drafts/{resource_id}/edit", status=403)
    refused = post(client, f"/catalog/drafts/{resource_id}/edit", own, **draft_form(name="改名"))
    assert refused.status_code == 403
    assert "只能编辑本部门的信息资源" in refused.text
    assert resource_json(client, resource_id)["name"] == NAME

    # the provider's steward edits the published resource: a new version, the diff shown to the reviewer
    portal_login(client, "ga.steward")
    edit = page(client, f"/catalog/drafts/{resource_id}/edit")
    assert "保存后生成新版本" in edit
    changed = post(
        client,
        f"/catalog/drafts/{resource_id}/edit",
        edit,
        **draft_form(summary="2010 年以来户籍迁入、迁出登记的信息。", update_cycle="每周", action="submit"),
    )
    assert changed.status_code == 303, changed.text
    portal_login(client, "reviewer")
    review = page(client, f"/catalog/manage/{resource_id}")
    assert "与现行第 1 版的差异" in review and "更新周期" in review and "每周" in review


def test_submission_refused_by_the_rules_keeps_the_draft(client: TestClient, db: Database) -> None:
    people(db)
    portal_login(client, "ga.steward")
    new = page(client, "/catalog/new")
    # no key item: saved as a draft, refused at submission with the rule's Chinese message
    response = post(client, "/catalog/new", new, **draft_form(**{"item-0-key": "", "action": "submit"}))
    assert response.status_code == 422
    assert "草稿已保存，但还不能提交审核" in response.text
    assert "至少需要一个主键信息项" in response.text
    drafts = client.get("/api/v1/catalog/resources").json()
    assert [(r["name"], r["pending"]["state"]) for r in drafts] == [(NAME, "draft")]


def test_csrf_and_roles_are_enforced(client: TestClient, db: Database) -> None:
    people(db)
    apply(db, definition(MARRIAGE, provider="GA", name="户籍测试资源"), publish=False)
    portal_login(client, "ga.steward")
    resource_id = client.get("/api/v1/catalog/resources").json()[0]["id"]
    work = page(client, f"/catalog/manage/{resource_id}")
    for path, data in (
        ("/catalog/new", draft_form()),
        (f"/catalog/drafts/{resource_id}/edit", draft_form()),
        (f"/catalog/manage/{resource_id}/submit", {}),
    ):
        refused = client.post(path, data=data, headers=HTML, follow_redirects=False)
        assert refused.status_code == 403, path
        wrong = client.post(path, data={**data, "csrf_token": "x" * 40}, headers=HTML, follow_redirects=False)
        assert wrong.status_code == 403, path
    assert resource_json(client, resource_id)["pending"]["state"] == "draft"
    # a steward cannot review, a data user cannot compile
    refused = post(client, f"/catalog/manage/{resource_id}/approve", work)
    assert refused.status_code == 403
    factories.user(db, "mz.user", "MZ", Role.DATA_USER)
    portal_login(client, "mz.user")
    page(client, "/catalog/manage", status=403)
    page(client, "/catalog/new", status=403)
    anonymous = TestClient(client.app)
    assert anonymous.get("/catalog/manage", headers=HTML, follow_redirects=False).status_code == 303


def test_withdraw_needs_a_reason(client: TestClient, db: Database) -> None:
    people(db)
    apply(db, definition(MARRIAGE, provider="GA", name="待下架资源"))
    portal_login(client, "ga.admin")
    resource_id = client.get("/api/v1/catalog/resources").json()[0]["id"]
    work = page(client, f"/catalog/manage/{resource_id}")
    assert "下架理由" in work
    empty = post(client, f"/catalog/manage/{resource_id}/withdraw", work, reason=" ")
    assert empty.status_code == 422 and "请写明下架理由" in empty.text
    done = post(client, f"/catalog/manage/{resource_id}/withdraw", work, reason="数据已并入人口综合库")
    assert done.status_code == 303
    stored = resource_json(client, resource_id)
    assert stored["status"] == "withdrawn" and stored["withdrawn_reason"] == "数据已并入人口综合库"
    assert "待下架资源" not in page(client, "/catalog?q=待下架")


def test_excel_template_download_and_upload(client: TestClient, db: Database) -> None:
    people(db)
    portal_login(client, "ga.steward")
    upload_page = page(client, "/catalog/excel")
    assert 'href="/api/v1/catalog/template.xlsx"' in upload_page
    assert 'enctype="multipart/form-data"' in upload_page
    template = client.get("/api/v1/catalog/template.xlsx")
    assert template.status_code == 200 and template.headers["content-type"] == excel.XLSX_MEDIA_TYPE

    filled = excel.build_template(
        [definition(MARRIAGE, provider="GA", name="导入测试资源", summary="从 Excel 模板导入的信息资源。")],
        ["一般", "重要", "核心"],
    )
    files = {"file": ("目录.xlsx", filled, excel.XLSX_MEDIA_TYPE)}
    no_token = client.post("/catalog/excel", files=files, headers=HTML)
    assert no_token.status_code == 403
    done = client.post("/catalog/excel", data={"csrf_token": token(upload_page)}, files=files, headers=HTML)
    assert done.status_code == 200, done.text
    assert "导入完成" in done.text and "导入测试资源" in done.text and "新建草稿" in done.text
    drafts = client.get("/api/v1/catalog/resources").json()
    assert [(r["name"], r["pending"]["state"]) for r in drafts] == [("导入测试资源", "draft")]

    broken = client.post(
        "/catalog/excel",
        data={"csrf_token": token(upload_page)},
        files={"file": ("坏文件.xlsx", b"this is not a workbook", excel.XLSX_MEDIA_TYPE)},
        headers=HTML,
    )
    assert broken.status_code == 422
    assert "未导入任何内容" in broken.text and "“坏文件.xlsx”未导入" in broken.text
    assert len(client.get("/api/v1/catalog/resources").json()) == 1

    # another department's resource in the file: refused with its row named, nothing written
    other = excel.build_template([definition(MARRIAGE, name="民政的资源")], ["一般", "重要", "核心"])
    refused = client.post(
        "/catalog/excel",
        data={"csrf_token": token(upload_page)},
        files={"file": ("民政.xlsx", other, excel.XLSX_MEDIA_TYPE)},
        headers=HTML,
    )
    assert refused.status_code in (403, 422)
    assert len(client.get("/api/v1/catalog/resources").json()) == 1


def _workbook(*names: str) -> bytes:
    return excel.build_template(
        [definition(MARRIAGE, provider="GA", name=n, summary="从 Excel 模板导入的信息资源。") for n in names],
        ["一般", "重要", "核心"],
    )


def _import(client: TestClient, upload_page: str, content: bytes, **data: str) -> Any:
    return client.post(
        "/catalog/excel",
        data={"csrf_token": token(upload_page), **data},
        files={"file": ("目录.xlsx", content, excel.XLSX_MEDIA_TYPE)},
        headers=HTML,
    )


def test_excel_import_published_directly_by_a_reviewer_only(client: TestClient, db: Database) -> None:
    people(db)
    factories.user(db, "ga.reviewer", "GA", Role.CATALOG_REVIEWER, Role.DATA_STEWARD)

    # a data steward only creates drafts: no checkbox, and a forged one is refused with nothing written
    portal_login(client, "ga.steward")
    upload_page = page(client, "/catalog/excel")
    assert 'name="publish"' not in upload_page and "导入后直接发布" not in upload_page
    forged = _import(client, upload_page, _workbook("越权发布资源"), publish="是")
    assert forged.status_code == 403 and "直接发布需要目录审核权限" in forged.text
    assert client.get("/api/v1/catalog/resources").json() == []

    # the reviewer is offered the checkbox; an empty upload keeps it ticked
    portal_login(client, "ga.reviewer")
    upload_page = page(client, "/catalog/excel")
    assert re.search(r'<input id="xl-publish" name="publish" type="checkbox" value="是">', upload_page)
    assert "导入后直接发布" in upload_page and "<script" not in upload_page and "style=" not in upload_page
    empty = client.post(
        "/catalog/excel",
        data={"csrf_token": token(upload_page), "publish": "是"},
        files={"file": ("", b"", excel.XLSX_MEDIA_TYPE)},
        headers=HTML,
    )
    assert empty.status_code == 422 and 'value="是" checked' in empty.text

    # unticked: drafts, as for the steward
    drafted = _import(client, upload_page, _workbook("导入草稿资源"))
    assert drafted.status_code == 200, drafted.text
    assert (
        "新建草稿" in drafted.text
        and "直接发布" not in drafted.text.split("导入完成")[1].split("</section>")[0]
    )
    [draft] = client.get("/api/v1/catalog/resources").json()
    assert (draft["code"], draft["pending"]["state"]) == (None, "draft")

    # ticked: the new resource is published (code, current version, in the catalog) and the open draft too
    done = _import(client, upload_page, _workbook("导入草稿资源", "直接发布资源"), publish="是")
    assert done.status_code == 200, done.text
    assert "直接发布 2 个" in done.text and "新建并发布" in done.text and "内容无变化，已发布" in done.text
    found = {r["name"]: r for r in client.get("/api/v1/catalog/resources").json()}
    for name in ("导入草稿资源", "直接发布资源"):
        stored = resource_json(client, found[name]["id"])
        assert stored["status"] == "active" and stored["pending"] is None, name
        assert stored["code"] and stored["code"] in done.text and stored["current"]["number"] == 1
    assert "直接发布资源" in page(client, "/catalog?q=直接发布资源")
    with db.transaction(readonly=True) as session:
        published = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.publish")).all()
        assert sorted(e.actor_name for e in published) == ["ga.reviewer", "ga.reviewer"]


def test_update_status_against_the_cycle() -> None:
    now = utcnow()
    assert assess("daily", None, now).label == "尚无数据"
    assert assess("daily", now - timedelta(hours=20), now).label == "按时更新"
    late = assess("daily", now - timedelta(days=3, hours=1), now)
    assert (late.state, late.label, late.overdue_days) == ("overdue", "已逾期 2 天", 2)
    assert assess("other", now - timedelta(days=400), now).label == "不定期更新"


def test_resource_page_update_status_and_masked_preview(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    sharing.setup(db, tmp_path)
    apply(db, MARRIAGE)
    code = sharing.resource_code(db)
    marriage = sharing.resource_code(db, MARRIAGE["name"])
    sharing.approved_grant(client, code)  # MZ may read gmsfhm, xm, sjhm, jzdz, qx, masked

    portal_login(client, "mz.user")
    resource = page(client, f"/catalog/{code}")
    assert "更新状态" in resource and "按时更新" in resource
    assert "预览样例数据" in resource and "138****8000" not in resource
    assert "编辑（生成新版本）" not in resource
    preview = page(client, f"/catalog/{code}?preview=1")
    assert "张*" in preview and "138****8000" in preview and "110105********0123" not in preview
    assert sharing.ZHANG not in preview and "13800138000" not in preview and "张三" not in preview
    assert sharing.ZHANG[:6] + "********" + sharing.ZHANG[-4:] in preview
    header = re.search(r'<table class="grid preview">\s*<thead>(.*?)</thead>', preview, re.S)
    assert header and "公民身份号码" in header.group(1) and "性别" not in header.group(1)
    assert "政治面貌" not in header.group(1)  # 不予共享 and not granted
    with db.transaction(readonly=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "data.preview")).all()
        assert [(e.actor_name, e.purpose, e.target_id) for e in entries] == [("mz.user", "门户预览", code)]
        assert entries[0].detail["rows"] == "3" or entries[0].detail["rows"] == 3

    # a resource without data, and one whose last load is older than its cycle
    assert "尚无数据" in page(client, f"/catalog/{marriage}")
    with db.transaction() as session:
        session.execute(update(Batch).values(finished_at=utcnow() - timedelta(days=5, hours=1)))
    assert "已逾期 4 天" in page(client, f"/catalog/{code}")

    # the provider's own staff hold no grant as consumer: no preview, and no audit entry
    portal_login(client, "ga.steward")
    own = page(client, f"/catalog/{code}")
    assert "无权预览" in own and "编辑（生成新版本）" in own
    forced = page(client, f"/catalog/{code}?preview=1")
    assert "无权预览" in forced and "张*" not in forced
    with db.transaction(readonly=True) as session:
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "data.preview")).all()) == 1


def test_a_refused_draft_is_shown_again_with_what_was_typed_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    """The service's refusal (a second resource of the same name: 409) shows the form again through
    `form_errors`: the request's unit of work rolls back, the page is built afresh with the values kept."""
    people(db)
    portal_login(client, "ga.steward")
    first = post(client, "/catalog/new", page(client, "/catalog/new"), **draft_form())
    assert first.status_code == 303
    again = post(
        client, "/catalog/new", page(client, "/catalog/new"), **draft_form(summary="第二次填写的摘要。")
    )
    assert again.status_code == 409
    assert f"已有名为“{NAME}”的信息资源" in again.text
    assert "第二次填写的摘要。" in again.text and 'value="gmsfhm"' in again.text
    assert [r["name"] for r in client.get("/api/v1/catalog/resources").json()] == [NAME]
    with db.transaction(readonly=True) as session:
        created = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.create")).all()
    assert len(created) == 1
