"""`govshare catalog dcat`: the catalog as DCAT-AP 3.0.1 from the console (docs/dcat.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from govshare.catalog import dcat, dcat_service
from govshare.catalog.cli import catalog_app
from govshare.cli.context import fail, run, settings

__all__ = ["catalog_app"]


@catalog_app.command("dcat")
def dcat_command(
    fmt: str = typer.Option("turtle", "--format", help="turtle 或 jsonld"),
    out: Path | None = typer.Option(None, "--out", help="写入文件；不给则输出到屏幕"),
    page: int = typer.Option(1, "--page", help=f"页码（1 到 {dcat_service.MAX_PAGE}）"),
    page_size: int = typer.Option(
        dcat_service.DEFAULT_PAGE_SIZE, "--page-size", help=f"每页条数（1 到 {dcat_service.MAX_PAGE_SIZE}）"
    ),
    modified_since: str | None = typer.Option(
        None, "--modified-since", help="只导出此时刻及以后有变更的资源（ISO 8601；不带时区按北京时间）"
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="节点对外地址，用于生成资源 URI；默认 http://<GOVSHARE_HOST>:<GOVSHARE_PORT>"
    ),
) -> None:
    """以 DCAT-AP 3.0.1 导出已发布的信息资源（Turtle 或 JSON-LD），可分页、可增量。"""
    if fmt not in dcat.FORMATS:
        fail(f"--format 须为 {' 或 '.join(dcat.FORMATS)}", code="invalid_input", exit_code=2)
    since = None
    if modified_since:
        try:
            since = datetime.fromisoformat(modified_since)
        except ValueError:
            fail(f"--modified-since 不是 ISO 8601 时间：{modified_since}", code="invalid_input", exit_code=2)
    if base_url is None:
        current = settings()
        base_url = f"http://{current.host}:{current.port}"
    url = base_url
    result = run(
        lambda session, actor: dcat_service.dcat_catalog(
            session,
            actor,
            base_url=url,
            page=page,
            page_size=page_size,
            modified_since=since,
            fmt=fmt,
        )
    )
    data = result.serialize()
    if out:
        out.write_bytes(data)
        typer.echo(
            f"已导出第 {result.page}/{result.last_page} 页的 {result.datasets} 个信息资源"
            f"（共 {result.total} 个）到 {out}"
        )
    else:
        typer.echo(data.decode("utf-8"), nl=False)
