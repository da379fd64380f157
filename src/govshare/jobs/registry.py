"""The kinds of job the worker knows: what runs, as whom, how often it may be tried, what ends it.

`handlers.py` registers the node's kinds; a kind is looked up by name when a job is queued (an unknown kind
is a programming error) and when the worker claims it (a worker only claims the kinds it knows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.core.db import Database
from govshare.errors import Conflict, InvalidInput, NotFound, PermissionDenied

# Errors that another attempt would only repeat: the job goes dead at once, with the reason.
PERMANENT: tuple[type[Exception], ...] = (PermissionDenied, InvalidInput, NotFound, Conflict)


@dataclass(frozen=True)
class JobContext:
    """What a handler receives: the database (it opens its own units of work), the job, and its actor."""

    db: Database
    job_id: int
    kind: str
    payload: dict[str, Any]
    actor: Actor
    attempt: int


Run = Callable[[JobContext], dict[str, Any] | None]
OnEnd = Callable[[Session, dict[str, Any], str], None]  # (the transaction, the payload, the reason)


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # shown in the portal and the CLI
    run: Run
    max_attempts: int = 5
    retry_seconds: float = 30.0  # the first retry's delay; doubled with each further attempt
    on_end: OnEnd | None = None  # it will not run again (dead, cancelled): release what it holds
    permanent: tuple[type[Exception], ...] = field(default=PERMANENT)


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> JobKind | None:
    return KINDS.get(name)


def label_of(name: str) -> str:
    kind = KINDS.get(name)
    return kind.label if kind else name
