"""CSV formula injection (CWE-1236), neutralised in one place for every CSV the node writes.

A spreadsheet opening a CSV evaluates a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or
a carriage return) as a formula: `=HYPERLINK(...)` or `-2+3+cmd|' /C calc'!A0` in a record becomes live in
the recipient's Excel. As OWASP advises, such a text value is written with a leading `'`, which makes the
spreadsheet show it as text. A value that is a plain number (`-5`, `+86`, `-1.25e3`) is left as it is: it
cannot carry a formula, and numeric columns and decimals written as text must stay numbers.

Used by the open-data CSV download, the data-API CSV export and the quarantine CSV. XLSX writers do not
need it when they write text as text cells (openpyxl turns only a string starting with `=` into a formula,
and the writers mark such cells as strings).
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_START = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_NUMBER_RE = re.compile(_NUMBER)


def neutralize(value: str) -> str:
    """`value` as a CSV cell that no spreadsheet evaluates."""
    if value.startswith(FORMULA_START) and not _NUMBER_RE.match(value):
        return "'" + value
    return value


def neutralize_expr(expr: pl.Expr) -> pl.Expr:
    """`neutralize` over a Polars String expression (nulls stay null)."""
    risky = expr.str.contains(_START) & ~expr.str.contains(_NUMBER)
    return pl.when(risky).then(pl.lit("'") + expr).otherwise(expr)


def neutralize_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every String column neutralised; other columns (numbers, dates) untouched."""
    names = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(neutralize_expr(pl.col(n)).alias(n) for n in names) if names else frame
