"""Files through the whole pipeline, on SQLite and PostgreSQL: every row accounted for, quarantine with
reasons, full and incremental modes, history, unreadable sources changing nothing, and reprocessing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from govshare.collection import export, jobs, service
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.core.sm import sm3_hex
from tests.collection.helpers import (
    HEADER,
    MAPPING,
    OPERATOR,
    current,
    ingest,
    person_id,
    quarantined,
    raw,
    setup,
    write_csv,
)

ZHANG = person_id("19900307", 123)  # male
LI = person_id("19850101", 24)  # female
WANG = person_id("20000229", 11)
BAD_CHECK = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")


@pytest.fixture
def city(db: Database) -> Database:
    setup(db)
    return db


def people(*extra: list[str]) -> list[list[str]]:
    return [
        [ZHANG, "张三", "0", "1990-03-07", "北京市东城区", "2024-01-01 08:00:00"],
        [LI, "李四", "1", "19850101", "上海市黄浦区", "2024-01-01 08:00:00"],
        [WANG, "王五", "0", "2000年2月29日", "", "2024-01-01 08:00:00"],
        *extra,
    ]


def test_a_messy_gbk_file_loads_with_every_row_accounted_for(city: Database, tmp_path: Path) -> None:
    rows = people(
        [BAD_CHECK, "赵六", "0", "1990-03-07", "广州", "2024-01-01 08:00:00"],  # row 5: check digit
        ["", "", "", "", "", ""],  # row 6: empty
        [
            ZHANG,
            "张三",
            "0",
            "1990-03-07",
            "北京市东城区新址",
            "2024-03-01 08:00:00",
        ],  # row 7: later, same key
        [LI.lower(), "钱七", "5", "1985-01-01", "", "2024-01-01 08:00:00"],  # row 8: unknown sex code
    )
    path = write_csv(tmp_path / "ga.csv", rows, encoding="gbk")
    with path.open("ab") as handle:
        handle.write("多,一,列,的,行,x,y\n".encode("gbk"))  # row 9: wrong column count
    batch = ingest(city, path)
    assert batch.status == "succeeded" and batch.encoding in ("gbk", "gb18030")
    assert batch.checksum == sm3_hex(path.read_bytes())
    assert (batch.read, batch.inserted, batch.superseded, batch.empty, batch.rejected) == (8, 3, 1, 1, 3)
    stored = {r["gmsfhm"]: r for r in current(city)}
    assert sorted(stored) == sorted([ZHANG, LI, WANG])
    assert stored[ZHANG]["jzdz"] == "北京市东城区新址"  # the later row by cursor won
    assert stored[ZHANG]["xb"] == "1" and stored[LI]["xb"] == "2"  # 公安 0/1 → GB/T 2261.1 1/2
    assert stored[WANG]["csrq"].isoformat() == "2000-02-29" and stored[WANG]["jzdz"] is None
    assert stored[ZHANG]["_batch_id"] == batch.id
    entries = {q.row_no: q for q in quarantined(city, batch.id)}
    assert sorted(entries) == [5, 8, 9]
    assert entries[5].rule == "id.check" and "公民身份号码（gmsfhm）" in entries[5].message
    assert raw(entries[5])["身份证号"] == BAD_CHECK  # verbatim
    assert entries[8].column == "xb" and "GB/T 2261.1" in entries[8].message
    assert entries[9].raw_is_line and entries[9].rule.startswith("csv") and "第9行" in entries[9].message


def test_gb18030_keeps_rare_characters_and_warnings_load(city: Database, tmp_path: Path) -> None:
    rows = [[LI, "𠀾䶮", "0", "1985-01-02", "", "2024-01-01 08:00:00"]]  # sex and birth contradict the ID
    batch = ingest(city, write_csv(tmp_path / "rare.csv", rows, encoding="gb18030"))
    assert (batch.inserted, batch.rejected, batch.warnings) == (1, 0, 1)
    assert current(city)[0]["xm"] == "𠀾䶮"
    warnings = quarantined(city, batch.id, "warning")
    assert sorted(w.rule for w in warnings) == ["warn.birth_id", "warn.sex_id"]
    assert all(w.row_no == 2 for w in warnings)


def test_an_excel_file_with_a_title_row_above_the_header(city: Database, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["测试市公安局人口信息表（2026年11月）"])
    sheet.append([])
    sheet.append(HEADER)
    for row in people():
        sheet.append(row)
    path = tmp_path / "ga.xlsx"
    book.save(path)
    batch = ingest(city, path)
    assert (batch.read, batch.inserted, batch.rejected) == (3, 3, 0)
    assert {r["xm"] for r in current(city)} == {"张三", "李四", "王五"}


def test_full_loads_replace_atomically_and_keep_history(city: Database, tmp_path: Path) -> None:
    first = ingest(city, write_csv(tmp_path / "v1.csv", people()))
    assert first.inserted == 3
    between = utcnow()
    again = ingest(city, write_csv(tmp_path / "v1b.csv", people()))
    assert (again.inserted, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    changed = people()[:2]
    changed[0][4] = "北京市西城区"
    third = ingest(city, write_csv(tmp_path / "v2.csv", changed))
    assert (third.updated, third.unchanged, third.removed) == (1, 1, 1)
    assert sorted(r["gmsfhm"] for r in current(city)) == sorted([ZHANG, LI])
    with city.transaction() as session:
        before = service.records(session, OPERATOR, "测试人口信息", where={"gmsfhm": ZHANG}, as_of=between)
        gone = service.records(session, OPERATOR, "测试人口信息", where={"gmsfhm": WANG}, as_of=between)
    assert before[0]["jzdz"] == "北京市东城区" and len(gone) == 1


INCREMENTAL = MAPPING.replace("mode: full", "mode: incremental") + "deleted: {column: 操作, values: [D]}\n"


def test_incremental_upserts_collapses_by_cursor_and_deletes_tombstones(
    city: Database, tmp_path: Path
) -> None:
    header = [*HEADER, "操作"]
    ingest(city, write_csv(tmp_path / "base.csv", [[*r, ""] for r in people()], header=header), INCREMENTAL)
    delta = [
        [ZHANG, "张三", "0", "1990-03-07", "新址二", "2024-05-02 00:00:00", ""],
        [ZHANG, "张三", "0", "1990-03-07", "新址一", "2024-05-01 00:00:00", ""],  # older, later in the file
        [WANG, "", "", "", "", "2024-05-01 00:00:00", "D"],  # tombstone: only the key is checked
        [person_id("19700101", 35), "孙八", "0", "1970-01-01", "", "2024-05-01 00:00:00", ""],
    ]
    batch = ingest(city, write_csv(tmp_path / "delta.csv", delta, header=header), INCREMENTAL)
    assert (batch.read, batch.inserted, batch.updated, batch.superseded, batch.deleted, batch.removed) == (
        4,
        1,
        1,
        1,
        1,
        0,
    )
    stored = {r["gmsfhm"]: r for r in current(city)}
    assert stored[ZHANG]["jzdz"] == "新址二" and WANG not in stored and LI in stored
    # late data older than what is stored does not overwrite it
    late = [[ZHANG, "张三", "0", "1990-03-07", "旧址", "2023-01-01 00:00:00", ""]]
    stale = ingest(city, write_csv(tmp_path / "late.csv", late, header=header), INCREMENTAL)
    assert (stale.unchanged, stale.updated) == (1, 0)
    assert current(city, gmsfhm=ZHANG)[0]["jzdz"] == "新址二"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (bytes(range(256)) * 64, "二进制"),
        (b"PK\x03\x04" + b"\x00\x14" * 400, "二进制"),
        ("姓名,其他\n张三,x\n".encode(), "缺少映射的列"),
    ],
)
def test_an_unreadable_source_fails_the_batch_and_changes_nothing(
    city: Database, tmp_path: Path, content: bytes, fragment: str
) -> None:
    ingest(city, write_csv(tmp_path / "good.csv", people()))
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    batch = ingest(city, path)
    assert batch.status == "failed" and batch.error is not None and fragment in batch.error
    assert batch.inserted == batch.updated == 0
    assert len(current(city)) == 3
    assert quarantined(city, batch.id) == []


def test_a_truncated_workbook_fails_clearly(city: Database, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for i in range(2000):
        sheet.append([person_id("19900101", i % 1000), f"人{i}", "0", "1990-01-01", "地址" * 10, ""])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    batch = ingest(city, cut)
    assert batch.status == "failed" and batch.error and "cut.xlsx" in batch.error
    assert current(city) == []


def test_quarantine_download_fix_and_reprocess(city: Database, tmp_path: Path) -> None:
    rows = people(
        [BAD_CHECK, "赵六", "0", "1990-03-07", "广州", "2024-01-01 08:00:00"],
        [person_id("19700101", 35), "孙八", "7", "1970-01-01", "", "2024-01-01 08:00:00"],
    )
    batch = ingest(city, write_csv(tmp_path / "ga.csv", rows))
    assert batch.rejected == 2
    entries = quarantined(city, batch.id)
    # the provider downloads the rows as Excel, fixes the sex code, leaves the bad ID as it is
    sheet_path = tmp_path / "fix.xlsx"
    sheet_path.write_bytes(export.to_xlsx(entries))
    book = load_workbook(sheet_path)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["行号", "问题字段", "规则", "原因"] and "身份证号" in header
    assert [sheet.cell(row=r, column=1).value for r in (2, 3)] == ["5", "6"]
    sex = header.index("性别") + 1
    sheet.cell(row=3, column=sex).value = "0"
    book.save(sheet_path)
    with city.transaction() as session:
        started = service.start_reprocess(session, OPERATOR, batch.id, origin="fix.xlsx")
    done = jobs.run_started(city, OPERATOR, started, path=str(sheet_path))
    with city.transaction(readonly=True) as session:
        again = service.get_batch(session, OPERATOR, done.id)
    assert (again.kind, again.parent_id, again.mode) == ("reprocess", batch.id, "incremental")
    assert (again.read, again.inserted, again.rejected) == (2, 1, 1)
    assert again.read == again.accounted
    assert len(current(city)) == 4
    with city.transaction() as session:
        _b, left = service.quarantine(session, OPERATOR, batch.id, unresolved=True)
    assert [q.row_no for q in left] == [5]  # the fixed row is marked resolved, the bad ID still waits
    # reprocessing the stored rows as they are loads nothing new and leaves the row waiting
    with city.transaction() as session:
        records = export.stored_records(service.quarantine(session, OPERATOR, batch.id, unresolved=True)[1])
        started = service.start_reprocess(session, OPERATOR, batch.id)
    stored = jobs.run_started(city, OPERATOR, started, records=records)
    assert (stored.read, stored.rejected, stored.inserted) == (1, 1, 0)


def test_the_csv_export_opens_in_excel_and_names_every_reason(city: Database, tmp_path: Path) -> None:
    batch = ingest(city, write_csv(tmp_path / "ga.csv", people([BAD_CHECK, "赵", "0", "x", "", "y"])))
    data = export.to_csv(quarantined(city, batch.id))
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("行号,问题字段,规则,原因,身份证号")
    assert (
        "公民身份号码（gmsfhm）" in lines[1]
        and "出生日期（csrq）" in lines[1]
        and "更新时间（gxsj）" in lines[1]
    )


def test_a_second_run_while_one_runs_is_refused_and_dead_runs_are_failed(
    city: Database, tmp_path: Path
) -> None:
    from govshare.collection.mapping import load_mapping
    from govshare.errors import Conflict
    from govshare.models import Batch

    path = write_csv(tmp_path / "ga.csv", people())
    with city.transaction() as session:
        first = service.start_ingest(
            session, OPERATOR, "测试人口信息", load_mapping(MAPPING), source_path=str(path)
        )
    with city.transaction() as session, pytest.raises(Conflict, match="正在归集"):
        service.start_ingest(session, OPERATOR, "测试人口信息", load_mapping(MAPPING), source_path=str(path))
    with city.transaction() as session:
        batch = session.get_one(Batch, first.prepared.batch_id)
        batch.heartbeat_at = utcnow() - timedelta(hours=2)
        batch.host = "another-host"
    with city.transaction() as session:
        assert service.detect_dead_batches(session, OPERATOR) == [first.prepared.batch_id]
    with city.transaction(readonly=True) as session:
        dead = service.get_batch(session, OPERATOR, first.prepared.batch_id)
    assert dead.status == "failed" and dead.error and "中断" in dead.error
    assert ingest(city, path).inserted == 3
