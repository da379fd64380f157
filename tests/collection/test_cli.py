"""`govshare ingest`, `batches`, `quarantine export|reprocess`: summaries, --json counts, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govshare.cli.main import app
from govshare.core.db import Database
from tests.collection.helpers import MAPPING, current, person_id, setup, write_csv

runner = CliRunner()
ROWS = [
    [person_id("19900307", 123), "张三", "0", "1990-03-07", "北京", "2024-01-01 08:00:00"],
    [person_id("19850101", 24), "李四", "1", "1985-01-01", "上海", "2024-01-01 08:00:00"],
    ["110105199003071230", "坏号", "0", "1990-03-07", "", "2024-01-01 08:00:00"],
]


@pytest.fixture
def files(db: Database, cli_env: None, tmp_path: Path) -> tuple[Path, Path]:
    setup(db)
    mapping = tmp_path / "ga.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return mapping, write_csv(tmp_path / "ga.csv", ROWS, encoding="gbk")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_ingest_prints_the_summary_and_succeeds_with_quarantined_rows(files: tuple[Path, Path]) -> None:
    mapping, data = files
    code, output = invoke("ingest", "测试人口信息", str(data), "--mapping", str(mapping), "--json")
    assert code == 0, output
    summary = json.loads(output)
    assert summary["batch_id"] >= 1 and summary["status"] == "succeeded"
    names = ["inserted", "updated", "unchanged", "superseded", "deleted", "empty", "rejected"]
    assert summary["read"] == sum(summary[n] for n in names) == 3
    assert (summary["inserted"], summary["rejected"]) == (2, 1)
    code, human = invoke("ingest", "测试人口信息", str(data), "--mapping", str(mapping))
    assert code == 0 and "未变 2" in human and "隔离 1" in human and "quarantine export" in human
    code, output = invoke("records", "测试人口信息", "--where", f"gmsfhm={ROWS[1][0]}", "--json")
    [record] = json.loads(output)
    assert code == 0 and (record["xm"], record["xb"], record["_batch_id"]) == (
        "李四",
        "2",
        summary["batch_id"],
    )
    code, output = invoke("records", "测试人口信息", "--as-of", "2000-01-01T00:00:00", "--json")
    assert code == 0 and json.loads(output) == []  # nothing was loaded back then
    assert invoke("records", "测试人口信息", "--as-of", "yesterday")[0] == 2


def test_a_failed_batch_exits_non_zero_and_a_bad_mapping_starts_nothing(
    files: tuple[Path, Path], tmp_path: Path, db: Database
) -> None:
    mapping, _data = files
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\x01\x02" * 1000)
    code, output = invoke("ingest", "测试人口信息", str(garbage), "--mapping", str(mapping), "--json")
    assert code == 1 and json.loads(output)["status"] == "failed"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("columns: {gmsfhm: {from: 身份证号, validate: nosuch}}", encoding="utf-8")
    result = runner.invoke(app, ["ingest", "测试人口信息", str(garbage), "--mapping", str(wrong)])
    assert result.exit_code == 2 and "nosuch" in result.output
    code, listing = invoke("batches", "--json")
    assert code == 0 and [b["status"] for b in json.loads(listing)] == ["failed"]
    assert current(db) == []


def test_export_fix_and_reprocess_from_the_command_line(
    files: tuple[Path, Path], tmp_path: Path, db: Database
) -> None:
    mapping, data = files
    code, output = invoke("ingest", "测试人口信息", str(data), "--mapping", str(mapping), "--json")
    batch = json.loads(output)["batch_id"]
    exported = tmp_path / "q.csv"
    code, _ = invoke("quarantine", "export", str(batch), "--output", str(exported))
    assert code == 0
    text = exported.read_text(encoding="utf-8-sig")
    assert "110105199003071230" in text and "校验码" in text
    fixed = text.replace("110105199003071230", person_id("19900307", 333))
    exported.write_text(fixed, encoding="utf-8-sig")
    code, output = invoke("quarantine", "reprocess", str(batch), "--file", str(exported), "--json")
    assert code == 0, output
    again = json.loads(output)
    assert (again["kind"], again["parent_id"], again["inserted"], again["rejected"]) == (
        "reprocess",
        batch,
        1,
        0,
    )
    assert len(current(db)) == 3
    code, _ = invoke("quarantine", "reprocess", str(batch))
    assert code == 2  # nothing left to reprocess


def test_a_registered_source_runs_on_its_cycle_from_the_scheduler(
    files: tuple[Path, Path], tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    source_db = tmp_path / "ga-source.db"
    with sqlite3.connect(source_db) as con:
        con.execute("CREATE TABLE rk (sfzh TEXT, xm TEXT, xb TEXT, gxsj TEXT)")
        con.executemany(
            "INSERT INTO rk VALUES (?, ?, ?, ?)",
            [
                (ROWS[0][0], "张三", "0", "2024-01-01 08:00:00"),
                (ROWS[1][0], "李四", "1", "2024-01-02 08:00:00"),
            ],
        )
    monkeypatch.setenv("GOVSHARE_SOURCE_DIRS", str(tmp_path))
    code, output = invoke(
        "connection", "add", "公安人口库", "--kind", "sqlite", "-d", "GA", "--ref", str(source_db), "-t", "rk"
    )
    assert code == 0, output
    mapping = tmp_path / "db.yaml"
    mapping.write_text(
        "source: {connection: 公安人口库, table: rk}\nmode: incremental\ncursor: gxsj\n"
        "columns: {gmsfhm: sfzh, xm: xm, xb: {from: xb, map: {'0': '1', '1': '2'}}, gxsj: gxsj}\n",
        encoding="utf-8",
    )
    code, output = invoke("sources", "add", "测试人口信息", "公安人口库", "--mapping", str(mapping), "--json")
    assert code == 0 and json.loads(output)["kind"] == "sqlite"
    assert "公安人口库" in (tmp_path / "db.yaml").read_text(encoding="utf-8")
    code, output = invoke("sources", "scheduler", "--once")
    assert code == 0 and "成功" in output
    assert sorted(r["xm"] for r in current(db)) == ["张三", "李四"]
    code, output = invoke("sources", "list", "--json")
    assert json.loads(output)[0]["cursor_value"] == "2024-01-02 08:00:00"
    code, output = invoke("sources", "scheduler", "--once")  # not due again within its daily cycle
    assert code == 0 and output == ""
