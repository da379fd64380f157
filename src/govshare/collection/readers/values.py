"""Python values (from a database driver or a parsed JSON push) as the text a reader hands on.

The choices, the same for every source that gives us typed values:
- NULL/None stays null; strings are kept as they are.
- Integers: decimal digits. Decimals: plain notation, scale as stored ("1.50"), never an exponent.
  Floats: integral ones without ".0" (1e20 -> "100000000000000000000"), others by `repr`, in plain
  notation when repr would use an exponent.
- Booleans: "1"/"0" from databases (MariaDB has no boolean type: BOOLEAN is TINYINT(1) and arrives as
  1/0, so PostgreSQL's and SQLite's read the same); "true"/"false" from JSON, as written there.
- Dates "yyyy-mm-dd"; datetimes "yyyy-mm-dd HH:MM:SS", with ".ffffff" only when the microseconds are not
  zero; a datetime with a time zone is shown in China Standard Time (Asia/Shanghai) without the offset.
  Times "HH:MM:SS"; a MariaDB TIME (a timedelta, possibly negative or over 24 h) the same way.
- Bytes: lowercase hex. Nested JSON (dicts, lists): compact JSON text, non-ASCII kept.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

CHINA = ZoneInfo("Asia/Shanghai")


def float_text(value: float) -> str:
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e22:
        return str(int(value))
    text = repr(value)
    if "e" in text and math.isfinite(value):
        return format(Decimal(text), "f")
    return text


def _datetime_text(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(CHINA).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f" if value.microsecond else "%Y-%m-%d %H:%M:%S")


def _timedelta_text(value: dt.timedelta) -> str:
    sign = "-" if value < dt.timedelta(0) else ""
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{micro:06d}" if micro else text


def to_text(value: object, booleans: Literal["digit", "word"] = "digit") -> str | None:
    """One value as text (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        if booleans == "digit":
            return "1" if value else "0"
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _timedelta_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def column_text(values: Sequence[object], booleans: Literal["digit", "word"] = "digit") -> pl.Series:
    """A column of driver values as a String series; whole columns of str or int skip the per-value path."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds <= {str}:
        return pl.Series(values, dtype=pl.String)
    if kinds == {int}:
        try:
            return pl.Series(values, dtype=pl.Int64).cast(pl.String)
        except (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError):
            pass  # beyond 64 bits: per value
    return pl.Series([to_text(v, booleans) for v in values], dtype=pl.String)
