"""`govshare audit verify`: check the whole hash chain; exit non-zero naming the first broken entry."""

from __future__ import annotations

import typer

from govshare.audit import service
from govshare.cli.context import JsonOption, emit, run

audit_app = typer.Typer(help="安全审计", no_args_is_help=True)


@audit_app.command("verify")
def verify(as_json: bool = JsonOption) -> None:
    """校验审计日志哈希链：指出第一条被修改、删除或调换顺序的记录。"""
    report = run(lambda session, actor: service.verify(session, actor))
    emit(
        as_json,
        report.as_dict(),
        f"{'通过' if report.ok else '失败'}：{report.message}"
        f"（已校验 {report.checked} 条，链头第 {report.head_seq} 条）",
    )
    if not report.ok:
        raise typer.Exit(1)
