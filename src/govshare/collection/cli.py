"""`govshare ingest`, `govshare batches`, `govshare quarantine …` and `govshare sources …`.

Exit codes: 0 when the batch succeeded (even with quarantined rows), 1 when it failed, 2 for a wrong
command line or mapping (nothing was started)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from govshare.auth.actor import Actor
from govshare.cli.context import JsonOption, database, emit, fail, run
from govshare.collection import export, jobs, service
from govshare.collection.mapping import read_mapping
from govshare.collection.schemas import COUNT_FIELDS, BatchOut, SourceCreate
from govshare.collection.service import Started
from govshare.core.db import Database
from govshare.errors import GovshareError
from govshare.models import Batch

batches_app = typer.Typer(help="归集批次", no_args_is_help=False)
quarantine_app = typer.Typer(help="隔离数据：下载与重新处理", no_args_is_help=True)
sources_app = typer.Typer(help="数据源：登记、运行、按更新周期调度", no_args_is_help=True)

LABELS = {
    "read": "读取",
    "inserted": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "superseded": "批内被覆盖",
    "deleted": "删除",
    "empty": "空行",
    "rejected": "隔离",
    "warnings": "警告",
    "removed": "全量移除",
}
STATUS = {"running": "运行中", "succeeded": "成功", "failed": "失败"}
AllowRemovals = typer.Option(
    False,
    "--allow-removals",
    help="全量方式下允许关闭超过 GOVSHARE_COLLECTION_MAX_REMOVAL_SHARE 比例的现有记录"
    "（确认数据源确实已没有它们时）",
)


def summary(batch: BatchOut) -> dict[str, Any]:
    data = batch.model_dump(mode="json")
    data["batch_id"] = batch.id
    return data


def describe(batch: BatchOut) -> str:
    lines = [
        f"批次 {batch.id}  {STATUS.get(batch.status, batch.status)}  "
        f"资源 {batch.resource_code or batch.resource_id} {batch.resource_name or ''}",
        f"  来源：{batch.origin}  方式：{'全量' if batch.mode == 'full' else '增量'}"
        + (f"  编码：{batch.encoding}" if batch.encoding else ""),
        "  " + "  ".join(f"{LABELS[k]} {getattr(batch, k)}" for k in ("read", *COUNT_FIELDS)),
        f"  {LABELS['warnings']} {batch.warnings}  {LABELS['removed']} {batch.removed}"
        + (f"  SM3 {batch.checksum}" if batch.checksum else ""),
    ]
    lines += _notes(batch)
    if batch.rejected and batch.status == "succeeded":
        lines.append(f"  隔离数据下载：govshare quarantine export {batch.id} --output 隔离_{batch.id}.csv")
    if batch.error:
        lines.append(f"  错误：{batch.error}")
    return "\n".join(lines)


def _notes(batch: BatchOut) -> list[str]:
    """What the counts alone do not say: where the header was, stray quotes, records kept, same input."""
    notes = []
    if batch.header_row is not None:
        notes.append(f"  表头：第{batch.header_row}行")
    if batch.recovered:
        notes.append(
            f"  引号未闭合的行已单独隔离，其后本会被吞并的 {batch.recovered} 行已逐行读取"
            "（见隔离数据 csv.quote）"
        )
    if batch.kept:
        notes.append(f"  全量保留 {batch.kept} 条：其主键在本次数据中，但该行被隔离，原记录保持不变")
    if batch.same_input_as is not None:
        notes.append(f"  注意：本次输入与批次 {batch.same_input_as} 的输入完全相同（SM3 一致）")
    return notes


def _progress_printer(as_json: bool) -> Callable[[Batch], None] | None:
    if as_json:
        return None
    state: dict[str, int] = {"shown": -1}

    def show(batch: Batch) -> None:
        if batch.bytes_total:
            percent = int(batch.bytes_done * 100 / max(batch.bytes_total, 1))
            filled = percent // 4
            bar = "█" * filled + "·" * (25 - filled)
            counts = f"{LABELS['read']} {batch.read}，{LABELS['rejected']} {batch.rejected}"
            text = f"\r  [{bar}] {percent:3d}%  {counts}"
        else:
            text = f"\r  {LABELS['read']} {batch.read}，{LABELS['rejected']} {batch.rejected}"
        if batch.read != state["shown"]:
            typer.echo(text, nl=False, err=True)
            state["shown"] = batch.read

    return show


def _finish(db: Database, actor: Actor, batch: Batch, as_json: bool) -> None:
    if not as_json:
        typer.echo("", err=True)
    with db.transaction(readonly=True) as session:
        out = service.get_batch(session, actor, batch.id)
    emit(as_json, summary(out), lambda: describe(out))
    if out.status != "succeeded":
        raise typer.Exit(1)


def _run(start: Callable[[Any, Actor], Started], as_json: bool, **options: Any) -> None:
    db = database()
    actor = Actor.system()
    try:
        try:
            with db.transaction() as session:
                started = start(session, actor)
        except GovshareError as exc:
            fail(exc.message, code=exc.code, exit_code=2)
        if not as_json:
            typer.echo(f"批次 {started.prepared.batch_id} 开始……", err=True)
        try:
            batch = jobs.run_started(db, actor, started, on_progress=_progress_printer(as_json), **options)
        except Exception:  # the pipeline has failed the batch with the error and logged the trace
            with db.transaction(readonly=True) as session:
                batch = session.get_one(Batch, started.prepared.batch_id)
        _finish(db, actor, batch, as_json)
    finally:
        db.dispose()


def ingest(
    resource: str = typer.Argument(..., help="资源代码或名称"),
    source: str = typer.Argument(None, help="数据文件（不填则用映射中的 source.path 或数据库）"),
    mapping: Path = typer.Option(..., "--mapping", "-m", help="映射文件（YAML），见 docs/collection.md"),
    mode: str = typer.Option(None, "--mode", help="full（全量替换）或 incremental（增量更新），默认按映射"),
    allow_removals: bool = AllowRemovals,
    as_json: bool = JsonOption,
) -> None:
    """把一个文件或数据库表按映射归集到目录资源，打印批次统计。

    有隔离数据时仍以 0 退出，批次失败时以 1 退出。"""
    if mode not in (None, "full", "incremental"):
        fail("--mode 须为 full 或 incremental", code="invalid_input", exit_code=2)
    try:
        parsed = read_mapping(mapping)
    except GovshareError as exc:
        fail(exc.message, code=exc.code, exit_code=2)
    _run(
        lambda s, a: service.start_ingest(
            s, a, resource, parsed, source_path=source, mode=mode, allow_removals=allow_removals
        ),
        as_json,
        path=source,
    )


@batches_app.callback(invoke_without_command=True)
def batches(
    ctx: typer.Context,
    resource: str = typer.Option(None, "--resource", help="只看这个资源"),
    status: str = typer.Option(None, "--status", help="running / succeeded / failed"),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = JsonOption,
) -> None:
    """最近的归集批次（先把已中断的运行标为失败）。"""
    if ctx.invoked_subcommand is not None:
        return

    def work(session: Any, actor: Actor) -> list[BatchOut]:
        service.detect_dead_batches(session, actor)
        return service.list_batches(session, actor, resource=resource, status=status, limit=limit)

    found = run(work)
    emit(
        as_json,
        [summary(b) for b in found],
        lambda: "\n".join(describe(b) for b in found) or "没有归集批次",
    )


@batches_app.command("show")
def show(batch_id: int = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """一个批次的状态与统计（运行中时为实时进度）。"""
    out = run(lambda s, a: service.get_batch(s, a, batch_id))
    emit(as_json, summary(out), lambda: describe(out))


@batches_app.command("watchdog")
def watchdog(as_json: bool = JsonOption) -> None:
    """把已中断（进程已不在或超时无心跳）的运行中批次标为失败并释放资源；适合由 cron 每几分钟调用。"""
    failed = run(lambda s, a: service.detect_dead_batches(s, a))
    emit(
        as_json,
        {"failed": failed},
        lambda: f"已将批次 {'、'.join(map(str, failed))} 标为中断" if failed else "没有中断的批次",
    )


@quarantine_app.command("export")
def quarantine_export(
    batch_id: int = typer.Argument(..., help="批次号"),
    fmt: str = typer.Option(None, "--format", help="csv 或 xlsx（默认按输出文件扩展名，否则 csv）"),
    output: Path = typer.Option(None, "--output", "-o", help="输出文件；不填则写到标准输出（csv）"),
    warnings: bool = typer.Option(False, "--warnings", help="导出警告（已入库）而不是被隔离的行"),
) -> None:
    """下载批次的隔离数据：行号、问题字段、规则、原因，以及原样的源数据列。修正后可用 reprocess 重新处理。"""
    chosen = fmt or (output.suffix.lower().lstrip(".") if output else "csv")
    if chosen not in ("csv", "xlsx"):
        fail("--format 须为 csv 或 xlsx", code="invalid_input", exit_code=2)
    _batch, rows = run(
        lambda s, a: service.quarantine(s, a, batch_id, severity="warning" if warnings else "error")
    )
    data = export.to_xlsx(rows) if chosen == "xlsx" else export.to_csv(rows)
    if output is None:
        if chosen == "xlsx":
            fail("xlsx 须用 --output 指定文件", code="invalid_input", exit_code=2)
        typer.echo(data.decode("utf-8-sig"), nl=False)
        return
    output.write_bytes(data)
    typer.echo(f"已写出 {len(rows)} 行到 {output}", err=True)


@quarantine_app.command("reprocess")
def quarantine_reprocess(
    batch_id: int = typer.Argument(..., help="原批次号"),
    file: Path = typer.Option(None, "--file", "-f", help="修正后的隔离数据文件（export 导出的 CSV/XLSX）"),
    as_json: bool = JsonOption,
) -> None:
    """重新处理隔离数据：给出修正后的文件，或不给文件按当前代码集与映射重新校验原数据。

    成功载入的行在原批次中标为已处理。"""
    if file is not None:
        if not file.is_file():
            fail(f"文件 {file} 不存在", code="invalid_input", exit_code=2)
        _run(
            lambda s, a: service.start_reprocess(s, a, batch_id, origin=f"{file}（重新处理批次 {batch_id}）"),
            as_json,
            path=str(file.resolve()),
        )
        return

    def stored(session: Any, actor: Actor) -> list[object]:
        _b, rows = service.quarantine(session, actor, batch_id, unresolved=True)
        return export.stored_records(rows)

    records = run(stored)
    if not records:
        fail("该批次没有待处理的隔离数据", code="nothing_to_do", exit_code=2)
    _run(lambda s, a: service.start_reprocess(s, a, batch_id), as_json, records=records)


@sources_app.command("add")
def sources_add(
    resource: str = typer.Argument(..., help="资源代码或名称"),
    name: str = typer.Argument(..., help="数据源名称"),
    mapping: Path = typer.Option(..., "--mapping", "-m"),
    cycle: str = typer.Option(None, "--cycle", help="更新周期（默认按目录）：daily weekly monthly …"),
    as_json: bool = JsonOption,
) -> None:
    """登记（或更新）一个数据源：数据库表/查询（连接写作 ${环境变量}）或推送。"""
    text = mapping.read_text(encoding="utf-8")
    out = run(
        lambda s, a: service.register_source(
            s, a, SourceCreate(resource=resource, name=name, mapping=text, update_cycle=cycle)
        )
    )
    emit(as_json, out.model_dump(mode="json"), f"数据源 {out.id} {out.name}（{out.kind}）已登记")


@sources_app.command("list")
def sources_list(as_json: bool = JsonOption) -> None:
    found = run(lambda s, a: service.list_sources(s, a))
    emit(
        as_json,
        [s.model_dump(mode="json") for s in found],
        lambda: (
            "\n".join(
                f"{s.id}\t{s.name}\t{s.kind}\t{s.mode}\t"
                f"上次成功 {s.last_success_at or '—'}\t游标 {s.cursor_value or '—'}"
                for s in found
            )
            or "没有数据源"
        ),
    )


@sources_app.command("run")
def sources_run(
    source_id: int = typer.Argument(...),
    mode: str = typer.Option(None, "--mode"),
    allow_removals: bool = AllowRemovals,
    as_json: bool = JsonOption,
) -> None:
    """立即运行一个数据源。"""
    _run(
        lambda s, a: service.start_source_run(s, a, source_id, mode=mode, allow_removals=allow_removals),
        as_json,
    )


@sources_app.command("run-due")
def sources_run_due(as_json: bool = JsonOption) -> None:
    """运行所有到期（距上次成功超过更新周期）的数据源；适合由 cron 或 systemd 定时器每几分钟调用。"""
    db = database()
    try:
        finished = jobs.run_due(db, Actor.system())
        with db.transaction(readonly=True) as session:
            outs = [service.get_batch(session, Actor.system(), b.id) for b in finished]
    finally:
        db.dispose()
    emit(
        as_json,
        [summary(o) for o in outs],
        lambda: "\n".join(describe(o) for o in outs) or "没有到期的数据源",
    )
    if any(o.status != "succeeded" for o in outs):
        raise typer.Exit(1)


@sources_app.command("scheduler")
def sources_scheduler(
    interval: int = typer.Option(60, "--interval", min=5, max=86_400, help="检查间隔（秒）"),
    once: bool = typer.Option(False, "--once", help="只检查一次（测试用）"),
) -> None:
    """常驻调度：每隔一段时间运行到期的数据源，直到被停止（Ctrl+C 或 systemd stop）。"""
    db = database()
    actor = Actor.system("scheduler")
    try:
        while True:
            for batch in jobs.run_due(db, actor):
                typer.echo(f"批次 {batch.id}：{STATUS.get(batch.status, batch.status)}（读取 {batch.read}）")
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        typer.echo("调度已停止", err=True)
    finally:
        db.dispose()


def records_command(
    resource: str = typer.Argument(..., help="资源代码或名称"),
    where: list[str] = typer.Option(None, "--where", "-w", help="按信息项筛选：字段=值，可重复"),
    as_of: str = typer.Option(None, "--as-of", help="某一时刻的数据（如 2026-11-01T08:00:00，UTC）"),
    limit: int = typer.Option(20, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """查看本部门资源已归集的记录（当前版本，或某一时刻的版本），用于核对归集结果。读取写入审计日志。"""
    conditions: dict[str, str] = {}
    for pair in where or []:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            fail(f"--where 须写作 字段=值：{pair}", code="invalid_input", exit_code=2)
        if field.strip() in conditions:
            fail(
                f"--where 对信息项 {field.strip()} 给了不止一次；每个信息项只能给一个值",
                code="invalid_input",
                exit_code=2,
            )
        conditions[field.strip()] = value
    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of 不是有效的时间：{as_of}", code="invalid_input", exit_code=2)
    rows = run(
        lambda s, a: service.records(s, a, resource, where=conditions or None, as_of=moment, limit=limit)
    )
    emit(
        as_json,
        rows,
        lambda: (
            "\n".join(
                "  ".join(f"{k}={v}" for k, v in row.items() if v is not None and not k.startswith("_sid"))
                for row in rows
            )
            or "没有记录"
        ),
    )
