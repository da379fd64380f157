"""`govshare app ...`: register applications, issue and revoke their keys."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from govshare.applications import service
from govshare.applications.schemas import ApplicationCreate, ApplicationOut, KeyOut
from govshare.auth.permissions import Permission
from govshare.cli.context import JsonOption, emit, fail, run
from govshare.core.validation import describe

app_app = typer.Typer(help="应用系统与接口密钥", no_args_is_help=True)


def _scopes(values: list[str]) -> list[Permission] | None:
    if not values:
        return None
    try:
        return [Permission(v) for v in values]
    except ValueError as exc:
        fail(f"未知权限：{exc}", code="invalid_input", exit_code=2)


@app_app.command("add")
def app_add(
    code: str = typer.Argument(..., help="应用代码，如 ga-rkgl"),
    name: str = typer.Argument(..., help="应用名称"),
    department: str = typer.Option(..., "--dept", help="所属部门代码"),
    description: str = typer.Option("", "--description"),
    scopes: list[str] = typer.Option([], "--scope", help="密钥权限，可重复；默认应用可持有的全部权限"),
    days: int | None = typer.Option(None, "--days", help="密钥有效天数"),
    as_json: bool = JsonOption,
) -> None:
    """登记应用并签发第一把密钥。完整密钥只显示这一次。"""
    try:
        data = ApplicationCreate(code=code, name=name, department_code=department, description=description)
    except ValidationError as exc:
        fail(describe(exc, limit=1), code="invalid_input", exit_code=2)
    chosen = _scopes(scopes)

    def action(session, actor):  # type: ignore[no-untyped-def]
        application = service.create_application(session, actor, data)
        issued = service.issue_key(session, actor, application.code, scopes=chosen, days=days)
        return ApplicationOut.of(application), KeyOut.of(issued.key), issued.secret

    out, key, secret = run(action)
    emit(
        as_json,
        {"application": out.model_dump(mode="json"), "key": key.model_dump(mode="json"), "secret": secret},
        f"已登记应用 {out.code}（{out.department_name}）\n接口密钥（只显示这一次，请妥善保存）：\n{secret}\n"
        f"有效期至 {key.expires_at:%Y-%m-%d}",
    )


@app_app.command("key")
def app_key(
    code: str,
    scopes: list[str] = typer.Option([], "--scope"),
    days: int | None = typer.Option(None, "--days"),
    as_json: bool = JsonOption,
) -> None:
    """为应用再签发一把密钥（用于轮换）。"""
    chosen = _scopes(scopes)

    def action(session, actor):  # type: ignore[no-untyped-def]
        issued = service.issue_key(session, actor, code, scopes=chosen, days=days)
        return KeyOut.of(issued.key), issued.secret

    key, secret = run(action)
    emit(
        as_json,
        {"key": key.model_dump(mode="json"), "secret": secret},
        f"接口密钥（只显示这一次）：\n{secret}\n有效期至 {key.expires_at:%Y-%m-%d}",
    )


@app_app.command("revoke")
def app_revoke(
    code: str = typer.Argument(..., help="应用代码"),
    prefix: str = typer.Argument(..., help="密钥前缀（密钥中间的 10 位）"),
    reason: str = typer.Option("", "--reason", help="吊销理由，记入审计日志"),
    as_json: bool = JsonOption,
) -> None:
    """吊销密钥，下一次请求即失效。"""
    key = run(
        lambda session, actor: KeyOut.of(
            service.revoke_key(session, actor, code, prefix, reason=reason.strip())
        )
    )
    emit(as_json, key.model_dump(mode="json"), f"已吊销密钥 {key.prefix}")


@app_app.command("list")
def app_list(as_json: bool = JsonOption) -> None:
    """列出应用。"""
    rows = run(
        lambda session, actor: [ApplicationOut.of(a) for a in service.list_applications(session, actor)]
    )
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(f"{r.code}\t{r.name}\t{r.department_code}" for r in rows),
    )
