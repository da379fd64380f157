"""`govshare sharing ...`: applications, approvals, 协商, grants, deadlines and usage from the console."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.cli.context import JsonOption, emit, fail, run
from govshare.core.clock import BEIJING, utcnow
from govshare.core.validation import describe
from govshare.sharing import index_service, negotiation, service, stats_service, views
from govshare.sharing.schemas import ApplyIn, DecisionIn, GrantOut, NegotiateIn, RequestOut, SubscribeIn

sharing_app = typer.Typer(help="共享服务：申请、审批、协商、授权、时限与调用统计", no_args_is_help=True)


def _list(values: str | None) -> list[str] | None:
    return [v.strip() for v in values.split(",") if v.strip()] if values else None


def _scope(values: list[str]) -> dict[str, list[str]] | None:
    """`--scope hjdz_qx=110105,110106` (repeatable) → {"hjdz_qx": ["110105", "110106"]}."""
    if not values:
        return None
    scope: dict[str, list[str]] = {}
    for value in values:
        name, sep, allowed = value.partition("=")
        if not sep or not name.strip() or not allowed.strip():
            fail(f"记录范围“{value}”的格式应为 信息项=取值1,取值2", code="invalid_input", exit_code=2)
        scope[name.strip()] = [v.strip() for v in allowed.split(",") if v.strip()]
    return scope


def _build(model: Any, **data: Any) -> Any:
    try:
        return model(**{k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        fail(describe(exc, limit=1), code="invalid_input", exit_code=2)


def _request_text(out: RequestOut) -> str:
    lines = [
        f"{out.number}  {out.kind_label}  {out.state_label}{'（已超期）' if out.overdue else ''}",
        f"  资源 {out.resource_code}  应用 {out.application}  用途 {out.purpose_kind_label}：{out.purpose}",
        f"  信息项 {'、'.join(out.items) or '—'}  期限 {out.period_start} 至 {out.period_end}",
    ]
    if out.due_at:
        lines.append(f"  办理时限 {out.due_at.astimezone(BEIJING):%Y-%m-%d %H:%M}")
    if out.decision_reason:
        lines.append(f"  答复理由 {out.decision_reason}")
    if out.grant_id:
        lines.append(f"  授权编号 {out.grant_id}")
    return "\n".join(lines)


def _show_request(session: Session, actor: Actor, request: Any) -> RequestOut:
    return views.request_view(session, actor, request)


def _grant_out(session: Session, actor: Actor, grant: Any) -> GrantOut:
    return views.grant_view(session, actor, grant)


def _emit_request(as_json: bool, out: RequestOut) -> None:
    emit(as_json, out.model_dump(mode="json"), _request_text(out))


@sharing_app.command("apply")
def apply(
    application: str = typer.Option(..., "--app", help="申请使用数据的应用代码"),
    resource: str = typer.Option(..., "--resource", help="信息资源代码"),
    purpose_kind: str = typer.Option(
        ...,
        "--purpose-kind",
        help="administrative_basis / work_reference / data_check / business_collaboration / other",
    ),
    purpose: str = typer.Option(..., "--purpose", help="具体用途"),
    basis: str = typer.Option(..., "--basis", help="申请依据"),
    items: str = typer.Option(..., "--items", help="信息项字段名，逗号分隔"),
    clear: str | None = typer.Option(None, "--clear", help="需要明文的信息项，逗号分隔"),
    scope: list[str] = typer.Option([], "--scope", help="记录范围 信息项=取值1,取值2（可重复）"),
    days: int = typer.Option(365, "--days", help="使用期限（天），自今日起"),
    as_json: bool = JsonOption,
) -> None:
    """提出共享申请（有条件共享资源）。"""
    today = utcnow().astimezone(BEIJING).date()
    data = _build(
        ApplyIn,
        application=application,
        resource=resource,
        purpose_kind=purpose_kind,
        purpose=purpose,
        basis=basis,
        items=_list(items),
        clear_items=_list(clear),
        row_scope=_scope(scope),
        period_start=today,
        period_end=today + timedelta(days=days - 1),
    )
    _emit_request(as_json, run(lambda s, a: _show_request(s, a, service.apply(s, a, data))))


@sharing_app.command("negotiate")
def negotiate(
    application: str = typer.Option(..., "--app"),
    resource: str = typer.Option(..., "--resource"),
    reason: str = typer.Option(..., "--reason", help="协商事由"),
    as_json: bool = JsonOption,
) -> None:
    """就不予共享的资源发起协商。"""
    data = _build(NegotiateIn, application=application, resource=resource, reason=reason)
    _emit_request(as_json, run(lambda s, a: _show_request(s, a, negotiation.negotiate(s, a, data))))


@sharing_app.command("requests")
def list_requests(
    state: str | None = typer.Option(None, "--state", help="按状态筛选，如 pending"),
    as_json: bool = JsonOption,
) -> None:
    """共享申请列表（新的在前）。"""

    def action(session: Session, actor: Actor) -> list[RequestOut]:
        return views.request_views(session, actor, service.list_requests(session, actor, state=state))

    outs = run(action)
    emit(
        as_json,
        [o.model_dump(mode="json") for o in outs],
        "\n".join(_request_text(o) for o in outs) or "没有申请",
    )


@sharing_app.command("show")
def show(number: str, as_json: bool = JsonOption) -> None:
    """共享申请详情。"""
    _emit_request(as_json, run(lambda s, a: _show_request(s, a, service.get_request(s, a, number))))


@sharing_app.command("prereview")
def prereview(
    number: str,
    passed: bool = typer.Option(..., "--pass/--reject", help="审查通过或不通过"),
    comment: str = typer.Option("", "--comment"),
    as_json: bool = JsonOption,
) -> None:
    """主管部门符合性审查。"""
    _emit_request(
        as_json,
        run(
            lambda s, a: _show_request(s, a, service.prereview(s, a, number, passed=passed, comment=comment))
        ),
    )


@sharing_app.command("approve")
def approve(
    number: str,
    items: str | None = typer.Option(None, "--items", help="同意的信息项（默认申请的全部）"),
    clear: str | None = typer.Option(None, "--clear", help="同意明文的信息项"),
    scope: list[str] = typer.Option([], "--scope", help="同意的记录范围（只能更窄）"),
    valid_to: str | None = typer.Option(None, "--until", help="授权截止日期 YYYY-MM-DD"),
    reason: str = typer.Option("", "--reason", help="部分同意时必须说明理由"),
    as_json: bool = JsonOption,
) -> None:
    """提供部门同意（可部分同意）。"""
    data = _build(
        DecisionIn,
        decision="approve",
        items=_list(items),
        clear_items=_list(clear),
        row_scope=_scope(scope),
        valid_to=date.fromisoformat(valid_to) if valid_to else None,
        reason=reason,
    )
    _emit_request(as_json, run(lambda s, a: _show_request(s, a, service.decide(s, a, number, data))))


@sharing_app.command("refuse")
def refuse(number: str, reason: str = typer.Option(..., "--reason"), as_json: bool = JsonOption) -> None:
    """提供部门不同意（必须说明理由）。"""
    data = _build(DecisionIn, decision="refuse", reason=reason)
    _emit_request(as_json, run(lambda s, a: _show_request(s, a, service.decide(s, a, number, data))))


@sharing_app.command("withdraw")
def withdraw(number: str, as_json: bool = JsonOption) -> None:
    """撤回申请。"""
    _emit_request(as_json, run(lambda s, a: _show_request(s, a, service.withdraw(s, a, number))))


@sharing_app.command("subscribe")
def subscribe(
    application: str = typer.Option(..., "--app"),
    resource: str = typer.Option(..., "--resource"),
    purpose_kind: str = typer.Option("work_reference", "--purpose-kind"),
    purpose: str = typer.Option(..., "--purpose"),
    items: str | None = typer.Option(None, "--items", help="无条件信息项（默认全部）"),
    as_json: bool = JsonOption,
) -> None:
    """订阅无条件共享信息项，即时授权。"""
    data = _build(
        SubscribeIn,
        application=application,
        resource=resource,
        purpose_kind=purpose_kind,
        purpose=purpose,
        items=_list(items),
    )
    out = run(lambda s, a: _grant_out(s, a, service.subscribe(s, a, data)))
    emit(as_json, out.model_dump(mode="json"), f"已授权 {out.id}：{out.application} → {out.resource_code}")


@sharing_app.command("grants")
def grants(
    application: str | None = typer.Option(None, "--app"),
    resource: str | None = typer.Option(None, "--resource"),
    as_json: bool = JsonOption,
) -> None:
    """授权列表。"""
    outs = run(
        lambda s, a: views.grant_views(
            s, a, service.list_grants(s, a, application=application, resource=resource)
        )
    )
    emit(
        as_json,
        [o.model_dump(mode="json") for o in outs],
        "\n".join(
            f"{o.id}  {o.state_label}  {o.application} → {o.resource_code}  {'、'.join(o.items)}  "
            f"至 {o.valid_to.astimezone(BEIJING):%Y-%m-%d}"
            for o in outs
        )
        or "没有授权",
    )


@sharing_app.command("revoke")
def revoke(grant_id: int, reason: str = typer.Option(..., "--reason"), as_json: bool = JsonOption) -> None:
    """撤销授权（下一次调用即生效）。"""
    out = run(lambda s, a: _grant_out(s, a, service.revoke_grant(s, a, grant_id, reason)))
    emit(as_json, out.model_dump(mode="json"), f"已撤销授权 {out.id}")


@sharing_app.command("deadlines")
def deadlines(as_json: bool = JsonOption) -> None:
    """检查审批时限：到期前提醒、超期上报主管部门（由 cron 每日运行）。"""
    reminded, escalated = run(lambda s, a: service.check_deadlines(s, a))
    emit(
        as_json,
        {"reminded": reminded, "escalated": escalated},
        f"提醒 {len(reminded)} 件：{'、'.join(reminded) or '无'}\n"
        f"超期上报 {len(escalated)} 件：{'、'.join(escalated) or '无'}",
    )


@sharing_app.command("usage")
def usage(
    group: str = typer.Option("resource", "--group", help="resource / provider / consumer / application"),
    days: int = typer.Option(30, "--days"),
    as_json: bool = JsonOption,
) -> None:
    """调用统计（次数、记录数、拒绝数）。"""
    until = utcnow().astimezone(BEIJING).date()
    rows = run(
        lambda s, a: stats_service.usage(
            s, a, since=until - timedelta(days=days - 1), until=until, group=group
        )
    )
    emit(
        as_json,
        [r.model_dump() for r in rows],
        "\n".join(f"{r.key}  {r.name}  调用 {r.calls}  记录 {r.rows}  拒绝 {r.refusals}" for r in rows)
        or "没有调用",
    )


@sharing_app.command("trace")
def trace(number: str, as_json: bool = JsonOption) -> None:
    """谁查看了我：某公民身份号码或统一社会信用代码的数据被谁调用。"""
    found = run(lambda s, a: stats_service.who_looked(s, a, number))
    emit(
        as_json,
        found,
        lambda: (
            "\n".join(
                f"{a['at']}  {a['department']}/{a['application']}  {a['action']}  {a['resource_name']}  "
                f"用途 {a['purpose']}  经办人 {a['operator']}"
                for a in found["accesses"]
            )
            or "没有调用记录"
        ),
    )


@sharing_app.command("verify-index")
def verify_index(as_json: bool = JsonOption) -> None:
    """核对“谁查看了我”索引与审计日志：缺失或多余的索引行（不一致时退出码为 1）。"""
    report = run(lambda s, a: index_service.verify_access_index(s, a))
    emit(
        as_json,
        report.as_dict(),
        lambda: "\n".join(
            [report.message]
            + [f"  缺失：第 {r.seq} 条审计记录  {r.digest[:16]}…" for r in report.missing]
            + [f"  多余：第 {r.seq} 条审计记录  {r.digest[:16]}…" for r in report.extra]
            + [f"  另有 {n} 条索引属于早期审计记录，无法核对" for n in [report.unverifiable] if n]
        ),
    )
    if not report.ok:
        raise typer.Exit(1)
