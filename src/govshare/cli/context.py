"""What every CLI command shares: settings, the database, the unit of work, and output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare import logging as node_logging
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.core.db import Database
from govshare.core.uow import UnitOfWork
from govshare.core.validation import describe
from govshare.errors import GovshareError, InvalidInput
from govshare.settings import Settings, get_settings

T = TypeVar("T")

JsonOption = typer.Option(False, "--json", help="以 JSON 输出，便于脚本处理")


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # a ValidationError, or pydantic-settings' SettingsError (both ValueErrors)
        detail = describe(exc) if isinstance(exc, ValidationError) else str(exc)
        fail(f"配置无效：{detail}", code="invalid_settings")


def database() -> Database:
    current = settings()
    node_logging.configure(current.log_level, current.log_json)
    return Database.from_settings(current)


@contextmanager
def unit_of_work(db: Database, actor: Actor) -> Iterator[Session]:
    """One command, one unit of work (`core/uow.py`): a refusal is rolled back, then audited; an error's
    after-rollback work (e.g. a refused audit checkpoint's entry) runs there too, as on the web."""
    with UnitOfWork(
        db, on_refusal=lambda session, refusal: audit.record_denial(session, actor, refusal)
    ) as unit:
        yield unit.session


def run(
    func: Callable[[Session, Actor], T],
    *,
    actor: Actor | None = None,
    list_errors: bool = False,
    as_json: bool = False,
) -> T:
    """Run `func` as the console operator in one unit of work, turning domain errors into exit codes. With
    `list_errors` (imports), refused input lists every field error (`print_field_errors`) and exits 1."""
    db = database()
    acting = actor or Actor.system()
    try:
        with unit_of_work(db, acting) as session:
            return func(session, acting)
    except InvalidInput as exc:
        if not list_errors:
            fail(exc.message, code=exc.code)
        print_field_errors(exc, as_json)
        raise typer.Exit(1) from None
    except GovshareError as exc:
        fail(exc.message, code=exc.code)
    finally:
        db.dispose()


def fail(message: str, *, code: str = "error", exit_code: int = 1) -> NoReturn:
    typer.secho(f"错误（{code}）：{message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(exit_code)


def emit(as_json: bool, data: Any, human: str | Callable[[], str]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        typer.echo(human() if callable(human) else human)


def print_field_errors(error: GovshareError, as_json: bool) -> None:
    """Every error of a rejected import, each naming its field, row or cell; nothing was written."""
    if as_json:
        body = {
            "code": error.code,
            "message": error.message,
            "errors": [{"field": e.field, "message": e.message} for e in error.errors],
        }
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    typer.secho("导入失败，未写入任何内容。请修正以下错误后重新导入：", fg=typer.colors.RED, err=True)
    for field_error in error.errors:
        typer.echo(f"  {field_error.field}：{field_error.message}", err=True)
    if not error.errors:
        typer.echo(f"  {error.message}", err=True)
