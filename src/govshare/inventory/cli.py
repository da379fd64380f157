"""`govshare inventory ...`: file information systems, list them, and report the statistics."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from govshare.cli.context import JsonOption, emit, fail, run
from govshare.core.validation import describe
from govshare.inventory import service
from govshare.inventory.schemas import Bucket, Figures, InventoryStats, SystemCreate, SystemOut

inventory_app = typer.Typer(help="政务信息系统清单", no_args_is_help=True)


@inventory_app.command("add")
def add(
    code: str = typer.Argument(..., help="系统代码，如 ga-rkgl"),
    name: str = typer.Argument(..., help="系统名称"),
    department: str = typer.Option(..., "--dept", help="所属部门代码"),
    usage_range: str = typer.Option(..., "--range", help="使用范围：单机 / 处室内部 / 部门内部 / 跨部门"),
    frequency: str = typer.Option(..., "--frequency", help="使用频度：每日 / 每周 / 每月 / 偶尔"),
    funding: str = typer.Option(..., "--funding", help="经费来源：财政资金 / 自筹资金 / 其他"),
    year: int | None = typer.Option(None, "--year", help="建设年份"),
    connected: bool = typer.Option(False, "--connected", help="已接入共享交换平台"),
    function: str = typer.Option("", "--function", help="主要功能"),
    approved_by: str = typer.Option("", "--approved-by", help="审批部门"),
    as_json: bool = JsonOption,
) -> None:
    """登记一个信息系统。"""
    raw = {
        "code": code,
        "name": name,
        "department_code": department,
        "usage_range": usage_range,
        "usage_frequency": frequency,
        "funding": funding,
        "build_year": year,
        "connected": connected,
        "function": function,
        "approved_by": approved_by,
    }
    try:
        data = SystemCreate.model_validate(raw)
    except ValidationError as exc:
        fail(describe(exc, default_field="body"), code="invalid_input", exit_code=2)
    out = run(lambda session, actor: service.create_system(session, actor, data))
    emit(
        as_json,
        out.model_dump(mode="json"),
        f"已登记信息系统 {out.code} {out.name}（{out.department_name}，{out.usage_range_label}，"
        f"{out.usage_frequency_label}使用，{out.funding_label}，{'已' if out.connected else '未'}接入平台）",
    )


def _line(system: SystemOut) -> str:
    return "\t".join(
        [
            system.code,
            system.department_code,
            system.usage_range_label,
            system.usage_frequency_label,
            "已接入" if system.connected else "未接入",
            system.sharing_label,
            system.name,
        ]
    )


@inventory_app.command("list")
def list_command(
    department: str | None = typer.Option(None, "--dept", help="只列出该部门的系统"),
    as_json: bool = JsonOption,
) -> None:
    """列出信息系统。"""
    rows = run(lambda session, actor: service.list_systems(session, actor, department_code=department))
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join([_line(r) for r in rows] + [f"共 {len(rows)} 个信息系统"]),
    )


@inventory_app.command("show")
def show(code: str = typer.Argument(..., help="系统代码"), as_json: bool = JsonOption) -> None:
    """显示一个信息系统及其产生的目录资源数。"""
    out = run(lambda session, actor: service.get_system(session, actor, code))
    p = out.produced
    emit(
        as_json,
        out.model_dump(mode="json"),
        lambda: "\n".join(
            [
                f"{out.code} {out.name}",
                f"所属部门：{out.department_name}（{out.department_code}）",
                f"主要功能：{out.function or '未填写'}",
                f"使用范围：{out.usage_range_label}；使用频度：{out.usage_frequency_label}",
                f"建设年份：{out.build_year or '未填写'}；审批部门：{out.approved_by or '未填写'}；"
                f"经费来源：{out.funding_label}",
                f"接入共享交换平台：{'是' if out.connected else '否'}",
                f"已发布目录资源：无条件 {p.unconditional}，有条件 {p.conditional}，不予 {p.not_shared}"
                f"（{out.sharing_label}）",
            ]
        ),
    )


def _buckets(buckets: list[Bucket]) -> str:
    return "，".join(f"{b.label} {b.count}（{b.percent}%）" for b in buckets)


def _summary(f: Figures) -> list[str]:
    lines = [
        f"信息系统 {f.systems} 个：已接入平台 {f.connected}，未接入 {f.not_connected}",
        f"使用范围：{_buckets(f.by_usage_range)}",
        f"使用频度：{_buckets(f.by_frequency)}",
        f"经费来源：{_buckets(f.by_funding)}",
        f"产生已发布目录资源的系统 {f.producing} 个，其中实现共享（无条件或有条件）{f.sharing} 个"
        f"（占全部系统 {f.sharing_percent}%），仅产生不予共享资源 {f.only_not_shared} 个；"
        f"目录中无资源 {f.producing_nothing} 个",
        "按产生资源的共享类型：" + "，".join(f"{b.label} {b.count}" for b in f.by_share_type),
        "按使用范围的共享情况："
        + "；".join(
            f"{r.label} {r.systems}（共享 {r.sharing}，仅不予 {r.not_shared}，无资源 {r.no_resources}）"
            for r in f.sharing_by_usage_range
        ),
        "建设年份：" + "，".join(f"{b.label} {b.count}" for b in f.by_build_year if b.count),
    ]
    return lines


@inventory_app.command("stats")
def stats(as_json: bool = JsonOption) -> None:
    """信息系统统计：数量、使用范围、使用频度、经费来源、接入与共享情况、建设年份。"""
    result: InventoryStats = run(lambda session, actor: service.inventory_stats(session, actor))

    def human() -> str:
        lines = ["【全节点】", *_summary(result.node), "【各部门】"]
        lines += [
            f"{d.code}\t{d.name}\t系统 {d.systems}\t已接入 {d.connected}\t共享 {d.sharing}\t"
            f"仅不予 {d.only_not_shared}\t无资源 {d.producing_nothing}"
            for d in result.departments
        ]
        lines.append("未登记信息系统的部门：" + ("、".join(result.zero_departments) or "无"))
        if result.unregistered_system_codes:
            lines.append("目录资源引用但清单未登记的系统：" + "、".join(result.unregistered_system_codes))
        return "\n".join(lines)

    emit(as_json, result.model_dump(mode="json"), human)
