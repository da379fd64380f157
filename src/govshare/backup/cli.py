"""`govshare backup`: create, verify, restore, digest, prune, run-scheduled (docs/backup.md).

Backups are taken and restored at the console only (there is no API for them): whoever runs these holds the
database credentials and the backup key. Every action but `digest` is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from govshare import logging as node_logging
from govshare.auth.actor import Actor
from govshare.backup import jobs, service
from govshare.cli.context import JsonOption, emit, fail, settings
from govshare.errors import GovshareError
from govshare.settings import Settings

T = TypeVar("T")

backup_app = typer.Typer(help="备份：加密、校验、异地复制、恢复", no_args_is_help=True)

BackupArgument = typer.Argument(..., help="备份文件（.gsbk）", exists=False, dir_okay=False)


def _run(func: Callable[[Settings, Actor], T]) -> T:
    current = settings()
    node_logging.configure(current.log_level, current.log_json)
    try:
        return func(current, Actor.system())
    except GovshareError as exc:
        fail(exc.message, code=exc.code)
    except OSError as exc:  # a full disk, a read-only or missing directory: say which, without a traceback
        where = f"（{Path(str(exc.filename)).name}）" if exc.filename else ""
        fail(f"文件读写失败：{exc.strerror or type(exc).__name__}{where}", code="backup_io_error")


@backup_app.command("create")
def create(as_json: bool = JsonOption) -> None:
    """备份本节点：数据库（含记录表、审计日志）、审计检查点与数据目录中的文件，SM4-GCM 加密，附 SM3 清单。"""
    report = _run(service.create_backup)
    emit(
        as_json,
        report.as_dict(),
        f"已备份：{report.path}（{report.size} 字节，{report.parts} 个部分）\n"
        f"文件 SM3：{report.sm3}\n内容摘要：{report.content_digest}"
        + (f"\n异地副本：{report.offsite}" if report.offsite else ""),
    )


@backup_app.command("verify")
def verify(path: Path = BackupArgument, as_json: bool = JsonOption) -> None:
    """校验备份可恢复：解密、核对每个部分的 SM3，恢复到临时数据库，核对内容摘要并校验审计日志哈希链。

    不触及在用的数据库；校验失败时退出码为 1。"""
    report = _run(lambda current, actor: service.verify_backup(current, actor, path))
    emit(
        as_json,
        report.as_dict(),
        f"{'通过' if report.ok else '失败'}：{report.message}"
        + (f"\n内容摘要：{report.content_digest}" if report.content_digest else ""),
    )
    if not report.ok:
        raise typer.Exit(1)


@backup_app.command("restore")
def restore(
    path: Path = BackupArgument,
    to: str = typer.Option(..., "--to", help="目标数据库连接串（新节点的空数据库）"),
    force: bool = typer.Option(False, "--force", help="目标已有数据时仍然恢复（现有数据将被删除）"),
    as_json: bool = JsonOption,
) -> None:
    """把备份恢复到新节点：数据库恢复到 --to，文件恢复到本节点的数据目录与审计检查点目录。

    目标数据库须为空（否则须加 --force）；恢复后核对内容摘要并校验审计日志哈希链。"""
    report = _run(
        lambda current, actor: service.restore_backup(current, actor, path, target_url=to, force=force)
    )
    ok = bool(report.chain.get("ok"))
    emit(
        as_json,
        report.as_dict(),
        f"已恢复到 {report.target}：内容摘要 {report.content_digest} 与备份一致；"
        f"文件 {report.files} 个，审计检查点 {report.checkpoints} 个\n"
        f"审计日志哈希链：{'完整' if ok else '校验失败：' + str(report.chain.get('message'))}",
    )
    if not ok:
        raise typer.Exit(1)


@backup_app.command("digest")
def digest(
    database_url: str | None = typer.Option(None, "--database-url", help="默认为本节点的数据库"),
    tables: bool = typer.Option(False, "--tables", help="同时列出每张表的行数与摘要"),
    as_json: bool = JsonOption,
) -> None:
    """显示数据库的内容摘要（与存储方式无关：每张表按主键排序的规范化行的 SM3）。"""
    result = _run(lambda current, actor: service.digest(current, actor, database_url))
    emit(
        as_json,
        result.as_dict() if tables else {"value": result.value},
        lambda: (
            result.value
            + "".join(f"\n{name}\t{t.rows}\t{t.sm3}" for name, t in result.tables.items() if tables)
        ),
    )


@backup_app.command("prune")
def prune(as_json: bool = JsonOption) -> None:
    """按 GOVSHARE_BACKUP_KEEP 删除过期的备份（本地与异地目录；最新一份总是保留）。"""
    report = _run(service.prune_backups)
    emit(as_json, report.as_dict(), f"保留 {len(report.kept)} 份，删除 {len(report.removed)} 份")


@backup_app.command("run-scheduled")
def run_scheduled(
    verify_after: bool = typer.Option(True, "--verify/--no-verify", help="备份后恢复到临时数据库校验"),
    as_json: bool = JsonOption,
) -> None:
    """供定时任务调用：备份、（异地复制、）校验、按保留策略清理。校验失败时退出码为 1。"""
    run = _run(lambda current, actor: jobs.run_scheduled(current, actor, verify=verify_after))
    emit(
        as_json,
        run.as_dict(),
        lambda: (
            f"已备份：{run.created.path}"
            + (
                f"\n校验：{'通过' if run.verified.ok else '失败'}：{run.verified.message}"
                if run.verified
                else ""
            )
            + (f"\n清理：删除 {len(run.pruned.removed)} 份" if run.pruned else "")
        ),
    )
    if not run.ok:
        raise typer.Exit(1)
