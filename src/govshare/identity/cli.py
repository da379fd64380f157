"""`govshare dept ...` and `govshare user ...`."""

from __future__ import annotations

import secrets
import string
import sys

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Role
from govshare.cli.context import JsonOption, emit, fail, run
from govshare.core.validation import describe
from govshare.identity import officer_service, password_service, service
from govshare.identity.schemas import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    ProposalOut,
    UserCreate,
    UserOut,
)

dept_app = typer.Typer(help="部门管理", no_args_is_help=True)
user_app = typer.Typer(help="用户管理", no_args_is_help=True)


def parse(
    model: type[DepartmentCreate] | type[DepartmentUpdate] | type[UserCreate], **values: object
) -> DepartmentCreate | DepartmentUpdate | UserCreate:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fail(describe(exc, limit=1), code="invalid_input", exit_code=2)


def generated_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "Gs-" + "".join(secrets.choice(alphabet) for _ in range(16)) + "9a"


def read_password(password_stdin: bool) -> tuple[str, bool]:
    """The password from stdin, a prompt, or generated (returned with True, to be shown once)."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty():
        return typer.prompt("口令", hide_input=True, confirmation_prompt=True), False
    return generated_password(), True


@dept_app.command("add")
def dept_add(
    code: str = typer.Argument(..., help="部门代码，如 GA"),
    name: str = typer.Argument(..., help="部门名称，如 示例市公安局"),
    division: str = typer.Option(..., "--division", help="行政区划代码（6 位）"),
    level: str = typer.Option("city", "--level", help="层级：province/city/county 或 省/市/县"),
    parent: str | None = typer.Option(None, "--parent", help="上级部门代码"),
    uscc: str | None = typer.Option(None, "--uscc", help="统一社会信用代码"),
    as_json: bool = JsonOption,
) -> None:
    """新增部门。"""
    data = parse(
        DepartmentCreate,
        code=code,
        name=name,
        division_code=division,
        level=level,
        parent_code=parent,
        uscc=uscc,
    )

    def action(session: Session, actor: Actor) -> DepartmentOut:
        department = service.create_department(session, actor, data)  # type: ignore[arg-type]
        return DepartmentOut.of(department, service.department_codes(session))

    out = run(action)
    emit(as_json, out.model_dump(mode="json"), f"已新增部门 {out.code} {out.name}")


@dept_app.command("edit")
def dept_edit(
    code: str = typer.Argument(..., help="要修改的部门代码（代码本身不能修改）"),
    name: str | None = typer.Option(None, "--name", help="新的部门名称"),
    division: str | None = typer.Option(None, "--division", help="行政区划代码（6 位）"),
    level: str | None = typer.Option(None, "--level", help="层级：province/city/county 或 省/市/县"),
    parent: str | None = typer.Option(None, "--parent", help="上级部门代码；给空字符串表示没有上级部门"),
    uscc: str | None = typer.Option(None, "--uscc", help="统一社会信用代码；给空字符串表示清除"),
    as_json: bool = JsonOption,
) -> None:
    """修改部门：只改给出的选项，未给出的保持不变。"""
    given = {"name": name, "division_code": division, "level": level, "parent_code": parent, "uscc": uscc}
    clearable = ("parent_code", "uscc")  # an empty value clears them
    sent = {k: (v.strip() or None) if k in clearable else v for k, v in given.items() if v is not None}
    if not sent:
        fail(
            "请至少给出一个要修改的选项（--name、--division、--level、--parent、--uscc）",
            code="invalid_input",
            exit_code=2,
        )
    data = parse(DepartmentUpdate, **sent)

    def action(session: Session, actor: Actor) -> DepartmentOut:
        department = service.update_department(session, actor, code, data)  # type: ignore[arg-type]
        return DepartmentOut.of(department, service.department_codes(session))

    out = run(action)
    emit(as_json, out.model_dump(mode="json"), f"已修改部门 {out.code} {out.name}")


@dept_app.command("list")
def dept_list(as_json: bool = JsonOption) -> None:
    """列出部门。"""

    def action(session: Session, actor: Actor) -> list[DepartmentOut]:
        codes = service.department_codes(session)
        return [DepartmentOut.of(d, codes) for d in service.list_departments(session, actor)]

    rows = run(action)
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(f"{r.code}\t{r.name}\t{r.level_label}\t{r.division_code}" for r in rows),
    )


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="用户名（小写字母开头）"),
    name: str = typer.Option(..., "--name", help="姓名"),
    department: str = typer.Option(..., "--dept", help="所属部门代码"),
    roles: list[str] = typer.Option([], "--role", help="角色，可重复：platform_admin、auditor 或中文名"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取口令"),
    as_json: bool = JsonOption,
) -> None:
    """新增用户。不给口令时在终端提示输入；非交互时生成一个并只显示这一次。"""
    password, generated = read_password(password_stdin)
    data = parse(
        UserCreate,
        username=username,
        display_name=name,
        department_code=department,
        password=password,
        roles=roles,
    )
    out = run(lambda session, actor: UserOut.of(service.create_user(session, actor, data)))  # type: ignore[arg-type]
    payload = out.model_dump(mode="json") | ({"password": password} if generated else {})
    emit(
        as_json,
        payload,
        f"已新增用户 {out.username}（{'、'.join(out.role_labels) or '无角色'}）"
        + (f"\n初始口令（只显示这一次）：{password}" if generated else ""),
    )


@user_app.command("list")
def user_list(department: str | None = typer.Option(None, "--dept"), as_json: bool = JsonOption) -> None:
    """列出用户。"""
    rows = run(lambda session, actor: [UserOut.of(u) for u in service.list_users(session, actor, department)])
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(
            f"{r.username}\t{r.display_name}\t{r.department_code}\t{'、'.join(r.role_labels)}" for r in rows
        ),
    )


@user_app.command("unlock")
def user_unlock(username: str, as_json: bool = JsonOption) -> None:
    """解锁因连续登录失败而锁定的账号。"""
    out = run(lambda session, actor: UserOut.of(service.unlock_user(session, actor, username)))
    emit(as_json, out.model_dump(mode="json"), f"已解锁 {out.username}")


@user_app.command("passwd")
def user_passwd(
    username: str = typer.Argument(..., help="要设置口令的用户名"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取新口令"),
    as_json: bool = JsonOption,
) -> None:
    """在控制台为用户设置新口令（含三员账号）：不给口令时在终端提示输入，非交互时生成一个并只显示这一次。

    用户下次登录后必须修改这个口令；该用户已登录的会话全部退出，登录等待清除。用户修改自己的口令请用门户
    “修改口令”页面或 POST /api/v1/me/password。"""
    password, generated = read_password(password_stdin)
    run(lambda session, actor: password_service.reset_password(session, actor, username, password))
    emit(
        as_json,
        {"username": username, "must_change_password": True} | ({"password": password} if generated else {}),
        f"已为 {username} 设置新口令，下次登录后须修改"
        + (f"\n新口令（只显示这一次）：{password}" if generated else ""),
    )


@user_app.command("proposals")
def user_proposals(
    pending: bool = typer.Option(False, "--pending", help="只列出待确认的"), as_json: bool = JsonOption
) -> None:
    """列出三员变更提议（由一名三员提议、另一角色的三员在门户或接口中确认）。"""
    rows = run(
        lambda session, actor: [
            ProposalOut.of(p)
            for p in officer_service.list_proposals(session, actor, "pending" if pending else None)
        ]
    )
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(
            "\t".join(
                (str(r.id), r.kind_label, r.username, r.role.label if r.role else "", r.status, r.proposed_by)
            )
            for r in rows
        ),
    )


@user_app.command("grant")
def user_grant(
    username: str,
    role: str = typer.Argument(..., help="角色：auditor 等或中文名"),
    as_json: bool = JsonOption,
) -> None:
    """在控制台授予角色。控制台可直接授予三员角色（节点初始化与恢复之用，不经双人确认，照常记审计日志）。"""
    parsed = parse_role(role)
    out = run(lambda session, actor: UserOut.of(service.grant_role(session, actor, username, parsed)))
    emit(as_json, out.model_dump(mode="json"), f"已授予 {out.username}：{'、'.join(out.role_labels)}")


@user_app.command("disable")
def user_disable(username: str, as_json: bool = JsonOption) -> None:
    """在控制台停用账号（含三员账号，不经双人确认；每种三员角色至少保留一名在用的账号）。"""
    out = run(lambda session, actor: UserOut.of(service.set_user_active(session, actor, username, False)))
    emit(as_json, out.model_dump(mode="json"), f"已停用 {out.username}，其登录会话已全部失效")


@user_app.command("enable")
def user_enable(username: str, as_json: bool = JsonOption) -> None:
    """在控制台启用账号（含三员账号，不经双人确认）。"""
    out = run(lambda session, actor: UserOut.of(service.set_user_active(session, actor, username, True)))
    emit(as_json, out.model_dump(mode="json"), f"已启用 {out.username}")


def parse_role(value: str) -> Role:
    for role in Role:
        if value in (role.value, role.label):
            return role
    fail(f"role：“{value}”不是有效的角色", code="invalid_input", exit_code=2)
