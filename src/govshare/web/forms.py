"""What every portal form shares: the CSRF check a POST route makes first, the 303 after it, the Chinese
sentence for refused input (core/validation.py's message led by the field's label), showing a form again
after refused input (`form_errors`, handled in one place), and times shown in Beijing time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.core.clock import BEIJING, utcnow
from govshare.core.uow import UnitOfWork
from govshare.core.validation import validation_message
from govshare.errors import Conflict, CsrfFailed, InvalidInput
from govshare.web.deps import csrf_valid

MAX_MESSAGES = 10  # a form lists at most this many problems at once


def check_csrf(request: Request, token: object) -> None:
    """The first thing every portal POST route does: a missing or forged token is refused (403) before any
    service acts."""
    if not isinstance(token, str) or not csrf_valid(request, token):
        raise CsrfFailed()


def see_other(target: str) -> RedirectResponse:
    """The answer to a successful POST: the browser GETs `target` (no resubmission on reload)."""
    return RedirectResponse(target, status_code=303)


def error_status(exc: Exception) -> int:
    """The status of a form shown again after `exc`: 409 for a conflict with what exists, else 422."""
    return 409 if isinstance(exc, Conflict) else 422


def beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as Beijing time, the way the portal shows every time; "" for none."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime(fmt)


def beijing_today() -> date:
    return utcnow().astimezone(BEIJING).date()


@dataclass
class FormState:
    """Which form on a page failed, its message and the values the person entered (shown again)."""

    name: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def explain(exc: Exception, label: Callable[[str], str]) -> str:
    """The Chinese sentence a form shows for invalid input or a refusal, each problem led by the field's
    Chinese name (`label` maps a field name to it)."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:MAX_MESSAGES]:
            loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
            message = validation_message(error)
            parts.append(f"{label(loc[0])}：{message}" if loc else message)
        return "；".join(parts) or "输入不合法"
    if isinstance(exc, InvalidInput) and exc.errors:
        return "；".join(f"{label(e.field)}：{e.message}" for e in exc.errors[:MAX_MESSAGES])
    return str(getattr(exc, "message", exc))


def labeller(labels: dict[str, str]) -> Callable[[str], str]:
    """A `label` for `explain` from a table keyed by field name (a dotted name by its first part)."""
    return lambda name: labels.get(name, labels.get(name.split(".")[0], name))


# The errors a form shows again by default: input the person can correct, or a conflict with what exists.
FORM_ERRORS: tuple[type[Exception], ...] = (ValidationError, InvalidInput, Conflict)


class ShowFormAgain(Exception):
    """A portal POST whose form must be shown again. The request's unit of work rolls the whole action back
    (and leaves the trace the refused action asked for), then the handler installed by `install` answers
    with the page `page` builds in a fresh read-only unit of work. Raised by `form_errors`; no route rolls
    back or commits by hand."""

    def __init__(self, page: Callable[[Session], Response]) -> None:
        super().__init__("form shown again")
        self.page = page


ShowPage = Callable[[Session, FormState, int], Response]


@contextmanager
def form_errors(
    show: ShowPage,
    *,
    name: str | None = None,
    values: dict[str, Any] | None = None,
    explain_error: Callable[[Exception], str] | None = None,
    catch: tuple[type[Exception], ...] = FORM_ERRORS,
) -> Iterator[None]:
    """Run a form's action; on refused input show the form again: `show(session, form_state, status)` builds
    the page, with the form's `name`, the Chinese explanation (`explain_error`, by default the error's own
    message) and the `values` the person entered."""
    try:
        yield
    except catch as exc:
        message = explain_error(exc) if explain_error is not None else explain(exc, lambda n: n)
        form = FormState(name, message, dict(values or {}))
        status = error_status(exc)
        raise ShowFormAgain(lambda session: show(session, form, status)) from exc


def install(app: FastAPI) -> None:
    """Answer `ShowFormAgain` with its page, built after the failed action's unit of work has ended."""

    def show_again(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ShowFormAgain)
        with UnitOfWork(request.app.state.db, readonly=True) as unit:
            return exc.page(unit.session)

    app.add_exception_handler(ShowFormAgain, show_again)
