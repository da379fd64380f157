"""`govshare standards list | show | import | elements | import-elements | validate`: the standards library
from the console (docs/standards.md)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import typer
from pydantic import ValidationError

from govshare.cli.context import JsonOption, emit, fail, run
from govshare.core.validation import describe
from govshare.standards import importing, registry, service, validators, vectorized
from govshare.standards.schemas import CodeOut, CodeSetImport, DataElementOut

standards_app = typer.Typer(help="数据标准：代码集、数据元与校验规则", no_args_is_help=True)


@standards_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """列出代码集及其现行版本。"""
    rows = run(lambda session, actor: service.list_code_sets(session, actor))
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(
            f"{r.code}\t{r.name}\t{r.standard or '自定义'}\t现行版本 {r.current_version or '无'}\t"
            f"{next((v.code_count for v in r.versions if v.is_current), 0)} 个代码"
            for r in rows
        ),
    )


@standards_app.command("show")
def show_command(
    code: str = typer.Argument(..., help="代码集标识，如 GB-T-2261.1 或 GB/T 2261.1"),
    version: str | None = typer.Option(None, "--version", help="版本，默认现行版本"),
    codes: bool = typer.Option(False, "--codes", help="同时列出代码"),
    at: str | None = typer.Option(None, "--at", help="只列该日有效的代码（yyyy-mm-dd）"),
    query: str | None = typer.Option(None, "--q", help="代码前缀或名称片段"),
    limit: int = typer.Option(100, "--limit", min=1, max=service.MAX_PAGE),
    as_json: bool = JsonOption,
) -> None:
    """代码集的版本，及（--codes）其代码。"""
    on = _date_option(at, "--at")

    def action(session, actor):  # type: ignore[no-untyped-def]
        code_set = service.get_code_set(session, actor, code)
        page = (
            service.list_codes(session, actor, code, version=version, at=on, query=query, limit=limit)
            if codes
            else None
        )
        return code_set, page

    code_set, page = run(action)

    def human() -> str:
        lines = [f"{code_set.code}  {code_set.name}  {code_set.standard}", f"来源：{code_set.source or '—'}"]
        for v in code_set.versions:
            mark = "（现行）" if v.is_current else ""
            lines.append(f"  版本 {v.version}{mark}：{v.code_count} 个代码，生效 {v.valid_from or '—'}")
        if page is not None:
            lines.append(f"代码（{page.version} 版）：")
            lines.extend(_code_line(c) for c in page.items)
            if page.next_after is not None:
                lines.append("  …… 还有更多，请加 --limit 或 --q 缩小范围")
        return "\n".join(lines)

    data: dict[str, Any] = {"code_set": code_set.model_dump(mode="json")}
    if page is not None:
        data["codes"] = page.model_dump(mode="json")
    emit(as_json, data, human)


def _code_line(code: CodeOut) -> str:
    period = ""
    if code.valid_from or code.valid_to:
        period = f"\t{code.valid_from or '…'} 至 {code.valid_to or '今'}"
    return f"  {code.code}\t{code.label}{period}"


def _date_option(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    parsed = validators.parse_date(value)
    if parsed.error:
        fail(f"{name}：{parsed.message}", code="invalid_input", exit_code=2)
    result: date = parsed.value
    return result


def _read(file: Path) -> bytes:
    try:
        if file.stat().st_size > importing.MAX_FILE_BYTES:
            fail(
                f"文件不能超过 {importing.MAX_FILE_BYTES // 1024 // 1024} MB",
                code="payload_too_large",
                exit_code=2,
            )
        return file.read_bytes()
    except OSError as exc:
        fail(f"无法读取 {file}：{exc}", code="invalid_file", exit_code=2)


@standards_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="代码表：CSV（UTF-8 或 GBK）或 .xlsx，表头含 代码、名称"),
    code: str = typer.Option(..., "--code", help="代码集标识，如 GA-XB"),
    version: str = typer.Option(..., "--version", help="版本号，如 2024"),
    name: str | None = typer.Option(None, "--name", help="代码集名称（新建时必填）"),
    standard: str = typer.Option("", "--standard", help="标准编号"),
    source: str = typer.Option("", "--source", help="代码来源"),
    valid_from: str | None = typer.Option(None, "--valid-from", help="版本生效日期"),
    valid_to: str | None = typer.Option(None, "--valid-to", help="版本失效日期"),
    note: str = typer.Option("", "--note"),
    as_json: bool = JsonOption,
) -> None:
    """导入代码集（或已有代码集的新版本）：全部通过才写入；有错误则逐行列出，不写入任何内容，退出码 1。"""
    try:
        meta = CodeSetImport(
            code=code,
            version=version,
            name=name,
            standard=standard,
            source=source,
            valid_from=_date_option(valid_from, "--valid-from"),
            valid_to=_date_option(valid_to, "--valid-to"),
            note=note,
        )
    except ValidationError as exc:
        fail(describe(exc, limit=1), code="invalid_input", exit_code=2)
    data = _read(file)
    report = run(
        lambda session, actor: service.import_code_set(session, actor, data, meta),
        list_errors=True,
        as_json=as_json,
    )
    verb = "新建代码集" if report.created_code_set else "新增版本"
    emit(
        as_json,
        report.model_dump(mode="json"),
        f"{verb} {report.code_set} {report.version}：{report.codes} 个代码",
    )


@standards_app.command("elements")
def elements_command(
    query: str | None = typer.Option(None, "--q", help="标识符前缀或名称片段"), as_json: bool = JsonOption
) -> None:
    """列出数据元。"""
    rows = run(
        lambda session, actor: [
            DataElementOut.of(e) for e in service.list_data_elements(session, actor, query)
        ]
    )
    emit(
        as_json,
        [r.model_dump(mode="json") for r in rows],
        lambda: "\n".join(
            "\t".join(
                [r.identifier, r.name, f"{r.data_type}{r.length or ''}", r.code_set or "", r.validator or ""]
            )
            for r in rows
        ),
    )


@standards_app.command("import-elements")
def import_elements_command(
    file: Path = typer.Argument(..., help="数据元表：CSV 或 .xlsx，表头含 标识符、中文名称、数据类型"),
    as_json: bool = JsonOption,
) -> None:
    """导入数据元：全部通过才写入。"""
    data = _read(file)
    report = run(
        lambda session, actor: service.import_data_elements(session, actor, data),
        list_errors=True,
        as_json=as_json,
    )
    emit(as_json, report.model_dump(mode="json"), f"新增数据元 {report.created} 个")


def _csv_frame(file: Path) -> pl.DataFrame:
    """Every column as text (IDs keep their leading zeros and trailing X); GBK files transcoded first."""
    try:
        text = importing.decode_text(_read(file))
    except importing.UnreadableFile as exc:
        fail(str(exc), code="invalid_file", exit_code=2)
    try:
        return pl.read_csv(io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        fail(f"无法读取 CSV：{exc}", code="invalid_file", exit_code=2)


@standards_app.command("validate")
def validate_command(
    file: Path = typer.Argument(..., help="CSV 文件（UTF-8 或 GBK）"),
    column: str = typer.Option(..., "--column", "-c", help="要校验的列名"),
    rule: str = typer.Option(..., "--rule", "-r", help=f"校验规则：{'、'.join(registry.VALIDATORS)}"),
    code_set: str | None = typer.Option(None, "--code-set", help="rule 为 code 时的代码集"),
    include_abolished: bool = typer.Option(False, "--include-abolished", help="代码集校验也接受已废止代码"),
    sex_column: str | None = typer.Option(None, "--sex-column", help="rule 为 id_number 时：与性别列核对"),
    birth_column: str | None = typer.Option(
        None, "--birth-column", help="rule 为 id_number 时：与出生日期列核对"
    ),
    out: Path | None = typer.Option(None, "--out", help="写出带结果列的 CSV"),
    show: int = typer.Option(10, "--show", min=0, help="列出前几个被拒绝的值"),
    as_json: bool = JsonOption,
) -> None:
    """用一条规则快速检查 CSV 的一列：统计通过、拒绝与空值，列出错误；可写出带规范化结果的 CSV。"""
    frame = _csv_frame(file)
    for name in (column, sex_column, birth_column):
        if name is not None and name not in frame.columns:
            fail(f"没有列“{name}”；文件的列：{'、'.join(frame.columns)}", code="invalid_input", exit_code=2)
    spec = registry.get(rule)
    if spec is None:
        fail(
            f"校验规则“{rule}”不存在，可选：{'、'.join(registry.VALIDATORS)}",
            code="invalid_input",
            exit_code=2,
        )
    options: dict[str, Any] = {}
    if spec.needs_code_set:
        if not code_set:
            fail("rule 为 code 时须给出 --code-set", code="invalid_input", exit_code=2)
        options["table"] = run(
            lambda session, actor: service.code_table(
                session, actor, code_set, include_abolished=include_abolished
            )
        )
    result = spec.check_column(frame.get_column(column), **options)
    frame = vectorized.validate_column(frame, column, result)
    warnings: dict[str, int] = {}
    if spec.name == "id_number":
        ids = frame.get_column(column)
        if sex_column:
            frame = frame.with_columns(
                vectorized.sex_vs_id(frame.get_column(sex_column), ids).alias("warn_sex")
            )
            warnings["warn.sex_id"] = frame.get_column("warn_sex").drop_nulls().len()
        if birth_column:
            frame = frame.with_columns(
                vectorized.birth_vs_id(frame.get_column(birth_column), ids).alias("warn_birth")
            )
            warnings["warn.birth_id"] = frame.get_column("warn_birth").drop_nulls().len()
    errors = result.get_column("error")
    accepted = result.get_column("value").drop_nulls().len()
    rejected = errors.drop_nulls().len()
    by_code = Counter(e for e in errors.to_list() if e)
    examples = (
        frame.with_row_index("row", offset=2)
        .filter(pl.col(f"{column}__value__error").is_not_null())
        .head(show)
        .select("row", column, f"{column}__value__message")
        .rows()
    )
    if out is not None:
        try:
            frame.write_csv(out)
        except OSError as exc:
            fail(f"无法写入 {out}：{exc}", code="io_error", exit_code=2)
    summary = {
        "rule": spec.name,
        "column": column,
        "total": frame.height,
        "accepted": accepted,
        "rejected": rejected,
        "blank": frame.height - accepted - rejected,
        "errors": dict(by_code),
        "warnings": warnings,
        "examples": [{"row": r, "value": v, "message": m} for r, v, m in examples],
    }

    def human() -> str:
        lines = [
            f"{spec.label}（{spec.name}）· 列“{column}”：共 {summary['total']} 行，通过 {accepted}，"
            f"拒绝 {rejected}，空值 {summary['blank']}"
        ]
        messages = {**validators.MESSAGES, **validators.WARNINGS}
        for error, count in by_code.most_common():
            lines.append(f"  {error}（{messages.get(error, '不在代码集中')}）：{count}")
        for warning, count in warnings.items():
            lines.append(f"  警告 {warning}（{messages[warning]}）：{count}")
        if examples:
            lines.append("被拒绝的值（行号按文件计，含表头）：")
            lines.extend(f"  第{r}行  {v!r}  {m}" for r, v, m in examples)
        if out is not None:
            lines.append(f"结果已写入 {out}")
        return "\n".join(lines)

    emit(as_json, summary, human)
    if rejected:
        raise typer.Exit(1)
