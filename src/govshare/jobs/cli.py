"""`govshare worker` (run the job queue) and `govshare jobs list|show|retry|cancel`."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from types import FrameType

import typer

from govshare.cli.context import JsonOption, database, emit, run, settings
from govshare.core.clock import utcnow
from govshare.jobs import service
from govshare.jobs.schemas import STATE_LABELS, JobOut
from govshare.jobs.worker import Worker

jobs_app = typer.Typer(help="后台任务（由 govshare worker 运行）", no_args_is_help=True)


def worker(
    once: bool = typer.Option(False, "--once", help="运行完当前到期的任务后退出（供 cron 或测试）"),
    poll_seconds: float = typer.Option(
        2.0, "--poll-seconds", min=0.05, max=300, help="无任务时的检查间隔（秒）"
    ),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="不安排定期任务，只运行已排队的任务"),
    heartbeat_seconds: float = typer.Option(
        15.0, "--heartbeat-seconds", min=0.05, max=600, help="心跳间隔（秒）"
    ),
    stale_seconds: float = typer.Option(
        300.0, "--stale-seconds", min=0.5, max=86_400, help="运行中的任务多久没有心跳即视为其进程已停止（秒）"
    ),
) -> None:
    """运行后台任务：归集批次、到期数据源、审计检查点与校验、会话清理。

    SIGTERM 或 Ctrl+C：做完当前任务后退出；再按一次：把当前任务放回队列后立即退出。"""
    current = settings()
    db = database()
    runner = Worker(
        db,
        poll_seconds=poll_seconds,
        heartbeat_seconds=heartbeat_seconds,
        stale_seconds=stale_seconds,
        checkpoint_minutes=current.audit_checkpoint_minutes,
        scheduler=not no_scheduler,
    )
    _stop_on_signals(runner.stop)
    try:
        done = runner.run(once=once)
    except KeyboardInterrupt:
        typer.echo("worker 已停止（当前任务已放回队列）", err=True)
        raise typer.Exit(130) from None
    finally:
        db.dispose()
    typer.echo(f"worker 已停止，共运行 {done} 个任务", err=True)


def _stop_on_signals(stop: threading.Event) -> None:
    """The first SIGTERM/SIGINT asks the loop to stop after the current job; a second interrupts it (the
    worker then gives the job back to the queue)."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        typer.echo("收到停止信号：做完当前任务后退出（再次发送则放回队列并立即退出）", err=True)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _line(job: JobOut) -> str:
    cells = [str(job.id), job.kind, job.state_label, f"{job.attempts}/{job.max_attempts}", job.target or "-"]
    return "\t".join([*cells, job.last_error or ""]).rstrip()


def _describe(job: JobOut) -> str:
    lines = [
        f"任务 {job.id}：{job.label}（{job.kind}）",
        f"  状态：{job.state_label}，已尝试 {job.attempts}/{job.max_attempts} 次",
        f"  计划运行：{job.run_after.isoformat(timespec='seconds')}",
        f"  创建：{job.created_at.isoformat(timespec='seconds')}，{job.created_by}",
    ]
    if job.target:
        lines.append(f"  对象：{job.target}")
    if job.locked_by:
        beat = job.heartbeat_at.isoformat(timespec="seconds") if job.heartbeat_at else "-"
        lines.append(f"  运行于：{job.locked_by}（心跳 {beat}）")
    if job.last_error:
        lines.append(f"  最近的错误：{job.last_error}（{job.error_code}）")
    if job.result:
        lines.append(f"  结果：{job.result}")
    return "\n".join(lines)


@jobs_app.command("list")
def list_command(
    state: str = typer.Option(None, "--state", help=f"按状态筛选：{'、'.join(STATE_LABELS)}"),
    kind: str = typer.Option(None, "--kind", help="按类型筛选，如 collection.batch"),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """列出后台任务（新的在前）。"""
    jobs = run(lambda s, a: service.list_jobs(s, a, state=state, kind=kind, limit=limit))
    emit(
        as_json, [j.model_dump(mode="json") for j in jobs], lambda: "\n".join(map(_line, jobs)) or "没有任务"
    )


@jobs_app.command("show")
def show_command(job_id: int = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """显示一个任务的状态、尝试次数与最近的错误。"""
    job = run(lambda s, a: service.get_job(s, a, job_id))
    emit(as_json, job.model_dump(mode="json"), lambda: _describe(job))


@jobs_app.command("retry")
def retry_command(job_id: int = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """重试已放弃、已取消或等待重试的任务（立即排队）。"""
    job = run(lambda s, a: service.retry_job(s, a, job_id))
    emit(as_json, job.model_dump(mode="json"), f"任务 {job.id} 已重新排队（{utcnow():%H:%M:%S} UTC）")


@jobs_app.command("cancel")
def cancel_command(job_id: int = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """取消排队中或等待重试的任务。"""
    job = run(lambda s, a: service.cancel_job(s, a, job_id))
    emit(as_json, job.model_dump(mode="json"), f"任务 {job.id} 已取消")


def start_worker_process() -> subprocess.Popen[bytes]:
    """`govshare serve --with-worker`: a `govshare worker` beside the server, with the same environment.

    uvicorn re-raises the SIGTERM it handled once it has shut down; with the default handler that would end
    this process before `serve` could stop its worker, so SIGTERM here becomes a normal exit."""
    signal.signal(signal.SIGTERM, _exit_normally)
    return subprocess.Popen([sys.executable, "-m", "govshare", "worker"])


def _exit_normally(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_worker_process(process: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop after its current job; after a minute, give that job back and stop it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the second signal: the job goes back to the queue
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
