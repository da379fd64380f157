"""Structured logs (structlog): JSON lines in production, readable lines in development.

Secrets are never logged: keys that look like credentials are masked before rendering.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_WORDS = ("password", "secret", "token", "authorization", "cookie", "key")


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in list(event):
        if name != "event" and any(word in name.lower() for word in _SECRET_WORDS):
            event[name] = "***"
    return event


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is when a line is logged, not the stream that was current at
    `configure`: a command run in-process (Typer's CliRunner in tests) replaces and then closes it, and every
    later log line would otherwise fail with "I/O operation on closed file"."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO", json_lines: bool = False) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]  # write + flush
        cache_logger_on_first_use=False,
    )
