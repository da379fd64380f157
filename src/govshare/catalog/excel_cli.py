"""`govshare catalog template | import | export-xlsx`: the department Excel template from the console
(docs/excel-template.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from govshare.catalog import excel, excel_service
from govshare.catalog.cli import catalog_app
from govshare.cli.context import JsonOption, emit, fail, run

__all__ = ["catalog_app"]


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        fail(f"无法写入 {out}：{exc}", code="io_error", exit_code=2)


@catalog_app.command("template")
def template(out: Path = typer.Argument(..., help="写入的 .xlsx 文件")) -> None:
    """生成空白的目录编制模板（Excel），下拉选项按本辖区配置。"""
    data = run(lambda session, actor: excel_service.template(session, actor))
    _write(out, data)
    typer.echo(f"已生成目录编制模板：{out}")


@catalog_app.command("export-xlsx")
def export_xlsx(
    out: Path = typer.Argument(..., help="写入的 .xlsx 文件"),
    department: str | None = typer.Option(None, "--dept", help="只导出该提供方部门"),
) -> None:
    """把已发布的信息资源导出为目录编制模板，可修改后再导入。"""
    data = run(lambda session, actor: excel_service.export_workbook(session, actor, department))
    _write(out, data)
    typer.echo(f"已导出到 {out}")


@catalog_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="填好的目录编制模板（.xlsx）"),
    publish: bool = typer.Option(False, "--publish", help="直接发布（控制台操作员具有审核权限）"),
    as_json: bool = JsonOption,
) -> None:
    """导入目录编制模板：全部通过才写入；有错误则逐条列出（工作表、行、列），不写入任何内容，退出码 1。"""
    try:
        if file.stat().st_size > excel.MAX_UPLOAD_BYTES:
            fail(excel_service.TOO_LARGE, code="payload_too_large", exit_code=2)
        data = file.read_bytes()
    except OSError as exc:
        fail(f"无法读取 {file}：{exc}", code="invalid_file", exit_code=2)
    report = run(
        lambda session, actor: excel_service.import_workbook(session, actor, data, publish=publish),
        list_errors=True,
        as_json=as_json,
    )
    emit(
        as_json,
        report.model_dump(mode="json"),
        f"新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}，发布 {report.published}",
    )
