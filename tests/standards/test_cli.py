"""`govshare standards …` (the Typer app `standards_app`, until the main CLI mounts it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govshare.core.db import Database
from govshare.standards.cli import standards_app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(standards_app, list(args))
    return result.exit_code, result.output


def _people(tmp_path: Path, encoding: str = "utf-8") -> Path:
    path = tmp_path / "people.csv"
    path.write_text(
        "姓名,公民身份号码,性别,出生日期\n"
        "张三,11010519491231002x,女,1949-12-31\n"
        "李四,110105491231002,男,1949年12月31日\n"  # 15 digits; the sequence digit says female
        "王五,110105194912310021,男,1949-12-31\n"  # bad check digit
        "赵六,,男,\n",
        encoding=encoding,
    )
    return path


def test_validate_a_column_without_a_database(tmp_path: Path) -> None:
    out = tmp_path / "checked.csv"
    code, output = invoke(
        "validate",
        str(_people(tmp_path, "gbk")),
        "--column",
        "公民身份号码",
        "--rule",
        "id_number",
        "--sex-column",
        "性别",
        "--birth-column",
        "出生日期",
        "--out",
        str(out),
        "--json",
    )
    assert code == 1  # a rejected value: the exit code says so
    summary = json.loads(output)
    assert (summary["accepted"], summary["rejected"], summary["blank"]) == (2, 1, 1)
    assert summary["errors"] == {"id.check": 1}
    assert summary["warnings"] == {"warn.sex_id": 1, "warn.birth_id": 0}
    assert summary["examples"] == [
        {"row": 4, "value": "110105194912310021", "message": "公民身份号码校验码错误"}
    ]
    written = out.read_text(encoding="utf-8").splitlines()
    assert written[0].startswith("姓名,公民身份号码,性别,出生日期,公民身份号码__value,")
    assert ",11010519491231002X," in written[1] and ",11010519491231002X," in written[2]


def test_validate_human_output(tmp_path: Path) -> None:
    code, output = invoke("validate", str(_people(tmp_path)), "-c", "出生日期", "-r", "date")
    assert code == 0, output
    assert "通过 3，拒绝 0，空值 1" in output
    code, output = invoke("validate", str(_people(tmp_path)), "-c", "没有这列", "-r", "date")
    assert code == 2 and "没有列" in output


@pytest.mark.usefixtures("cli_env")
def test_list_show_import_and_code_validation(db: Database, tmp_path: Path) -> None:
    code, output = invoke("list")
    assert code == 0, output
    assert "GB-3304\t中国各民族名称代码" in output
    code, output = invoke("show", "GB 3304", "--codes", "--limit", "3")
    assert code == 0, output
    assert "  01\t汉族" in output and "还有更多" in output
    table = tmp_path / "xb.csv"
    table.write_text("代码,名称\n0,男\n1,女\n", encoding="utf-8")
    code, output = invoke("import", str(table), "--code", "GA-XB", "--version", "2015", "--name", "公安性别")
    assert code == 0, output
    assert "新建代码集 GA-XB 2015：2 个代码" in output
    broken = tmp_path / "broken.csv"
    broken.write_text("代码,名称\n0,男\n0,女\n", encoding="utf-8")
    code, output = invoke("import", str(broken), "--code", "GA-XB", "--version", "2016")
    assert code == 1
    assert "第3行“代码”：代码“0”与第2行重复" in output
    people = tmp_path / "p.csv"
    people.write_text("民族\n1\n汉族\n99\n", encoding="utf-8")
    code, output = invoke(
        "validate", str(people), "-c", "民族", "-r", "code", "--code-set", "GB-3304", "--json"
    )
    assert code == 1
    assert json.loads(output)["errors"] == {"code.unknown": 1}
    elements = tmp_path / "de.csv"
    elements.write_text(
        "标识符,中文名称,数据类型,代码集,校验规则\nDE1,民族,C,GB-3304,code\n", encoding="utf-8"
    )
    code, output = invoke("import-elements", str(elements))
    assert code == 0, output
    code, output = invoke("elements")
    assert "DE1\t民族\tC\tGB-3304\tcode" in output
