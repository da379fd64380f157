"""`govshare audit verify`: check the whole hash chain, its head and its checkpoints; exit non-zero naming
the first problem. `govshare audit checkpoint`: write the next checkpoint (for cron)."""

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


@audit_app.command("checkpoint")
def checkpoint(as_json: bool = JsonOption) -> None:
    """写入审计检查点：校验上一个检查点之后的记录，把链头（序号与哈希）签名写到检查点目录。"""
    result = run(lambda session, actor: service.write_checkpoint(session, actor))
    emit(
        as_json,
        result.as_dict(),
        f"已写入第 {result.number} 个审计检查点（链头第 {result.seq} 条）"
        if result.written
        else f"自第 {result.number} 个检查点以来没有新的审计记录，未写入新检查点",
    )
