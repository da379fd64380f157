"""Collection that loses nothing (issue #14), through the whole pipeline on SQLite and PostgreSQL: stray
quotes in a GB18030 export, full re-runs that keep records whose rows were quarantined, refusing a full load
that would close most records, the header checked before the data is read, and the batch's figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from govshare.collection import cli, jobs, pipeline, service
from govshare.collection.mapping import load_mapping
from govshare.collection.sources import open_reader
from govshare.core.db import Database
from govshare.errors import Conflict, InvalidInput
from govshare.models import Batch
from tests.catalog.helpers import apply, definition
from tests.collection.helpers import (
    HEADER,
    MAPPING,
    OPERATOR,
    PEOPLE,
    current,
    ingest,
    person_id,
    quarantined,
    setup,
    write_csv,
)

ZHANG = person_id("19900307", 123)
LI = person_id("19850101", 24)
WANG = person_id("20000229", 11)
ZHAO = person_id("19700101", 35)
SUN = person_id("19710202", 47)


@pytest.fixture
def city(db: Database) -> Database:
    setup(db)
    return db


def _row(number: str, name: str, address: str, time: str = "2024-01-01 08:00:00", sex: str = "0") -> str:
    birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    return ",".join([number, name, sex, birth, address, time])


def test_stray_quotes_in_a_gb18030_export_lose_no_one(city: Database, tmp_path: Path) -> None:
    people = [person_id("19800101", 2 * n + 1) for n in range(300)]
    lines = [",".join(HEADER)]
    strays: list[int] = []
    for n, number in enumerate(people):
        text = _row(number, f"张{n}", f"东城区{n}号")
        if n in (10, 150, 151, 298):  # typing slips: a quote at the start of the line
            text = '"' + text
            strays.append(len(lines) + 1)
        lines.append(text)
    # the latest row of person 0 sits after the first stray quote: before, the quote swallowed it
    lines.insert(13, _row(people[0], "张0", "西城区新址", "2024-06-01 08:00:00"))
    strays = [s if s <= 13 else s + 1 for s in strays]
    path = tmp_path / "ga.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    batch = ingest(city, path)
    assert batch.status == "succeeded" and batch.encoding == "gb18030"
    assert (batch.read, batch.rejected, batch.superseded) == (301, 4, 1)
    assert batch.inserted == 296 and batch.header_row == 1
    assert strays == [12, 153, 154, 301]
    # the lines each stray quote would have swallowed, up to the next quote (or the end: line 302)
    assert batch.recovered == (153 - 12 - 1) + 0 + (301 - 154 - 1) + (302 - 301)
    entries = quarantined(city, batch.id)
    assert [(q.row_no, q.rule, q.message) for q in entries] == [
        (row, "csv.quote", f"第{row}行：引号未闭合") for row in strays
    ]
    stored = {r["gmsfhm"]: r for r in current(city)}
    assert stored[people[0]]["jzdz"] == "西城区新址"  # the latest row won
    assert len(stored) == 296 and people[11] in stored and people[297] in stored


def test_a_full_rerun_keeps_the_records_whose_rows_were_quarantined(city: Database, tmp_path: Path) -> None:
    rows = [
        _row(ZHANG, "张三", "东城区"),
        _row(LI, "李四", "黄浦区", sex="1"),
        _row(WANG, "王五", "海淀区"),
        _row(ZHAO, "赵六", "朝阳区", sex="7"),  # an unknown sex code: quarantined
        _row(SUN, "孙七", "丰台区").replace("1971-02-02", "1971-13-45"),  # an impossible date
    ]
    original = tmp_path / "ga.csv"
    original.write_text("\n".join([",".join(HEADER), *rows]) + "\n", encoding="utf-8")
    first = ingest(city, original)
    assert (first.inserted, first.rejected) == (3, 2)
    fixed = [
        dict(zip(HEADER, _row(ZHAO, "赵六", "朝阳区").split(","), strict=True)),
        dict(zip(HEADER, _row(SUN, "孙七", "丰台区").split(","), strict=True)),
    ]
    with city.transaction() as session:
        started = service.start_reprocess(session, OPERATOR, first.id, origin="fixed")
    corrected = jobs.run_started(city, OPERATOR, started, records=list(fixed))
    assert (corrected.inserted, corrected.rejected) == (2, 0)
    # the steward re-runs the original file in full, with a stray quote on 王五's line this time
    again = tmp_path / "ga-again.csv"
    again.write_text(original.read_text(encoding="utf-8").replace(WANG, '"' + WANG), encoding="utf-8")
    rerun = ingest(city, again, mode="full")
    assert (rerun.rejected, rerun.unchanged, rerun.removed) == (3, 2, 0)  # before: "全量移除 3 条"
    assert rerun.kept == 3
    assert sorted(r["gmsfhm"] for r in current(city)) == sorted([ZHANG, LI, WANG, ZHAO, SUN])
    assert "全量保留 3 条" in cli.describe(rerun)
    assert rerun.same_input_as is None
    same = ingest(city, again, mode="full")
    assert same.same_input_as == rerun.id
    assert f"与批次 {rerun.id} 的输入完全相同" in cli.describe(same)


def test_a_full_load_that_would_close_most_records_is_refused(city: Database, tmp_path: Path) -> None:
    rows = [_row(ZHANG, "张三", "东城区"), _row(LI, "李四", "黄浦区", sex="1"), _row(WANG, "王五", "海淀区")]
    first = ingest(city, write_csv(tmp_path / "v1.csv", [r.split(",") for r in rows]))
    assert first.inserted == 3
    wrong = write_csv(tmp_path / "other.csv", [_row(ZHAO, "赵六", "朝阳区").split(",")])
    parsed = load_mapping(MAPPING, base_dir=tmp_path)

    def run(allow: bool) -> Batch:
        with city.transaction() as session:
            started = service.start_ingest(
                session, OPERATOR, "测试人口信息", parsed, source_path=str(wrong), allow_removals=allow
            )
        return jobs.run_started(city, OPERATOR, started, path=str(wrong))

    refused = run(False)
    assert refused.status == "failed"
    assert (
        refused.error is not None
        and "全量归集将关闭现有 3 条记录中的 3 条（100%，上限 50%）" in refused.error
    )
    assert "--allow-removals" in refused.error
    assert sorted(r["gmsfhm"] for r in current(city)) == sorted([ZHANG, LI, WANG])  # nothing changed
    allowed = run(True)
    assert (allowed.status, allowed.inserted, allowed.removed) == ("succeeded", 1, 3)
    assert [r["gmsfhm"] for r in current(city)] == [ZHAO]


def test_a_wrong_mapping_column_fails_before_the_data_is_read(city: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ga.csv", [_row(ZHANG, "张三", "东城区").split(",")] * 2000)
    parsed = load_mapping(MAPPING.replace("gmsfhm: 身份证号", "gmsfhm: 身份证号码"), base_dir=tmp_path)
    with city.transaction() as session:
        started = service.start_ingest(session, OPERATOR, "测试人口信息", parsed, source_path=str(path))
    reader = open_reader(started, chunk_rows=1000, scratch_dir=tmp_path / "work", path=str(path))
    batch = pipeline.execute(city, OPERATOR, started.prepared, reader)
    assert batch.status == "failed" and batch.error is not None
    assert batch.error.startswith("数据源缺少映射的列：“身份证号码”（信息项 gmsfhm）")
    assert reader.progress.bytes_done == 0  # refused on the header, before a byte of data was read


def test_ingest_into_an_unpublished_resource_says_it_is_not_published(city: Database) -> None:
    apply(city, definition(PEOPLE, name="测试待发布资源"), publish=False)
    parsed = load_mapping(MAPPING.replace("测试人口信息", "测试待发布资源"))
    with city.transaction() as session, pytest.raises(Conflict) as refused:
        service.start_ingest(session, OPERATOR, "测试待发布资源", parsed, source_path="x.csv")
    assert "测试待发布资源" in refused.value.message and "尚未发布" in refused.value.message
    assert "不存在" not in refused.value.message


def test_progress_and_summary_count_the_same(city: Database, tmp_path: Path) -> None:
    rows = [_row(person_id("19800101", 2 * n + 1), f"张{n}", "东城区") for n in range(250)]
    rows[40] += ",多一列"
    rows[90] = '"' + rows[90]
    path = tmp_path / "ga.csv"
    path.write_text("\n".join([",".join(HEADER), *rows]) + "\n", encoding="utf-8")
    parsed = load_mapping(MAPPING, base_dir=tmp_path)
    with city.transaction() as session:
        started = service.start_ingest(session, OPERATOR, "测试人口信息", parsed, source_path=str(path))
    seen: list[int] = []
    done = jobs.run_started(
        city, OPERATOR, started, path=str(path), on_progress=lambda b: seen.append(b.read)
    )
    assert seen and done.read == 250
    assert seen[-1] == done.read  # the last progress line shows the summary's count


def test_the_header_row_found_is_reported(city: Database, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["测试市公安局人口信息表"])
    sheet.append(["导出时间：2026-11-01"])
    sheet.append(HEADER)
    sheet.append(_row(ZHANG, "张三", "东城区").split(","))
    book.save(tmp_path / "ga.xlsx")
    batch = ingest(city, tmp_path / "ga.xlsx")
    assert (batch.inserted, batch.header_row) == (1, 3)
    assert "表头：第3行" in cli.describe(batch)
    assert cli.summary(batch)["header_row"] == 3
    path = tmp_path / "ga.csv"
    text = "人口信息\n\n" + ",".join(HEADER) + "\n" + _row(LI, "李四", "黄浦区", sex="1") + "\n"
    path.write_text(text, encoding="utf-8")
    assert ingest(city, path, mode="incremental").header_row == 3


def test_records_are_looked_up_by_the_stored_form_of_the_key(city: Database, tmp_path: Path) -> None:
    ingest(city, write_csv(tmp_path / "ga.csv", [_row(ZHANG, "张三", "东城区").split(",")]))
    fifteen = ZHANG[:6] + ZHANG[8:17]  # the first-generation number of the same person
    assert [r["gmsfhm"] for r in current(city, gmsfhm=fifteen)] == [ZHANG]
    assert [r["xm"] for r in current(city, csrq="1990年3月7日")] == ["张三"]
    with pytest.raises(InvalidInput, match="公民身份号码（gmsfhm）"):
        current(city, gmsfhm="110105199003071230")


def test_a_batch_row_carries_the_new_figures(city: Database, tmp_path: Path) -> None:
    batch = ingest(city, write_csv(tmp_path / "ga.csv", [_row(ZHANG, "张三", "东城区").split(",")]))
    with city.transaction(readonly=True) as session:
        row = session.get_one(Batch, batch.id)
    assert (row.header_row, row.recovered, row.kept, row.same_input_as) == (1, 0, 0, None)


def test_the_command_line_refuses_a_repeated_where_and_allows_removals(
    city: Database, cli_env: None, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from govshare.cli.main import app

    runner = CliRunner()
    mapping = tmp_path / "ga.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    first = write_csv(
        tmp_path / "v1.csv",
        [_row(ZHANG, "张三", "东城区").split(","), _row(LI, "李四", "", sex="1").split(",")],
    )
    assert runner.invoke(app, ["ingest", "测试人口信息", str(first), "-m", str(mapping)]).exit_code == 0
    result = runner.invoke(app, ["records", "测试人口信息", "--where", "xm=张三", "--where", "xm=李四"])
    assert result.exit_code == 2 and "--where 对信息项 xm 给了不止一次" in result.output
    other = write_csv(tmp_path / "v2.csv", [_row(WANG, "王五", "海淀区").split(",")])
    refused = runner.invoke(app, ["ingest", "测试人口信息", str(other), "-m", str(mapping)])
    assert refused.exit_code == 1 and "全量归集将关闭现有 2 条记录中的 2 条" in refused.output
    allowed = runner.invoke(
        app, ["ingest", "测试人口信息", str(other), "-m", str(mapping), "--allow-removals"]
    )
    assert allowed.exit_code == 0 and "全量移除 2" in allowed.output
    assert "读取 1，隔离 0" in allowed.output  # the progress line counts as the summary does


def test_the_data_api_normalises_a_looked_up_id_number() -> None:
    from govshare.sharing.access import PERSON, ItemMeta
    from govshare.sharing.records import coerce

    item = ItemMeta("gmsfhm", "公民身份号码", "C", "证件号码", "有条件", True, PERSON)
    assert coerce(item, ZHANG[:6] + ZHANG[8:17], "key") == ZHANG
    with_x = person_id("19900307", 5)  # 11010519900307005X
    assert with_x.endswith("X") and coerce(item, with_x.lower(), "key") == with_x
    plain = ItemMeta("xm", "姓名", "C", "姓名", "有条件", False, None)
    assert coerce(plain, "110105900307123", "xm") == "110105900307123"


def test_the_portal_asks_to_confirm_removals_and_shows_the_figures(
    city: Database, client: TestClient, tmp_path: Path
) -> None:
    from tests.web.portal_helpers import page, portal_login, token
    from tests.web.test_portal_collection import batch_of, gbk_file, register, upload

    portal_login(client, "ga.steward")
    source_id = register(client, city)
    source_page = page(client, f"/collection/sources/{source_id}")
    assert 'name="allow_removals"' in source_page and "允许大量移除" in source_page
    first = batch_of(upload(client, source_id, gbk_file(tmp_path), csrf=token(source_page)))
    assert "第 1 行" in page(client, f"/collection/batches/{first}")  # the header row found
    other = write_csv(tmp_path / "other.csv", [_row(ZHAO, "赵六", "朝阳区").split(",")], encoding="gbk")
    refused = batch_of(upload(client, source_id, other.read_bytes(), csrf=token(source_page)))
    text = page(client, f"/collection/batches/{refused}")
    assert "全量归集将关闭现有 3 条记录中的 3 条" in text and "允许大量移除" in text
    assert len(current(city)) == 3
    confirmed = client.post(
        f"/collection/sources/{source_id}/upload",
        data={"csrf_token": token(source_page), "allow_removals": "1"},
        files={"file": ("人口.csv", other.read_bytes(), "text/csv")},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    text = page(client, f"/collection/batches/{batch_of(confirmed)}")
    assert "全量移除" in text and "3 条（本次数据中没有其主键的记录被关闭" in text
    assert [r["gmsfhm"] for r in current(city)] == [ZHAO]
