"""The `govshare` command line against real databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from govshare.cli.main import app
from govshare.core.db import Database
from govshare.settings import Settings

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def as_json(output: str) -> object:
    return json.loads(output[output.index("{") if output.lstrip()[0] == "{" else output.index("[") :])


@pytest.mark.usefixtures("cli_env")
def test_init_creates_the_first_admin_once(db: Database) -> None:
    code, out = invoke("init", "--password-stdin", "--json", stdin="Chief@Passw0rd-1\n")
    assert code == 0, out
    data = as_json(out)
    assert data == {"database": data["database"], "admin_created": True, "admin": "admin"}  # type: ignore[index]
    code, out = invoke("init", "--json")
    assert code == 0
    assert as_json(out)["admin_created"] is False  # type: ignore[index]
    with db.transaction(readonly=True) as session:
        assert session.scalar(text("SELECT count(*) FROM app_user")) == 1


@pytest.mark.usefixtures("cli_env")
def test_non_interactive_init_generates_a_password_shown_once(db: Database) -> None:
    code, out = invoke("init", "--json")
    assert code == 0
    password = as_json(out)["password"]  # type: ignore[index]
    assert len(password) >= 16
    with db.transaction(readonly=True) as session:
        stored = session.scalar(text("SELECT password_hash FROM app_user"))
    assert str(stored).startswith("$argon2") and password not in str(stored)


@pytest.mark.usefixtures("cli_env")
def test_dept_user_app_and_key(db: Database) -> None:
    assert invoke("dept", "add", "GA", "示例市公安局", "--division", "990100", "--level", "市")[0] == 0
    code, out = invoke("dept", "list", "--json")
    assert [d["code"] for d in as_json(out)] == ["GA"]  # type: ignore[union-attr]
    code, out = invoke("dept", "add", "MZ", "示例市民政局", "--division", "99010")
    assert code == 2 and "division_code" in out
    code, out = invoke(
        "user",
        "add",
        "ga.steward",
        "--name",
        "张三",
        "--dept",
        "GA",
        "--role",
        "数据管理员",
        "--password-stdin",
        "--json",
        stdin="Steward@Pass-2026\n",
    )
    assert code == 0, out
    assert as_json(out)["roles"] == ["data_steward"]  # type: ignore[index]
    code, out = invoke("app", "add", "ga-rkgl", "人口管理信息系统", "--dept", "GA", "--json")
    assert code == 0, out
    secret = as_json(out)["secret"]  # type: ignore[index]
    assert secret.startswith("gs_")
    code, out = invoke("app", "list", "--json")
    assert secret not in out and "ga-rkgl" in out
    prefix = secret.split("_")[1]
    code, out = invoke("app", "revoke", "ga-rkgl", prefix, "--json")
    assert as_json(out)["state"] == "revoked"  # type: ignore[index]


@pytest.mark.usefixtures("cli_env")
def test_domain_errors_exit_non_zero_with_chinese_message(db: Database) -> None:
    code, out = invoke(
        "user", "add", "x.y", "--name", "某", "--dept", "NOPE", "--password-stdin", stdin="Xyz@Passw0rd-1\n"
    )
    assert code == 1
    assert "部门“NOPE”不存在" in out


@pytest.mark.usefixtures("cli_env")
def test_refused_arguments_read_in_chinese(db: Database) -> None:
    """The console translates validation errors with the API's and the portal's translator (no English)."""
    code, out = invoke("dept", "add", "GA", "公安局", "--division", "12")
    assert code == 2
    assert "division_code：格式不正确" in out
    code, out = invoke("dept", "add", "GA", "局", "--division", "110000")
    assert code == 2
    assert "name：长度不能少于 2 个字符" in out
    assert "should" not in out


@pytest.mark.usefixtures("cli_env")
def test_audit_verify_exit_code_names_the_broken_entry(db: Database) -> None:
    invoke("dept", "add", "GA", "示例市公安局", "--division", "990100")
    invoke("dept", "add", "MZ", "示例市民政局", "--division", "990100")
    code, out = invoke("audit", "verify")
    assert code == 0 and "通过" in out
    with db.transaction() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
        else:
            session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        session.execute(text("UPDATE audit_entry SET detail = '{}' WHERE seq = 2"))
    code, out = invoke("audit", "verify", "--json")
    assert code == 1
    report = as_json(out)
    assert (report["ok"], report["first_bad_seq"], report["problem"]) == (False, 2, "modified")  # type: ignore[index]


@pytest.mark.usefixtures("cli_env")
def test_demo_seeds_a_city_and_is_idempotent(db: Database, settings: Settings) -> None:
    code, out = invoke("demo", "--json")
    assert code == 0, out
    first = as_json(out)
    assert first["departments_created"] >= 20  # type: ignore[index]
    assert first["users_created"] >= 60  # type: ignore[index]
    assert (settings.data_dir / "demo-credentials.txt").stat().st_mode & 0o077 == 0
    code, out = invoke("demo", "--json")
    again = as_json(out)
    assert (again["departments_created"], again["users_created"], again["applications_created"]) == (0, 0, 0)  # type: ignore[index]
    with db.transaction(readonly=True) as session:
        roles = set(session.scalars(text("SELECT DISTINCT role FROM user_role")))
    assert roles == {
        "platform_admin",
        "security_admin",
        "auditor",
        "catalog_reviewer",
        "department_admin",
        "data_steward",
        "data_user",
    }


def _command_paths() -> list[list[str]]:
    """Every leaf command of the CLI, walked from the Typer app (a new command is covered without a list)."""
    import typer.main

    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        # Typer carries its own click: a group is recognised by its sub-commands, not by click's class
        if getattr(command, "commands", None):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found.append(path)

    walk(typer.main.get_command(app), [])
    return found


def test_the_command_walk_finds_the_commands() -> None:
    paths = _command_paths()
    assert {("dept", "edit"), ("app", "revoke"), ("sharing", "approve"), ("db", "check")} <= {
        tuple(p) for p in paths
    }
    assert len(paths) > 40


@pytest.mark.parametrize("command", _command_paths(), ids=" ".join)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.output)  # described in Chinese
