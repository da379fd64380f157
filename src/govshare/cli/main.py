"""`govshare`: the node's command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
import uvicorn

from govshare import __version__
from govshare.applications.cli import app_app
from govshare.audit.cli import audit_app
from govshare.auth.actor import Actor
from govshare.auth.permissions import Role
from govshare.backup.cli import backup_app
from govshare.catalog import dcat_cli, excel_cli  # noqa: F401 - they register their commands
from govshare.catalog.cli import catalog_app
from govshare.cli.context import JsonOption, database, emit, fail, run, settings
from govshare.collection import cli as collection_cli
from govshare.collection.connections_cli import connection_app
from govshare.core import migrations
from govshare.demo import jobs as demo_jobs
from govshare.demo import service as demo
from govshare.demo import sharing as demo_sharing
from govshare.errors import GovshareError
from govshare.identity import readers as identity_readers
from govshare.identity import service as identity
from govshare.identity.cli import dept_app, generated_password, user_app
from govshare.identity.schemas import DepartmentCreate, UserCreate
from govshare.inventory.cli import inventory_app
from govshare.jobs import cli as jobs_cli
from govshare.sharing.cli import sharing_app
from govshare.standards.cli import standards_app

app = typer.Typer(help="govshare 政务信息资源共享交换平台节点", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库结构（迁移）", no_args_is_help=True)
app.add_typer(dept_app, name="dept")
app.add_typer(user_app, name="user")
app.add_typer(app_app, name="app")
app.add_typer(audit_app, name="audit")
app.add_typer(catalog_app, name="catalog")
app.add_typer(inventory_app, name="inventory")
app.add_typer(standards_app, name="standards")
app.add_typer(sharing_app, name="sharing")
app.command("ingest")(collection_cli.ingest)
app.command("records")(collection_cli.records_command)
app.add_typer(collection_cli.batches_app, name="batches")
app.add_typer(collection_cli.quarantine_app, name="quarantine")
app.add_typer(collection_cli.sources_app, name="sources")
app.add_typer(connection_app, name="connection")
app.add_typer(backup_app, name="backup")
app.add_typer(jobs_cli.jobs_app, name="jobs")
app.command("worker")(jobs_cli.worker)
app.add_typer(db_app, name="db")


@app.command()
def version() -> None:
    """显示版本。"""
    typer.echo(__version__)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库升级到最新结构。"""
    db = database()
    migrations.upgrade(db.engine)
    typer.echo(f"数据库已升级到 {migrations.current_revision(db.engine)}（{db.backend}）")


@db_app.command("check")
def db_check() -> None:
    """检查迁移脚本与模型是否一致（在一个已升级的数据库上比较）。"""
    db = database()
    migrations.upgrade(db.engine)
    diff = migrations.pending_model_changes(db.engine)
    if diff:
        fail(
            "模型与迁移不一致，请生成新的迁移：\n" + "\n".join(map(str, diff)), code="migrations_out_of_date"
        )
    typer.echo("模型与迁移一致")


@app.command()
def init(
    admin: str = typer.Option("admin", "--admin", help="第一位平台管理员的用户名"),
    admin_name: str = typer.Option("平台管理员", "--admin-name"),
    department_code: str = typer.Option("DSJ", "--dept-code", help="运营部门代码（大数据局）"),
    department_name: str = typer.Option("示例市政务服务和数据管理局", "--dept-name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取管理员口令"),
    as_json: bool = JsonOption,
) -> None:
    """创建或升级数据库；若还没有平台管理员，则创建运营部门和第一位平台管理员。

    管理员口令取自 --password-stdin、环境变量 GOVSHARE_ADMIN_PASSWORD 或终端输入；
    都没有时生成一个并只显示一次。
    """
    db = database()
    migrations.upgrade(db.engine)
    db.dispose()
    current = settings()

    def action(session, actor):  # type: ignore[no-untyped-def]
        if identity_readers.holders_of_role(session, Role.PLATFORM_ADMIN.value):
            return None
        password, generated = _admin_password(password_stdin)
        if identity_readers.department_by_code(session, department_code) is None:
            identity.create_department(
                session,
                actor,
                DepartmentCreate(
                    code=department_code,
                    name=department_name,
                    division_code=current.node_division_code,
                    level="city",
                ),
            )
        identity.create_user(
            session,
            actor,
            UserCreate(
                username=admin,
                display_name=admin_name,
                department_code=department_code,
                password=password,
                roles=[Role.PLATFORM_ADMIN],
            ),
            must_change=generated,  # a password shown on the console is changed at the first login
        )
        return password if generated else ""

    password = run(action)
    created = password is not None
    emit(
        as_json,
        {
            "database": current.resolved_database_url.split("@")[-1],
            "admin_created": created,
            "admin": admin if created else None,
            **({"password": password} if password else {}),
        },
        "数据库已就绪。"
        + (f"已创建平台管理员 {admin}。" if created else "已有平台管理员，未新建。")
        + (f"\n初始口令（只显示这一次）：{password}" if password else ""),
    )


def _admin_password(password_stdin: bool) -> tuple[str, bool]:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if os.environ.get("GOVSHARE_ADMIN_PASSWORD"):
        return os.environ["GOVSHARE_ADMIN_PASSWORD"], False
    if sys.stdin.isatty():
        return typer.prompt("平台管理员口令", hide_input=True, confirmation_prompt=True), False
    return generated_password(), True


@app.command()
def serve(
    host: str | None = typer.Option(None, "--host"),
    port: int | None = typer.Option(None, "--port"),
    workers: int | None = typer.Option(None, "--workers"),
    with_worker: bool = typer.Option(
        False, "--with-worker", help="同时启动 govshare worker（后台任务），随服务停止"
    ),
) -> None:
    """启动节点（门户与接口）。后台任务由 govshare worker 运行：另行启动，或加 --with-worker。"""
    current = settings()
    worker = jobs_cli.start_worker_process() if with_worker else None
    try:
        uvicorn.run(
            "govshare.web.app:create_app",
            factory=True,
            host=host or current.host,
            port=port or current.port,
            workers=workers or current.workers,
            log_level="warning",
            access_log=False,
            proxy_headers=bool(current.trusted_proxies),
            forwarded_allow_ips=current.trusted_proxies or None,
        )
    finally:
        if worker is not None:
            jobs_cli.stop_worker_process(worker)


@app.command("demo")
def demo_command(as_json: bool = JsonOption) -> None:
    """初始化示例市：约 20 个部门、各角色用户、应用、归集数据和各状态的共享申请。可重复执行，不会重复创建。"""
    current = settings()
    if current.env == "production":
        fail("生产环境不能加载示例数据", code="demo_in_production")
    db = database()
    migrations.upgrade(db.engine)
    db.dispose()
    result = run(demo.seed)
    db = database()
    try:
        batches = demo_jobs.load_sources(db, Actor.system(), current.data_dir / "demo-sources")
        try:
            sharing = demo_sharing.seed_sharing(db, Actor.system())
        except GovshareError as exc:
            fail(exc.message, code=exc.code)
    finally:
        db.dispose()
    credentials = current.data_dir / "demo-credentials.txt"
    if result.keys:
        _write_credentials(credentials, result.keys)
    emit(
        as_json,
        {
            "departments_created": result.departments_created,
            "users_created": result.users_created,
            "applications_created": result.applications_created,
            "resources_created": result.resources_created,
            "resources_published": result.resources_published,
            "systems_created": result.systems_created,
            "credentials_file": str(credentials),
            "batches": [
                {"batch_id": b.id, "resource": b.resource_name, "read": b.read, "rejected": b.rejected}
                for b in batches
            ],
            "sharing": {
                "requests_created": sharing.requests,
                "subscriptions_created": sharing.subscriptions,
                "backdated": sharing.backdated,
                "skipped": sharing.skipped,
            },
        },
        lambda: (
            f"示例市已就绪：新建部门 {result.departments_created} 个、用户 {result.users_created} 个、"
            f"应用 {result.applications_created} 个、信息资源 {result.resources_created} 个"
            f"（发布 {result.resources_published} 个）、信息系统 {result.systems_created} 个。"
            + "".join(
                f"\n归集 {b.resource_name}：读取 {b.read} 行，载入 {b.inserted + b.updated}，"
                f"隔离 {b.rejected}（govshare quarantine export {b.id}）"
                for b in batches
            )
            + f"\n{sharing.summary()}"
            + "".join(f"\n（{note}）" for note in sharing.skipped)
            + f"\n示例账号口令：{demo.DEMO_PASSWORD}"
            f"（如 admin、security、auditor、ga.steward）\n应用密钥见 {credentials}"
        ),
    )


def _write_credentials(path: Path, keys: dict[str, str]) -> None:
    """Created 0600 from the first byte (a write then chmod would leave the keys world-readable meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(keys, ensure_ascii=False, indent=2) + "\n")
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT


def main() -> None:
    app()
