"""Portal pages of collection: a 数据管理员 registers a file source with a pasted mapping, uploads a GBK CSV
through the multipart form (CSRF token), follows the batch page (refreshing itself while the batch runs),
reviews, downloads and reprocesses the quarantined rows. Counts are checked against the API; who may see
what is checked per role. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from govshare.auth.actor import Actor
from govshare.collection import connections, jobs, service
from govshare.collection.connections import ConnectionCreate
from govshare.collection.portal import uploads as portal_collection_uploads
from govshare.core.db import Database
from govshare.models import Source
from tests.collection.helpers import OPERATOR, person_id, setup, write_csv
from tests.sharing.helpers import resource_code
from tests.web.portal_helpers import HTML, page, portal_login, post, token

RESOURCE = "测试人口信息"
FILE_MAPPING = """source: {kind: csv, encoding: auto}
mode: full
cursor: gxsj
columns:
  gmsfhm: 身份证号
  xm: {from: 姓名, normalize: text}
  xb: {from: 性别, map: {"0": "1", "1": "2"}}
  csrq: 出生日期
  jzdz: 地址
  gxsj: 更新时间
"""
ZHANG = person_id("19900307", 123)
LI = person_id("19850101", 24)
WANG = person_id("20000229", 11)
BAD_CHECK = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
ROWS = [
    [ZHANG, "张三", "0", "1990-03-07", "北京市东城区", "2024-01-01 08:00:00"],
    [LI, "李四", "1", "19850101", "上海市黄浦区", "2024-01-01 08:00:00"],
    [BAD_CHECK, "赵六", "0", "1990-03-07", "广州", "2024-01-01 08:00:00"],  # row 4: check digit
    [WANG, "王五", "0", "2000年2月29日", "", "2024-01-01 08:00:00"],
    [person_id("19800101", 31), "钱七", "5", "1980-01-01", "", "2024-01-01 08:00:00"],  # row 6: sex code
]


def gbk_file(tmp_path: Path) -> bytes:
    return write_csv(tmp_path / "人口.csv", ROWS, encoding="gbk").read_bytes()


def api(client: TestClient, path: str) -> Any:
    response = client.get(f"/api/v1/collection{path}")
    assert response.status_code == 200, response.text
    return response.json()


def register(client: TestClient, db: Database, name: str = "人口月报表", mapping: str = FILE_MAPPING) -> int:
    form = page(client, "/collection/sources/new")
    code = resource_code(db, RESOURCE)
    assert f'value="{code}"' in form  # the department's published resource is offered
    done = post(
        client,
        "/collection/sources",
        form,
        resource=code,
        name=name,
        update_cycle="monthly",
        mapping=mapping,
    )
    assert done.status_code == 303, done.text
    found = re.fullmatch(r"/collection/sources/(\d+)\?done=registered", done.headers["location"])
    assert found, done.headers["location"]
    return int(found.group(1))


def upload(
    client: TestClient, source_id: int, content: bytes, *, csrf: str | None, filename: str = "人口.csv"
) -> Response:
    data = {"csrf_token": csrf} if csrf is not None else {}
    return client.post(
        f"/collection/sources/{source_id}/upload",
        data=data,
        files={"file": (filename, content, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )


def batch_of(response: Response) -> int:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/collection/batches/(\d+)\?done=started", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def figure(text: str, name: str) -> int:
    found = re.search(rf'id="count-{name}">(\d+)<', text)
    assert found, name
    return int(found.group(1))


@pytest.fixture
def steward(db: Database, client: TestClient, tmp_path: Path) -> tuple[int, int]:
    """A registered file source and one batch of the GBK file uploaded through the portal."""
    setup(db)
    portal_login(client, "ga.steward")
    source_id = register(client, db)
    source_page = page(client, f"/collection/sources/{source_id}")
    assert "上传文件并归集" in source_page and 'enctype="multipart/form-data"' in source_page
    return source_id, batch_of(upload(client, source_id, gbk_file(tmp_path), csrf=token(source_page)))


def test_a_steward_uploads_a_gbk_file_and_reads_the_exact_counts(
    client: TestClient, steward: tuple[int, int]
) -> None:
    source_id, batch_id = steward
    sources = api(client, "/sources")
    assert [(s["id"], s["kind"], s["update_cycle"]) for s in sources] == [(source_id, "csv", "monthly")]
    batch = api(client, f"/batches/{batch_id}")
    assert (batch["status"], batch["source_id"]) == ("succeeded", source_id)
    assert batch["encoding"] in ("gbk", "gb18030")  # detected: the file was written in GBK
    assert (batch["read"], batch["inserted"], batch["rejected"]) == (5, 3, 2)
    # the batch's origin names the uploaded file, never where the node stored it
    assert batch["origin"] == "人口月报表（上传文件 人口.csv）", batch["origin"]
    text = page(client, f"/collection/batches/{batch_id}?done=started")
    assert "批次已开始" in text and "批次已成功完成" in text
    for name in ("read", "inserted", "updated", "unchanged", "superseded", "deleted", "empty", "rejected"):
        assert figure(text, name) == batch[name], name
    assert "一致" in text and "读取 5 = 新增 3 + 更新 0" in text
    assert 'http-equiv="refresh"' not in text  # finished: no more refreshing
    assert f'href="/collection/batches/{batch_id}/quarantine"' in text
    # the overview lists the source with its last batch, and the batch
    overview = page(client, "/collection")
    assert "人口月报表" in overview and f"/collection/batches/{batch_id}" in overview
    assert "读取 5，新增 3，更新 0，未变 0，隔离 2" in overview
    assert '<select id="department"' not in overview  # a department's staff see their own only
    assert f"/collection/batches/{batch_id}" not in page(client, "/collection?status=failed")
    # the same file again: every valid row is unchanged
    source_page = page(client, f"/collection/sources/{source_id}")
    assert f"批次 {batch_id}" in source_page


def test_the_quarantine_page_lists_the_bad_rows_and_downloads_them(
    client: TestClient, steward: tuple[int, int]
) -> None:
    _source_id, batch_id = steward
    expected = api(client, f"/batches/{batch_id}/quarantine")
    assert sorted((q["row_no"], q["rule"]) for q in expected) == [(4, "id.check"), (6, expected[1]["rule"])]
    text = html.unescape(page(client, f"/collection/batches/{batch_id}/quarantine"))
    for row in expected:
        assert row["message"] in text, row["message"]
    assert "公民身份号码（gmsfhm）" in text and BAD_CHECK in text and "钱七" in text
    assert "张三" not in text  # loaded rows are not in quarantine
    only_sex = html.unescape(page(client, f"/collection/batches/{batch_id}/quarantine?column=xb"))
    assert "钱七" in only_sex and BAD_CHECK not in only_sex and "符合条件 1 行" in only_sex
    download = client.get(f"/collection/batches/{batch_id}/quarantine/download?format=csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["行号", "问题字段", "规则", "原因"]
    assert sorted((r[0], r[2]) for r in lines[1:]) == sorted((str(q["row_no"]), q["rule"]) for q in expected)
    assert any(BAD_CHECK in r for r in lines[1:])
    xlsx = client.get(f"/collection/batches/{batch_id}/quarantine/download?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_reprocessing_a_corrected_file_from_the_quarantine_page(
    client: TestClient, steward: tuple[int, int]
) -> None:
    _source_id, batch_id = steward
    quarantine_page = page(client, f"/collection/batches/{batch_id}/quarantine")
    download = client.get(f"/collection/batches/{batch_id}/quarantine/download?format=csv")
    fixed = download.content.decode("utf-8-sig").replace(BAD_CHECK, ZHANG[:-4] + "0000")
    fixed_id = person_id("19900307", 125)
    fixed = fixed.replace(ZHANG[:-4] + "0000", fixed_id).replace(",5,", ",1,")
    response = client.post(
        f"/collection/batches/{batch_id}/reprocess",
        data={"csrf_token": token(quarantine_page)},
        files={"file": ("修正.csv", fixed.encode("utf-8-sig"), "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )
    child_id = batch_of(response)
    child = api(client, f"/batches/{child_id}")
    assert (child["kind"], child["parent_id"], child["status"]) == ("reprocess", batch_id, "succeeded")
    assert (child["read"], child["inserted"], child["rejected"]) == (2, 2, 0)
    text = html.unescape(page(client, f"/collection/batches/{batch_id}/quarantine"))
    assert f"已处理（批次 {child_id}）" in text


def test_a_running_batch_page_refreshes_itself_and_a_finished_one_does_not(
    client: TestClient, db: Database, steward: tuple[int, int], tmp_path: Path
) -> None:
    source_id, _batch_id = steward
    with db.transaction() as session:
        started = service.start_source_run(session, OPERATOR, source_id)
    running_id = started.prepared.batch_id
    text = page(client, f"/collection/batches/{running_id}")
    head = text.split("</head>")[0]
    assert '<meta http-equiv="refresh" content="3">' in head
    assert "正在归集" in text and "运行中" in text
    # a second upload while it runs is refused with the service's Chinese message
    source_page = page(client, f"/collection/sources/{source_id}")
    refused = upload(client, source_id, gbk_file(tmp_path), csrf=token(source_page))
    assert refused.status_code == 422 and "正在归集" in html.unescape(refused.text)
    path = write_csv(tmp_path / "again.csv", ROWS, encoding="gbk")
    jobs.run_started(db, OPERATOR, started, path=str(path))
    finished = page(client, f"/collection/batches/{running_id}")
    assert 'http-equiv="refresh"' not in finished and "批次已成功完成" in finished
    assert figure(finished, "unchanged") == 3  # the same rows again


def test_other_departments_the_admin_and_the_auditor(client: TestClient, steward: tuple[int, int]) -> None:
    source_id, batch_id = steward
    portal_login(client, "mz.admin")
    assert "数据归集" in page(client, "/collection") and "人口月报表" not in page(client, "/collection")
    for path in (f"/collection/batches/{batch_id}", f"/collection/batches/{batch_id}/quarantine"):
        assert client.get(path, headers=HTML).status_code in (403, 404), path
    assert client.get(f"/collection/sources/{source_id}", headers=HTML).status_code in (403, 404)
    for username in ("admin", "auditor"):
        portal_login(client, username)
        text = page(client, f"/collection/batches/{batch_id}")
        assert figure(text, "rejected") == 2 and figure(text, "read") == 5
        assert f"/collection/batches/{batch_id}/quarantine" not in text
        assert "只有提供部门的数据管理员可以查看" in text
        quarantine = client.get(f"/collection/batches/{batch_id}/quarantine", headers=HTML)
        assert quarantine.status_code == 403 and BAD_CHECK not in quarantine.text
        download = client.get(f"/collection/batches/{batch_id}/quarantine/download?format=csv")
        assert download.status_code == 403 and BAD_CHECK not in download.text
        overview = page(client, "/collection")
        assert "人口月报表" in overview and '<select id="department"' in overview
        assert "人口月报表" not in page(client, "/collection?department=MZ")
        assert "人口月报表" in page(client, "/collection?department=GA")
        assert "上传文件并归集" not in page(client, f"/collection/sources/{source_id}")


def test_forms_refuse_a_missing_csrf_token_and_bad_input(
    client: TestClient,
    db: Database,
    steward: tuple[int, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_id, batch_id = steward
    before = len(api(client, "/batches"))
    refused = upload(client, source_id, gbk_file(tmp_path), csrf=None)
    assert refused.status_code == 403
    refused = upload(client, source_id, gbk_file(tmp_path), csrf="forged")
    assert refused.status_code == 403
    reprocess = client.post(f"/collection/batches/{batch_id}/reprocess", headers=HTML, follow_redirects=False)
    assert reprocess.status_code == 403
    created = client.post(
        "/collection/sources",
        data={"resource": RESOURCE, "name": "无令牌", "mapping": FILE_MAPPING},
        headers=HTML,
        follow_redirects=False,
    )
    assert created.status_code == 403
    monkeypatch.setattr(portal_collection_uploads, "MAX_UPLOAD_BYTES", 200)
    too_large = upload(client, source_id, gbk_file(tmp_path) * 3, csrf=token(page(client, "/collection")))
    assert too_large.status_code == 413 and "文件不能超过" in too_large.text
    monkeypatch.undo()
    assert len(api(client, "/batches")) == before
    assert [s["name"] for s in api(client, "/sources")] == ["人口月报表"]
    # a file of the wrong type, and a mapping naming an item the catalog does not have: 422 in Chinese
    source_page = page(client, f"/collection/sources/{source_id}")
    wrong = upload(client, source_id, b"PK\x03\x04", csrf=token(source_page), filename="人口.xlsx")
    assert wrong.status_code == 422 and "请上传扩展名为 .csv" in html.unescape(wrong.text)
    form = page(client, "/collection/sources/new")
    bad = post(
        client,
        "/collection/sources",
        form,
        resource=resource_code(db, RESOURCE),
        name="错误映射",
        mapping=FILE_MAPPING + "  nosuch: 不存在\n",
        update_cycle="",
    )
    assert bad.status_code == 422 and "映射" in html.unescape(bad.text)
    assert "nosuch" in html.unescape(bad.text)  # what the person typed is kept
    assert len(api(client, "/batches")) == before


def mapping_section(client: TestClient, source_id: int) -> str:
    text = html.unescape(page(client, f"/collection/sources/{source_id}"))
    found = re.search(r'<section id="mapping".*?</section>', text, re.S)
    assert found, "no mapping summary on the source page"
    return found.group(0)


def cells(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def test_the_source_page_summarizes_what_the_mapping_does(client: TestClient, db: Database) -> None:
    setup(db)
    portal_login(client, "ga.steward")
    section = mapping_section(client, register(client, db))
    assert "映射说明" in section and RESOURCE in section
    table = section.split('id="mapping-columns"', 1)[1]
    rows = {
        cells(source): (cells(item), cells(process))
        for source, item, process in re.findall(
            r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", table, re.S
        )
    }
    # every source column of FILE_MAPPING, in its order, with the item it feeds
    assert list(rows) == ["身份证号", "姓名", "性别", "出生日期", "地址", "更新时间"]
    assert rows["身份证号"][0] == "公民身份号码（gmsfhm） 主键"
    assert rows["姓名"][0] == "姓名（xm）" and "规范化：全角转半角并合并连续空白" in rows["姓名"][1]
    assert rows["性别"][0] == "性别（xb）" and "值映射：“0” → “1”；“1” → “2”" in rows["性别"][1]
    assert "值映射" not in rows["出生日期"][1] and "校验：按目录推断" in rows["出生日期"][1]
    assert rows["地址"][0] == "居住地址（jzdz）"
    assert rows["更新时间"][0] == "更新时间（gxsj） 游标"
    overview = cells(section.split('id="mapping-columns"', 1)[0])
    assert "归集方式 全量" in overview
    assert "主键 公民身份号码（gmsfhm） （映射未指定，按目录的主键信息项）" in overview
    assert "游标 更新时间（gxsj）" in overview
    assert "文件编码" not in overview  # encoding: auto is the default, nothing to say
    assert "家庭人数（jtrs）、是否有效（sfyx）" in cells(section)  # the items the mapping does not feed


DATABASE_MAPPING = """source:
  kind: postgresql
  {source}
  table: rk_jbxx
mode: incremental
key: [gmsfhm]
cursor: gxsj
columns:
  gmsfhm: sfzh
  xb:
    from: xb
    map: {{男: "1", 女: "2", 未知: null}}
    map_only: true
    validate: code
    code_set: GB-T-2261.1
  gxsj: gxsj
"""


def test_the_mapping_summary_never_shows_a_database_url(client: TestClient, db: Database) -> None:
    setup(db)
    with db.transaction() as session:
        connections.add_connection(
            session,
            Actor.system("test:admin"),
            ConnectionCreate(
                name="公安人口库",
                kind="postgresql",
                department="GA",
                reference="env:GA_RK_DB",
                allowed_tables=["rk_jbxx"],
            ),
        )
    portal_login(client, "ga.steward")
    secret = "s3cr3t-Pw"
    # a URL in the mapping is refused at registration (issue #12), whatever holds its password
    for url in (
        f"postgresql://ga_reader:${{GA_DB_PW}}@db.example:5432/rk?password={secret}",
        f"postgresql://ga_reader:{secret}/x@db.example/rk",
        "postgresql://ga_reader:${GA_DB_PW}@db.example:5432/rk?sslmode=require",
    ):
        form = page(client, "/collection/sources/new")
        refused = post(
            client,
            "/collection/sources",
            form,
            resource=resource_code(db, RESOURCE),
            name="人口库",
            update_cycle="monthly",
            mapping=DATABASE_MAPPING.format(source=f'url: "{url}"'),
        )
        text = html.unescape(refused.text)
        assert refused.status_code == 422 and "source.connection" in text, url
    # the mapping names the connection the platform administrator registered; where its URL is, is not shown
    registered = register(client, db, "人口库", DATABASE_MAPPING.format(source="connection: 公安人口库"))
    section = mapping_section(client, registered)
    assert "GA_RK_DB" not in section
    assert "数据源连接 公安人口库" in cells(section)
    assert "rk_jbxx" in cells(section) and "增量" in cells(section)
    assert "主键 公民身份号码（gmsfhm）" in cells(section) and "按目录的主键" not in section
    xb = cells(section.split("<td>xb", 1)[1].split("</tr>", 1)[0])
    assert "“男” → “1”；“女” → “2”；“未知” → 空值" in xb and "值映射表以外的值一律隔离" in xb
    assert "校验：代码集（code）" in xb and "代码集 GB-T-2261.1" in xb
    # a mapping stored with a URL written out (before connections, or by hand) is not shown at all
    with db.transaction() as session:
        written_out = DATABASE_MAPPING.format(source=f'url: "postgresql://ga_reader:{secret}@db.example/rk"')
        session.execute(update(Source).where(Source.id == registered).values(mapping=written_out))
    text = html.unescape(page(client, f"/collection/sources/{registered}"))
    assert "登记的映射已无法读取" in text and "映射中不能填写数据库连接地址" in text
    assert secret not in text
