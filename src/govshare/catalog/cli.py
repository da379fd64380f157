"""`govshare catalog ...`: catalog as code, review, search and statistics from the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError

from govshare.catalog import search_service, service, stats_service
from govshare.catalog.schemas import CatalogFile, ResourceDefinition
from govshare.catalog.search_service import SearchQuery
from govshare.cli.context import JsonOption, emit, fail, run
from govshare.core.validation import field_errors

catalog_app = typer.Typer(help="目录系统：目录即代码、审核、检索、统计", no_args_is_help=True)


def read_definitions(paths: list[Path]) -> list[ResourceDefinition]:
    """Definitions from YAML or JSON files; errors name the file and the field."""
    definitions: list[ResourceDefinition] = []
    for path in paths:
        try:
            raw = path.read_text(encoding="utf-8")
            data: Any = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
            fail(f"{path}：无法读取（{exc}）", code="invalid_file", exit_code=2)
        try:
            definitions.extend(CatalogFile.model_validate(data).resources)
        except ValidationError as exc:
            lines = [f"{path}：{e.field}：{e.message}" for e in field_errors(exc, limit=20)]
            fail("\n".join(lines), code="invalid_input", exit_code=2)
    return definitions


@catalog_app.command("apply")
def apply(
    files: list[Path] = typer.Argument(..., help="目录定义文件（YAML 或 JSON），见 docs/catalog-as-code.md"),
    publish: bool = typer.Option(False, "--publish", help="直接发布（控制台操作员具有审核权限）"),
    as_json: bool = JsonOption,
) -> None:
    """按目录定义文件创建或更新信息资源。幂等：同一文件再次执行不做任何修改。全部通过才写入。"""
    definitions = read_definitions(files)
    report = run(
        lambda session, actor: service.apply_definitions(session, actor, definitions, publish=publish)
    )
    emit(
        as_json,
        report.model_dump(mode="json"),
        f"新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}，发布 {report.published}",
    )


@catalog_app.command("export")
def export(
    out: Path | None = typer.Option(None, "--out", help="写入文件；不给则输出到屏幕"),
    department: str | None = typer.Option(None, "--dept"),
    fmt: str = typer.Option("yaml", "--format", help="yaml 或 json"),
    include_unpublished: bool = typer.Option(False, "--include-unpublished"),
) -> None:
    """导出目录定义（与 apply 的格式相同）。"""
    resources = run(
        lambda session, actor: service.export_definitions(
            session, actor, department_code=department, include_unpublished=include_unpublished
        )
    )
    data = {"resources": resources}
    text = (
        json.dumps(data, ensure_ascii=False, indent=2)
        if fmt == "json"
        else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    )
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"已导出 {len(resources)} 个信息资源到 {out}")
    else:
        typer.echo(text)


@catalog_app.command("list")
def list_command(
    department: str | None = typer.Option(None, "--dept"),
    state: str | None = typer.Option(None),
    as_json: bool = JsonOption,
) -> None:
    """列出信息资源（含未发布的）。"""
    rows = run(
        lambda session, actor: service.list_resources(session, actor, department_code=department, state=state)
    )
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(
            f"{r.id}\t{r.code or '-'}\t{r.provider_code}\t{r.status_label}\t{r.name}" for r in rows
        ),
    )


@catalog_app.command("show")
def show(code: str = typer.Argument(..., help="信息资源代码"), as_json: bool = JsonOption) -> None:
    """显示一个信息资源。"""
    out = run(lambda session, actor: service.get_by_code(session, actor, code))
    emit(
        as_json,
        out.model_dump(mode="json"),
        lambda: yaml.safe_dump(
            out.current.definition if out.current else {}, allow_unicode=True, sort_keys=False
        ),
    )


@catalog_app.command("submit")
def submit(resource_id: int, as_json: bool = JsonOption) -> None:
    """提交审核。"""
    out = run(lambda session, actor: service.submit(session, actor, resource_id))
    emit(as_json, out.model_dump(mode="json"), f"已提交审核：{out.name}")


@catalog_app.command("approve")
def approve(
    resource_id: int, comment: str = typer.Option("", "--comment"), as_json: bool = JsonOption
) -> None:
    """审核通过并发布。"""
    out = run(lambda session, actor: service.approve(session, actor, resource_id, comment))
    emit(as_json, out.model_dump(mode="json"), f"已发布：{out.code} {out.name}")


@catalog_app.command("return")
def return_command(
    resource_id: int,
    comment: str = typer.Option(..., "--comment", help="审核意见"),
    as_json: bool = JsonOption,
) -> None:
    """退回修改。"""
    out = run(lambda session, actor: service.return_for_changes(session, actor, resource_id, comment))
    emit(as_json, out.model_dump(mode="json"), f"已退回：{out.name}")


@catalog_app.command("withdraw")
def withdraw(
    resource_id: int, reason: str = typer.Option(..., "--reason"), as_json: bool = JsonOption
) -> None:
    """下架信息资源（保留记录）。"""
    out = run(lambda session, actor: service.withdraw(session, actor, resource_id, reason))
    emit(as_json, out.model_dump(mode="json"), f"已下架：{out.code} {out.name}")


@catalog_app.command("search")
def search(
    q: str = typer.Argument(""),
    share_type: str | None = typer.Option(None, "--share"),
    page: int = typer.Option(1, "--page"),
    as_json: bool = JsonOption,
) -> None:
    """检索已发布的信息资源。"""
    result = run(
        lambda session, actor: search_service.search(
            session, actor, SearchQuery(q=q, share_type=share_type, page=page)
        )
    )
    emit(
        as_json,
        result.model_dump(mode="json"),
        lambda: "\n".join(
            [f"共 {result.total} 条（{result.took_ms} ms）"]
            + [f"{h.code}\t{h.provider_code}\t{h.share_type_label}\t{h.name}" for h in result.hits]
        ),
    )


@catalog_app.command("stats")
def stats(as_json: bool = JsonOption) -> None:
    """目录统计：梳理、发布、无条件/有条件/不予，零上报部门。"""
    result = run(lambda session, actor: stats_service.catalog_stats(session, actor))
    n = result.node

    def human() -> str:
        lines = [
            f"梳理 {n.compiled}，发布 {n.published}（无条件 {n.unconditional}，有条件 {n.conditional}，"
            f"不予 {n.not_shared}），向社会开放 {n.open}，信息项 {n.items}"
        ]
        lines += [f"{d.code}\t{d.name}\t梳理 {d.compiled}\t发布 {d.published}" for d in result.departments]
        lines.append("零上报部门：" + ("、".join(d.name for d in result.zero_departments) or "无"))
        return "\n".join(lines)

    emit(as_json, result.model_dump(mode="json"), human)
