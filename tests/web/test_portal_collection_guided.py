"""The guided registration of a file source (引导登记): a 数据管理员 who writes no YAML uploads a sample file,
picks the source column of each catalog item (most pre-selected from the headers), gives a value map for a
code item, registers, and the source then loads a real file with the mapped values. Refusals are in
Chinese with the choices kept; CSRF and the permission are checked first. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook

from govshare.auth.permissions import Role
from govshare.collection import service
from govshare.core.db import Database
from govshare.errors import InvalidInput
from tests import factories
from tests.collection.helpers import current, person_id, setup, write_csv
from tests.sharing.helpers import resource_code
from tests.web.portal_helpers import HTML, page, portal_login, token
from tests.web.test_portal_collection import RESOURCE, api, batch_of, mapping_section, upload

# The department's own headers: the catalog's item names, except 住址 (the catalog says 居住地址), one
# written with a space (出生 日期) and one given as the field code in capitals (SFYX).
HEADER = ["公民身份号码", "姓名", "性别", "出生 日期", "住址", "SFYX", "更新时间"]
ZHANG = person_id("19900307", 123)
LI = person_id("19850101", 24)
ROWS = [  # 公安's sex codes: 0 男, 1 女
    [ZHANG, "张三", "0", "1990-03-07", "北京市东城区", "是", "2024-01-01 08:00:00"],
    [LI, "李四", "1", "1985-01-01", "上海市黄浦区", "是", "2024-01-01 08:00:00"],
]
EXPECTED = {  # what step 2 pre-selects
    "gmsfhm": "公民身份号码",
    "xm": "姓名",
    "xb": "性别",
    "csrq": "出生 日期",
    "jzdz": "",  # renamed: the person picks it
    "jtrs": "",  # not in the file
    "sfyx": "SFYX",
    "gxsj": "更新时间",
}


def gbk_sample(tmp_path: Path, name: str = "样例.csv") -> bytes:
    return write_csv(tmp_path / name, ROWS, encoding="gbk", header=HEADER).read_bytes()


def send_sample(
    client: TestClient,
    form_page: str,
    content: bytes,
    *,
    filename: str = "样例.csv",
    csrf: str | None = "from-page",
    **fields: str,
) -> Response:
    data = {"name": "人口月报表", "update_cycle": "monthly", **fields}
    if csrf is not None:
        data["csrf_token"] = token(form_page) if csrf == "from-page" else csrf
    return client.post(
        "/collection/sources/guided",
        data=data,
        files={"file": (filename, content, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )


def step_two(client: TestClient, db: Database, tmp_path: Path) -> str:
    """Step 1 done as a person does it: the form's resource, a name, a cycle and the GBK sample."""
    start = page(client, "/collection/sources/guided")
    code = resource_code(db, RESOURCE)
    assert f'value="{code}"' in start  # the department's published resource is offered
    response = send_sample(client, start, gbk_sample(tmp_path), resource=code)
    assert response.status_code == 200, response.text
    return response.text


def form_of(step: str) -> dict[str, str]:
    """What the browser would submit from step 2 as shown: hidden fields, each select's chosen option and
    each value map."""
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', step)
    }
    for name, options in re.findall(r'<select id="col-\w+" name="(col_\w+)"[^>]*>(.*?)</select>', step, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, value in re.findall(r'<input id="map-\w+" name="(map_\w+)" value="([^"]*)"', step):
        fields[name] = html.unescape(value)
    return fields


def chosen(step: str) -> dict[str, str]:
    return {name[4:]: value for name, value in form_of(step).items() if name.startswith("col_")}


def submit(client: TestClient, step: str, **changes: str) -> Response:
    return client.post(
        "/collection/sources/guided/register",
        data={**form_of(step), **changes},
        headers=HTML,
        follow_redirects=False,
    )


def row_of(step: str, field: str) -> str:
    found = re.search(rf'<tr id="item-{field}">(.*?)</tr>', step, re.S)
    assert found, field
    return html.unescape(found.group(1))


@pytest.fixture
def steward(db: Database, client: TestClient) -> None:
    setup(db)
    portal_login(client, "ga.steward")


@pytest.mark.usefixtures("steward")
def test_a_steward_registers_a_file_source_without_writing_yaml(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    # the way in: from the YAML form and from the overview
    link = '<a href="/collection/sources/guided">不会写映射？上传样例文件，逐项选择对应列</a>'
    assert link in page(client, "/collection/sources/new") and link in page(client, "/collection")
    step = step_two(client, db, tmp_path)
    assert "逐项选择对应列" in step and "GB18030" in step  # the GBK sample was read (GB18030 ⊇ GBK)
    assert chosen(step) == EXPECTED
    # each row: the item, its type, the chosen column's first values; the key marked; a value map and the
    # code set's codes for the code item only
    assert "<code>张三</code>、<code>李四</code>" in row_of(step, "xm")
    assert "主键" in row_of(step, "gmsfhm") and "字符型" in row_of(step, "gmsfhm")
    assert "日期型" in row_of(step, "csrq") and "<code>1990-03-07</code>" in row_of(step, "csrq")
    assert 'name="map_xb"' in step and "1 男" in row_of(step, "xb")
    assert 'name="map_xm"' not in step and 'name="map_gmsfhm"' not in step
    # every control is labelled, the per-row ones naming their item
    for control in re.findall(r'<(?:select|input) id="([\w-]+)"', step):
        assert f'<label for="{control}"' in step, control
    assert '<label for="col-jzdz" class="visually-hidden">“居住地址（jzdz）”对应的来源列</label>' in step
    # the renamed column picked by hand, and 公安's sex codes mapped to GB/T 2261.1
    done = submit(client, step, col_jzdz="住址", map_xb="0=1, 1=2", action="register")
    assert done.status_code == 303, done.text
    found = re.fullmatch(r"/collection/sources/(\d+)\?done=registered", done.headers["location"])
    assert found, done.headers["location"]
    source_id = int(found.group(1))
    sources = api(client, "/sources")
    assert [(s["id"], s["name"], s["kind"], s["update_cycle"]) for s in sources] == [
        (source_id, "人口月报表", "csv", "monthly")
    ]
    section = mapping_section(client, source_id)
    assert "住址" in section and "居住地址（jzdz）" in section and "“0” → “1”；“1” → “2”" in section
    assert "家庭人数（jtrs）" in section  # not mapped: listed among the items left empty
    # the real file, uploaded on the source page, loads with the mapped values
    source_page = page(client, f"/collection/sources/{source_id}")
    real = write_csv(tmp_path / "人口-2026-01.csv", ROWS, encoding="gbk", header=HEADER).read_bytes()
    batch_id = batch_of(upload(client, source_id, real, csrf=token(source_page)))
    batch = api(client, f"/batches/{batch_id}")
    assert (batch["status"], batch["read"], batch["inserted"], batch["rejected"]) == ("succeeded", 2, 2, 0)
    zhang, li = current(db, RESOURCE, gmsfhm=ZHANG), current(db, RESOURCE, gmsfhm=LI)
    assert [(r["xb"], r["jzdz"], r["xm"]) for r in zhang] == [("1", "北京市东城区", "张三")]
    assert [(r["xb"], r["sfyx"]) for r in li] == [("2", True)]


@pytest.mark.usefixtures("steward")
def test_refusals_name_the_problem_and_keep_the_choices(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = step_two(client, db, tmp_path)
    # the key item left unmapped
    refused = submit(client, step, col_gmsfhm="", col_jzdz="住址", map_xb="0=1, 1=2", action="register")
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "公民身份号码（gmsfhm）：主键信息项，须选择对应的列" in text
    assert chosen(refused.text) == {**EXPECTED, "gmsfhm": "", "jzdz": "住址"}  # the choices are kept
    assert form_of(refused.text)["map_xb"] == "0=1, 1=2"
    assert 'aria-invalid="true" aria-describedby="err-gmsfhm"' in refused.text
    # malformed value maps, and a code the code set does not have
    for written, reason in (
        ("0:1", "“0:1”格式不正确"),
        ("0=1, =2", "“=2”格式不正确"),
        ("0=1, 0=2", "来源值“0”对应了两个代码"),
        ("0=1, 1=7", "“7”不在代码集"),
    ):
        refused = submit(client, step, map_xb=written, action="register")
        text = html.unescape(refused.text)
        assert refused.status_code == 422 and "性别（xb）：值映射：" in text and reason in text, written
        assert form_of(refused.text)["map_xb"] == written
        assert 'aria-describedby="codes-xb err-xb" aria-invalid="true"' in refused.text
    # one column for two items, unless the person says so
    refused = submit(client, step, col_jzdz="姓名", action="register")
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "来源列“姓名”同时对应了 姓名（xm）、居住地址（jzdz）" in text
    # a column the sample does not have (a forged or stale choice)
    refused = submit(client, step, col_jzdz="不存在的列", action="register")
    assert refused.status_code == 422 and "所选的列“不存在的列”不在样例文件中" in html.unescape(refused.text)
    # the sample carried between the steps cannot be swapped for something else
    refused = submit(client, step, sample='{"kind": "postgresql"}', action="register")
    assert refused.status_code == 422 and "样例信息已失效" in html.unescape(refused.text)
    assert api(client, "/sources") == []  # nothing was registered
    # refreshing the sample values shows the new choice's values and registers nothing
    preview = submit(client, step, col_jzdz="住址", action="preview")
    assert preview.status_code == 200 and "<code>北京市东城区</code>" in row_of(preview.text, "jzdz")
    assert api(client, "/sources") == []

    # the service's own refusal is shown beside the form and its item, the choices kept
    def refuse(*args: object) -> None:
        raise InvalidInput.on("columns.xb.code_set", "代码集“GB-T-2261.1”已废止")

    with monkeypatch.context() as patched:
        patched.setattr(service, "register_source", refuse)
        refused = submit(client, step, col_jzdz="住址", map_xb="0=1, 1=2", action="register")
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "性别（xb）：代码集“GB-T-2261.1”已废止" in text
    assert '<p class="error" id="err-xb">代码集“GB-T-2261.1”已废止</p>' in text
    assert chosen(refused.text)["jzdz"] == "住址" and form_of(refused.text)["map_xb"] == "0=1, 1=2"
    # a name step 1 would have refused (a forged hidden field) goes back to step 1
    refused = submit(client, step, name="人口 月报", col_jzdz="住址", action="register")
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "数据源名称：格式不正确" in text and "第 1 步" in text
    shared = submit(client, step, col_jzdz="姓名", allow_shared="1", action="register")
    assert shared.status_code == 303, shared.text
    assert [s["name"] for s in api(client, "/sources")] == ["人口月报表"]


@pytest.mark.usefixtures("steward")
def test_step_one_refuses_what_it_cannot_read(client: TestClient, db: Database, tmp_path: Path) -> None:
    start = page(client, "/collection/sources/guided")
    code = resource_code(db, RESOURCE)
    for filename, content, reason in (
        ("样例.pdf", b"%PDF-1.4", "样例文件须为"),
        ("样例.csv", b"\x00\x01\x02" * 100, "样例文件无法读取：文件 样例.csv 不是文本文件"),
        ("样例.xlsx", b"PK\x03\x04 broken", "样例文件无法读取"),
        ("样例.json", b'{"data": [{"a": 1,', "样例文件无法读取"),  # DuckDB names its staging file
    ):
        refused = send_sample(client, start, content, filename=filename, resource=code)
        text = html.unescape(refused.text)
        assert refused.status_code == 422 and reason in text, filename
        assert "tmp" not in text and str(db.config.work_dir) not in text  # no path of the node is shown
        assert 'value="人口月报表"' in text  # what the person typed is kept
    refused = send_sample(client, start, gbk_sample(tmp_path), resource="NOT-OURS")
    assert refused.status_code == 422 and "请选择目标信息资源" in html.unescape(refused.text)
    # a sample with a title row above the header is read from the header down
    titled = ("人口信息月报表（2026年1月）\n" + gbk_sample(tmp_path).decode("gbk")).encode("gbk")
    step = send_sample(client, start, titled, resource=code)
    assert step.status_code == 200 and chosen(step.text) == EXPECTED
    # the sample file is not kept on the node (it was read from the node's work directory)
    assert db.config.work_dir.is_dir()
    assert not [p for p in db.config.work_dir.rglob("*") if p.is_file()]


def xlsx_sample() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["人口信息月报表"])  # a title row above the header
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.usefixtures("steward")
@pytest.mark.parametrize(
    ("filename", "kind"),
    [("样例.xlsx", "xlsx"), ("样例.json", "json"), ("样例.ndjson", "ndjson"), ("样例.tsv", "tsv")],
)
def test_excel_and_json_samples(client: TestClient, db: Database, filename: str, kind: str) -> None:
    records = [dict(zip(HEADER, row, strict=True)) for row in ROWS]
    content = {
        "xlsx": xlsx_sample,
        "json": lambda: json.dumps({"data": records}, ensure_ascii=False).encode(),
        "ndjson": lambda: "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode(),
        "tsv": lambda: "\n".join("\t".join(r) for r in [HEADER, *ROWS]).encode("utf-8-sig"),
    }[kind]()
    start = page(client, "/collection/sources/guided")
    step = send_sample(client, start, content, filename=filename, resource=resource_code(db, RESOURCE))
    assert step.status_code == 200, step.text
    assert chosen(step.text) == EXPECTED
    assert "<code>张三</code>、<code>李四</code>" in row_of(step.text, "xm")
    done = submit(client, step.text, col_jzdz="住址", map_xb="0=1, 1=2", action="register")
    assert done.status_code == 303, done.text
    assert [s["kind"] for s in api(client, "/sources")] == [kind]


def test_csrf_and_permission_come_first(client: TestClient, db: Database, tmp_path: Path) -> None:
    setup(db)
    factories.user(db, "ga.user", "GA", Role.DATA_USER)
    portal_login(client, "ga.steward")
    step = step_two(client, db, tmp_path)
    start = page(client, "/collection/sources/guided")
    code = resource_code(db, RESOURCE)
    for csrf in (None, "forged-" + "0" * 40):
        refused = send_sample(client, start, gbk_sample(tmp_path), csrf=csrf, resource=code)
        assert refused.status_code == 403 and "表单已失效" in refused.text
        fields: dict[str, Any] = {**form_of(step), "col_jzdz": "住址", "action": "register"}
        fields.pop("csrf_token")
        if csrf is not None:
            fields["csrf_token"] = csrf
        refused = client.post(
            "/collection/sources/guided/register", data=fields, headers=HTML, follow_redirects=False
        )
        assert refused.status_code == 403 and "表单已失效" in refused.text
    assert api(client, "/sources") == []
    # a 使用人员 (no collection:run) reaches neither step, whatever the form carries
    portal_login(client, "ga.user")
    assert client.get("/collection/sources/guided", headers=HTML).status_code == 403
    own = token(page(client, "/"))
    refused = send_sample(client, start, gbk_sample(tmp_path), csrf=own, resource=code)
    assert refused.status_code == 403 and "表单已失效" not in refused.text
    refused = client.post(
        "/collection/sources/guided/register",
        data={**form_of(step), "csrf_token": own, "col_jzdz": "住址", "action": "register"},
        headers=HTML,
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "表单已失效" not in refused.text
    portal_login(client, "ga.steward")
    assert api(client, "/sources") == []


@pytest.mark.usefixtures("steward")
def test_a_json_key_with_spaces_around_it_is_refused_not_silently_lost(
    client: TestClient, db: Database
) -> None:
    """Mapping column names are read trimmed; a JSON key "姓名 " would then match nothing, and every batch
    would load the item empty without a word. The guided form refuses it instead."""
    records = [{("姓名 " if k == "姓名" else k): v for k, v in zip(HEADER, row, strict=True)} for row in ROWS]
    content = json.dumps({"data": records}, ensure_ascii=False).encode()
    start = page(client, "/collection/sources/guided")
    step = send_sample(client, start, content, filename="样例.json", resource=resource_code(db, RESOURCE))
    assert step.status_code == 200, step.text
    refused = submit(client, step.text, col_xm="姓名 ", col_jzdz="住址", map_xb="0=1, 1=2", action="register")
    assert refused.status_code == 422
    assert "来源列“姓名 ”的名称首尾有空格" in html.unescape(refused.text)
    assert api(client, "/sources") == []
