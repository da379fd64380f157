"""`govshare connection add|list|show|disable|enable|test`: the platform administrator's registry of source
database connections (docs/collection.md). The URL is never printed: `add` takes where it is read."""

from __future__ import annotations

import typer

from govshare.cli.context import JsonOption, emit, run
from govshare.collection import connections
from govshare.collection.connections import ConnectionCreate, ConnectionOut

connection_app = typer.Typer(help="数据源连接：登记、查看、停用、测试（平台管理员）", no_args_is_help=True)


def _describe(out: ConnectionOut) -> str:
    state = "启用" if out.enabled else "停用"
    return (
        f"{out.name}\t{out.kind}\t部门 {out.department_id}\t{state}\t"
        f"允许读取：{'、'.join(out.allowed_tables)}"
        + (f"\t地址来自 {out.reference}" if out.reference else "")
    )


@connection_app.command("add")
def add(
    name: str = typer.Argument(..., help="连接名称（映射中 source.connection 引用）"),
    kind: str = typer.Option(..., "--kind", help="postgresql、mysql 或 sqlite"),
    department: str = typer.Option(..., "--department", "-d", help="所属部门代码"),
    reference: str = typer.Option(
        ..., "--ref", help="连接地址所在：env:环境变量名 或 file:/文件路径；SQLite 为数据库文件路径"
    ),
    tables: list[str] = typer.Option(
        ..., "--table", "-t", help="允许读取的表：表、模式.表 或 模式.*，可重复"
    ),
    as_json: bool = JsonOption,
) -> None:
    """登记一个部门的数据源连接。连接地址本身不入库、不显示。"""
    out = run(
        lambda s, a: connections.add_connection(
            s,
            a,
            ConnectionCreate.model_validate(
                {
                    "name": name,
                    "kind": kind,
                    "department": department,
                    "reference": reference,
                    "allowed_tables": tables,
                }
            ),
        )
    )
    emit(as_json, out.model_dump(mode="json"), f"数据源连接“{out.name}”已登记")


@connection_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """全部数据源连接。"""
    found = run(lambda s, a: connections.list_connections(s, a))
    emit(
        as_json,
        [c.model_dump(mode="json") for c in found],
        lambda: "\n".join(_describe(c) for c in found) or "没有数据源连接",
    )


@connection_app.command("show")
def show(name: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """一个数据源连接（不显示连接地址）。"""
    out = run(lambda s, a: connections.get_connection(s, a, name))
    emit(as_json, out.model_dump(mode="json"), lambda: _describe(out))


@connection_app.command("disable")
def disable(
    name: str = typer.Argument(...),
    enable: bool = typer.Option(False, "--enable", help="重新启用"),
    as_json: bool = JsonOption,
) -> None:
    """停用（或以 --enable 重新启用）一个数据源连接：停用后引用它的数据源不能运行。"""
    out = run(lambda s, a: connections.set_enabled(s, a, name, enable))
    emit(as_json, out.model_dump(mode="json"), f"数据源连接“{out.name}”已{'启用' if enable else '停用'}")


@connection_app.command("test")
def probe_command(name: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """连接并执行 SELECT 1；失败原因只写入节点日志。"""
    message = run(lambda s, a: connections.check_connection(s, a, name))
    emit(as_json, {"message": message, "ok": "成功" in message}, message)
    if "成功" not in message:
        raise typer.Exit(1)
