"""The base of every request model: unknown fields refused, text trimmed, and no text that a database
would choke on (NUL and other control characters, lone surrogates) gets past validation."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The largest value a BIGINT (and SQLite's INTEGER) holds: the `le` of every id, cursor and counter a
# request carries, so 2**63 is a 422 and never reaches a driver (which would fail with a 500).
MAX_BIGINT = 2**63 - 1
MAX_INTEGER = 2**31 - 1  # an INTEGER column on PostgreSQL (e.g. a code's position)


def text_problem(value: str) -> str | None:
    """Why `value` is unacceptable as text, or None."""
    if _CONTROL.search(value):
        return "不能包含控制字符"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "必须是合法的 Unicode 文本"
    return None


def _check(value: Any) -> None:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _clean_text(cls, data: Any) -> Any:
        _check(data)
        return data
