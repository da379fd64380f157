"""Catalog data types as stored: the one map from an item's type letter (`catalog.vocabulary.DataType`) to
its SQL column, its Polars type and its text, used by collection (store, transform) and by every reader of
the record tables (the data API, exports, open data, the change feed).

数值 (N) and 货币 (Y) items are exact decimals, never binary floating point: NUMERIC(18, 6) on PostgreSQL.
SQLite has no exact decimal type (a NUMERIC column has NUMERIC affinity, which turns "3977.5968" into a
REAL), so there they are stored as INTEGER counts of 10⁻⁶ (3977.5968 → 3977596800), which compare, sort
and sum exactly. Python sees `decimal.Decimal`, Polars `Decimal(18, 6)`. The catalog gives these items no
precision of its own, so every node uses the same one: 12 integer digits and 6 decimals (万元 to the 分).
A value with more decimals or digits is refused with a message naming the item, never rounded.

Outputs write a decimal in canonical text: plain notation, no trailing zeros after the point ("3977.5968",
"100", "-0.5"); JSON answers carry it as a string, so no client parses money as a float.

浮点 (F) stays a binary float (Float64 / double precision): it is the catalog's own floating-point type.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from govshare.standards import validators
from govshare.standards.text import FULLWIDTH, HALFWIDTH, WHITESPACE_CLASS

DECIMAL_PRECISION = 18
DECIMAL_SCALE = 6
DECIMAL_TYPES = frozenset({"N", "Y"})
# Binary floating point: 浮点 (F) only. 双精度 (B) has no numeric column (`column_type` stores it as text, as
# the collection found it), so a filter value for it stays text too.
FLOAT_TYPES = frozenset({"F"})
POLARS_DECIMAL = pl.Decimal(DECIMAL_PRECISION, DECIMAL_SCALE)
_WIDE = pl.Decimal(38, 18)  # exact intermediate of a conversion: 20 integer digits, 18 decimals
_UNIT = Decimal(1).scaleb(-DECIMAL_SCALE)
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

# Data type letter → the Polars type of the stored values (the transform's output).
POLARS_TYPES: dict[str, Any] = {
    "C": pl.String,
    "N": POLARS_DECIMAL,
    "Y": POLARS_DECIMAL,
    "F": pl.Float64,
    "I": pl.Int64,
    "D": pl.Date,
    "T": pl.Datetime("us"),
    "L": pl.Boolean,
}

DECIMAL_RULE = f"精确小数：整数至多 {DECIMAL_PRECISION - DECIMAL_SCALE} 位，小数至多 {DECIMAL_SCALE} 位"
DECIMAL_MESSAGES = {
    "decimal.scale": f"小数位数超过 {DECIMAL_SCALE} 位",
    "decimal.range": f"超出可存储的范围（整数部分至多 {DECIMAL_PRECISION - DECIMAL_SCALE} 位）",
}


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(p, s) on PostgreSQL; on SQLite an INTEGER holding the value times 10^s."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = DECIMAL_PRECISION, scale: int = DECIMAL_SCALE) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = exact(value, self.scale, self.precision)
        return int(number.scaleb(self.scale)) if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value).quantize(Decimal(1).scaleb(-self.scale))


def exact(value: object, scale: int = DECIMAL_SCALE, precision: int = DECIMAL_PRECISION) -> Decimal:
    """`value` as a Decimal that a (precision, scale) column holds exactly; ValueError otherwise. Text must
    be plain notation ("-3977.5968": no exponent, NaN, underscores or spaces); a float is taken by its
    shortest repr (0.32 → 0.32). Checked on the digits, so no arithmetic can overflow or round."""
    if isinstance(value, str):
        if not PLAIN_NUMBER.fullmatch(value) or len(value) > 100:
            raise ValueError(f"not a plain decimal number: {value[:50]!r}")
        number = Decimal(value)
    elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
    else:
        raise ValueError(f"not a number: {value!r}")
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent < -scale and any(digits[exponent + scale :]):
        raise ValueError(f"more than {scale} decimals: {value!r}")
    if number.adjusted() >= precision - scale:
        raise ValueError(f"more than {precision - scale} integer digits: {value!r}")
    return number


def parse_decimal(raw: str) -> Decimal:
    """A filter or key value for a decimal item: plain notation, within the stored precision."""
    return exact(raw).quantize(_UNIT)


def column_type(data_type: str, length: int | None) -> Any:
    """The SQL type of an item's column in its record table."""
    if data_type == "C":
        return String(length) if length else Text()
    return {
        "I": BigInteger(),
        "N": ExactDecimal(),
        "Y": ExactDecimal(),
        "F": Float(),
        "D": Date(),
        "T": DateTime(),
        "L": Boolean(),
    }.get(data_type, Text())


def stored_polars_type(column: Any) -> pl.DataType:
    """The Polars type for values read back from a record-table column of SQL type `column`."""
    if isinstance(column, ExactDecimal):
        return pl.Decimal(column.precision, column.scale)
    if isinstance(column, Boolean):
        return pl.Boolean()
    if isinstance(column, Integer):
        return pl.Int64()
    if isinstance(column, Float):
        return pl.Float64()
    if isinstance(column, DateTime):
        return pl.Datetime("us")
    if isinstance(column, Date):
        return pl.Date()
    return pl.String()


# --- text -------------------------------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """Canonical text: plain notation, no trailing zeros after the point ("3977.5968", "100")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def decimal_text_expr(expr: pl.Expr) -> pl.Expr:
    """`decimal_text` over a Polars Decimal column."""
    text = expr.cast(pl.String)
    return pl.when(text.str.contains(".", literal=True)).then(text.str.replace(r"\.?0+$", "")).otherwise(text)


def decimals_as_text(frame: pl.DataFrame, only: set[str] | None = None) -> pl.DataFrame:
    """`frame` with its Decimal columns (or those of them in `only`) as canonical text."""
    names = [n for n, t in frame.schema.items() if isinstance(t, pl.Decimal) and (only is None or n in only)]
    return frame.with_columns(decimal_text_expr(pl.col(n)).alias(n) for n in names) if names else frame


# --- parsing ----------------------------------------------------------------------------------------------


def _power_of_ten(value: float) -> Decimal:
    return Decimal(int(value))


def exact_numbers(
    series: pl.Series,
    *,
    units: tuple[str, ...] = validators.DEFAULT_UNITS,
    divide_by: float | None = None,
) -> pl.DataFrame:
    """The `number` validator (`standards.vectorized.parse_number`: digits, thousands separators, 百 … 万亿,
    % ‰, a unit) computed exactly in decimal arithmetic, then divided by `divide_by` (万元: 10000) and
    kept as Decimal(18, 6). Columns value, error (rule code) and message, as a validator returns them."""
    text = series.cast(pl.String).str.replace_many(FULLWIDTH, HALFWIDTH).str.replace_all(WHITESPACE_CLASS, "")
    frame = pl.DataFrame({"t": text}).with_columns(
        g=pl.col("t").str.extract_groups(validators.number_pattern(units))
    )
    multipliers = {k: _power_of_ten(v) for k, v in validators.MULTIPLIERS.items()}
    divisors = {k: _power_of_ten(v) for k, v in validators.DIVISORS.items()}
    frame = frame.with_columns(
        number=pl.col("g").struct.field("number").str.replace_all(",", "", literal=True),
        multiplier=pl.col("g")
        .struct.field("multiplier")
        .replace_strict(multipliers, default=Decimal(1), return_dtype=pl.Decimal(38, 0))
        .fill_null(Decimal(1)),
        shift=pl.col("g")
        .struct.field("multiplier")
        .replace_strict(
            {k: len(str(v)) - 1 for k, v in multipliers.items()}, default=0, return_dtype=pl.Int32
        )
        .fill_null(0),
        divisor=pl.col("g")
        .struct.field("divisor")
        .replace_strict(divisors, default=Decimal(1), return_dtype=pl.Decimal(38, 0))
        .fill_null(Decimal(1)),
        negative=pl.col("g").struct.field("sign") == "-",
    )
    frame = frame.with_columns(
        whole=pl.col("number").str.extract(r"^([0-9]*)").str.strip_chars_start("0").str.len_chars(),
        fraction=pl.col("number")
        .str.extract(r"\.([0-9]+)$")
        .str.strip_chars_end("0")
        .str.len_chars()
        .fill_null(0),
    )
    # Beyond 20 integer digits or 18 decimals the value cannot be held exactly on the way; it is out of
    # range or has too many decimals anyway.
    too_big = (pl.col("whole") + pl.col("shift")) > 20
    too_fine = pl.col("fraction") > 18
    wide = pl.when(~too_big & ~too_fine).then(pl.col("number")).cast(_WIDE, strict=False)
    value = wide * pl.col("multiplier") / pl.col("divisor")
    if divide_by is not None and divide_by != 1:
        by = Decimal(repr(divide_by)).normalize()
        places = max(0, -int(by.as_tuple().exponent))
        value = value / pl.lit(by.quantize(Decimal(1).scaleb(-places)), pl.Decimal(38, places))
    frame = frame.with_columns(
        wide=pl.when(pl.col("negative")).then(-value).otherwise(value), too_big=too_big, too_fine=too_fine
    )
    frame = frame.with_columns(value=pl.col("wide").cast(POLARS_DECIMAL, strict=False))
    inexact = pl.col("too_fine") | (pl.col("value").cast(_WIDE) != pl.col("wide")).fill_null(False)
    out_of_range = pl.col("too_big") | (pl.col("wide").is_not_null() & pl.col("value").is_null())
    error = (
        pl.when(pl.col("t").is_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col("number").is_null())
        .then(pl.lit("number.format"))
        .when(out_of_range)
        .then(pl.lit("decimal.range"))
        .when(inexact)
        .then(pl.lit("decimal.scale"))
        .otherwise(pl.lit(None, pl.String))
    )
    messages = {"number.format": validators.MESSAGES["number.format"], **DECIMAL_MESSAGES}
    return frame.with_columns(error=error).select(
        value=pl.when(pl.col("error").is_null())
        .then(pl.col("value"))
        .otherwise(pl.lit(None, POLARS_DECIMAL)),
        error=pl.col("error"),
        message=pl.col("error").replace_strict(messages, default=None, return_dtype=pl.String),
    )
