"""The vectorized transform of one chunk: source text in, typed records, quarantine entries and warnings
out. Everything here runs as Polars expressions over whole columns; nothing loops over rows.

Per item, in order: trim (blank becomes null), the mapping's normalizers, its value map, the default for a
blank value, the validator (the mapping's, else the one the item's data type or standard implies), the
length limit and the required check. A record is rejected when any item fails; the quarantine entry keeps
the record verbatim (every source column, as read) with the first failing item, its rule and every
message. A record whose mapped source columns are all blank is counted as empty, not rejected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import polars as pl

from govshare.collection.itemtypes import DECIMAL_TYPES, POLARS_TYPES, exact_numbers
from govshare.collection.readers.base import ORD
from govshare.standards import validators, vectorized
from govshare.standards.registry import ValidatorSpec
from govshare.standards.text import WHITESPACE

C = pl.col
TEXT = pl.String
TOMB = "_tomb"

DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日%H时%M分%S秒",
)
TRUE_WORDS = ("1", "true", "t", "yes", "y", "是", "真", "有")
FALSE_WORDS = ("0", "false", "f", "no", "n", "否", "假", "无")


@dataclass(frozen=True)
class ItemPlan:
    """How one catalog item is filled from the source."""

    field: str
    label: str  # the item's Chinese name, for messages
    data_type: str
    source: str
    length: int | None = None
    required: bool = False
    normalize: tuple[str, ...] = ()
    value_map: dict[str, str | None] = dataclasses.field(default_factory=dict)
    map_only: bool = False
    default: str | None = None
    check: ValidatorSpec | None = None
    check_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    divide_by: float | None = None  # the item is kept in a larger unit (万元: 10000)

    @property
    def is_decimal(self) -> bool:
        """数值 and 货币 items: exact decimals (`itemtypes`), computed without binary floating point."""
        return self.data_type in DECIMAL_TYPES

    @property
    def dtype(self) -> Any:
        return POLARS_TYPES.get(self.data_type, pl.String)


@dataclass(frozen=True)
class Plan:
    """Everything the transform needs, resolved once per batch."""

    items: tuple[ItemPlan, ...]
    key: tuple[str, ...]
    cursor: str | None = None
    deleted_column: str | None = None
    deleted_values: tuple[str, ...] = ()
    warnings: tuple[tuple[str, str, str], ...] = ()  # (check, first item, id item)

    def item(self, name: str) -> ItemPlan:
        return next(i for i in self.items if i.field == name)

    @property
    def source_columns(self) -> list[str]:
        names = [i.source for i in self.items]
        if self.deleted_column:
            names.append(self.deleted_column)
        return list(dict.fromkeys(names))


@dataclass
class ChunkResult:
    good: pl.DataFrame  # ORD, every item (typed), TOMB
    rejected: pl.DataFrame  # ORD, column, rule, message, raw
    warnings: pl.DataFrame  # ORD, column, rule, message, raw
    empty: int
    warned_rows: int


QUARANTINE_SCHEMA = {ORD: pl.Int64, "column": TEXT, "rule": TEXT, "message": TEXT, "raw": TEXT}


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    trimmed = expr.str.strip_chars(WHITESPACE)
    return pl.when(trimmed.str.len_bytes() > 0).then(trimmed).otherwise(pl.lit(None, TEXT))


def _normalized(expr: pl.Expr, names: tuple[str, ...]) -> pl.Expr:
    for name in names:
        if name == "upper":
            expr = expr.str.to_uppercase()
        elif name == "lower":
            expr = expr.str.to_lowercase()
        elif name == "nfkc":
            expr = expr.str.normalize("NFKC")
        # "trim" is always done; "text" runs as a validator-like step in _text_step
    return expr


def _mapped(expr: pl.Expr, item: ItemPlan) -> tuple[pl.Expr, pl.Expr]:
    """The value after the map, and the error (map.missing) for values the map must know but doesn't."""
    if not item.value_map:
        return expr, pl.lit(None, TEXT)
    known = list(item.value_map)
    mapped = expr.replace_strict(item.value_map, default=expr, return_dtype=TEXT)
    error = pl.when(item.map_only & expr.is_not_null() & ~expr.is_in(known)).then(pl.lit("map.missing"))
    return mapped, error.otherwise(pl.lit(None, TEXT))


def _datetimes(series: pl.Series) -> pl.DataFrame:
    """Date-times in the forms seen in departments' exports; a bare date (any form `parse_date` reads)
    means midnight."""
    frame = pl.DataFrame({"t": series}).with_columns(
        value=C("t").str.strptime(pl.Datetime("us"), DATETIME_FORMATS[0], strict=False)
    )
    # the other forms only for what the common one did not read (most exports use one form)
    left = frame.get_column("value").is_null() & frame.get_column("t").is_not_null()
    if left.any():
        rest = frame.filter(left)
        others = rest.select(
            pl.coalesce(
                *[C("t").str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in DATETIME_FORMATS[1:]],
                pl.lit(vectorized.parse_date(rest.get_column("t")).get_column("value")).cast(
                    pl.Datetime("us")
                ),
            )
        ).to_series()
        frame = frame.with_columns(frame.get_column("value").scatter(left.arg_true(), others))
    return frame.select(
        C("value"),
        error=pl.when(C("value").is_null() & C("t").is_not_null())
        .then(pl.lit("datetime.format"))
        .otherwise(pl.lit(None, TEXT)),
        message=pl.lit(None, TEXT),
    )


def _booleans(series: pl.Series) -> pl.DataFrame:
    frame = pl.DataFrame({"t": series}).with_columns(low=C("t").str.to_lowercase())
    frame = frame.with_columns(
        value=pl.when(C("low").is_in(TRUE_WORDS))
        .then(pl.lit(True))
        .when(C("low").is_in(FALSE_WORDS))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )
    return frame.select(
        C("value"),
        error=pl.when(C("value").is_null() & C("t").is_not_null())
        .then(pl.lit("bool.format"))
        .otherwise(pl.lit(None, TEXT)),
        message=pl.lit(None, TEXT),
    )


MESSAGES = {
    "map.missing": "值不在映射表中",
    "required": "不能为空",
    "length": "超过长度上限",
    "datetime.format": "无法识别的日期时间",
    "bool.format": "应为 是/否、1/0 或 true/false",
    "integer": "应为整数",
    "type": "不是有效的值",
}
TYPE_MESSAGES = {
    "D": "不是有效的日期（应为 yyyy-mm-dd）",
    "T": "不是有效的日期时间",
    "N": "不是有效的数值",
    "Y": "不是有效的金额",
    "F": "不是有效的数值",
    "I": "不是有效的整数",
}


def _first(*cases: tuple[pl.Expr, str]) -> pl.Expr:
    """The first rule whose condition holds, else null."""
    chain: Any = pl.when(cases[0][0]).then(pl.lit(cases[0][1]))
    for condition, rule in cases[1:]:
        chain = chain.when(condition).then(pl.lit(rule))
    result: pl.Expr = chain.otherwise(pl.lit(None, TEXT))
    return result


def _cast(expr: pl.Expr, checked: pl.DataFrame, item: ItemPlan) -> pl.Expr:
    """The checked value as the item's type (text that does not convert becomes null, then `required`
    or the type rule catches it)."""
    source = checked.schema["value"]
    if source == TEXT and item.data_type == "D":
        return expr.str.to_date("%Y-%m-%d", strict=False)
    if source == TEXT and item.data_type == "T":
        return expr.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    if source == TEXT and item.data_type == "L":
        return expr.str.to_lowercase().is_in(TRUE_WORDS)
    return expr.cast(item.dtype, strict=False)


def _check_item(frame: pl.DataFrame, item: ItemPlan) -> pl.DataFrame:
    """Columns value (typed), error (rule code) and message (Chinese, naming the item) for one item."""
    text = _normalized(_blank_to_null(C(item.source)), item.normalize)
    staged = frame.select(text=text)
    mapped, map_error = _mapped(C("text"), item)
    staged = staged.with_columns(value=mapped, map_error=map_error)
    if item.default is not None:
        staged = staged.with_columns(value=C("value").fill_null(pl.lit(item.default)))
    value = staged.get_column("value")
    if "text" in item.normalize:
        value = vectorized.clean_text(value).get_column("value")
    if item.is_decimal and item.check is not None and item.check.name == "number":
        units = item.check_options.get("units", validators.DEFAULT_UNITS)
        checked = exact_numbers(value, units=tuple(units), divide_by=item.divide_by)
    elif item.check is not None:
        checked = item.check.check_column(value, **item.check_options)
    elif item.data_type == "T":
        checked = _datetimes(value)
    elif item.data_type == "L":
        checked = _booleans(value)
    else:
        checked = pl.DataFrame(
            {"value": value, "error": pl.Series([None] * len(value), dtype=TEXT)}
        ).with_columns(message=pl.lit(None, TEXT))
    checked_value = checked.get_column("value")
    if item.is_decimal and not isinstance(checked_value.dtype, pl.Decimal):
        # another validator's output (text, or a number) to an exact decimal, unit conversion included
        exact = exact_numbers(checked_value, units=(), divide_by=item.divide_by)
        checked = checked.with_columns(
            value=exact.get_column("value"),
            error=pl.coalesce(C("error"), exact.get_column("error")),
            message=pl.coalesce(C("message"), exact.get_column("message")),
        )
    elif item.divide_by and not item.is_decimal and checked_value.dtype.is_numeric():
        checked = checked.with_columns(pl.col("value") / item.divide_by)
    staged = staged.with_columns(
        checked=checked.get_column("value"),
        check_error=checked.get_column("error"),
        check_message=checked.get_column("message"),
    )
    if item.data_type == "I":
        number = C("checked").cast(pl.Float64, strict=False)
        staged = staged.with_columns(
            integer_error=pl.when(
                C("checked").is_not_null() & (number.is_null() | (number != number.floor()))
            )
            .then(pl.lit("integer"))
            .otherwise(pl.lit(None, TEXT)),
            typed=number.cast(pl.Int64, strict=False),
        )
    else:
        staged = staged.with_columns(
            integer_error=pl.lit(None, TEXT), typed=_cast(C("checked"), checked, item)
        )
    too_long = (
        (C("typed").str.len_chars() > item.length).fill_null(False)
        if item.length and item.dtype == pl.String
        else pl.lit(False)
    )
    staged = staged.with_columns(
        error=pl.coalesce(
            C("map_error"),
            C("check_error"),
            C("integer_error"),
            pl.when(C("checked").is_not_null() & C("typed").is_null()).then(pl.lit("type")),
            _first((too_long, "length"), (pl.lit(item.required) & C("typed").is_null(), "required")),
        )
    )
    messages = MESSAGES | {"type": TYPE_MESSAGES.get(item.data_type, MESSAGES["type"])}
    own = C("error").replace_strict(messages, default=None, return_dtype=TEXT)
    detail: Any = pl.when(C("error") == "map.missing").then(pl.format("{}：“{}”", own, C("text")))
    if item.length and item.dtype == pl.String:
        detail = detail.when(C("error") == "length").then(
            pl.format("{}（{} 字，上限 {}）", own, C("typed").str.len_chars(), pl.lit(item.length))
        )
    detail = detail.when(C("check_error").is_not_null()).then(
        C("check_message").fill_null(own).fill_null(C("error"))
    )
    detail = detail.otherwise(own.fill_null(C("error")))
    result = staged.select(
        value=pl.when(C("error").is_null()).then(C("typed")).otherwise(pl.lit(None, item.dtype)),
        error=C("error"),
    )
    failed = result.get_column("error").is_not_null()
    if not failed.any():  # the common case: no message to format
        return result.with_columns(message=pl.lit(None, TEXT))
    # messages are formatted for the failing rows only, then put back in place
    formatted = (
        staged.filter(failed)
        .select(pl.format("{}（{}）：{}", pl.lit(item.label), pl.lit(item.field), detail))
        .to_series()
    )
    message = pl.Series("message", [], dtype=TEXT).extend_constant(None, result.height)
    return result.with_columns(message=message.scatter(failed.arg_true(), formatted))


def _warnings(typed: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """One entry per failed consistency check (the record is kept)."""
    parts: list[pl.DataFrame] = []
    # The ID item of a good row passed `id_number`: it is a normalized 18-character number (or null), so
    # its sequence digit and birth date are read directly (the same rule as vectorized.sex_vs_id and
    # birth_vs_id, which re-validate raw text).
    for check, first, id_item in plan.warnings:
        number = C(id_item)
        if check == "sex_vs_id":
            expected = pl.when(number.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1).then(
                pl.lit("1")
            )
            mismatch = (
                C(first).is_in(["1", "2"])
                & number.is_not_null()
                & (C(first) != expected.otherwise(pl.lit("2")))
            )
            rule = "warn.sex_id"
        else:
            born = number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
            mismatch = C(first).is_not_null() & born.is_not_null() & (C(first) != born)
            rule = "warn.birth_id"
        entry = typed.filter(mismatch.fill_null(False)).select(
            C(ORD),
            column=pl.lit(first, TEXT),
            rule=pl.lit(rule, TEXT),
            message=pl.lit(validators.WARNINGS[rule], TEXT),
        )
        parts.append(entry)
    if not parts:
        return pl.DataFrame(schema={k: v for k, v in QUARANTINE_SCHEMA.items() if k != "raw"})
    return pl.concat(parts)


def transform(frame: pl.DataFrame, plan: Plan, source_columns: list[str]) -> ChunkResult:
    """Typed good records, quarantine entries and warnings for one chunk of source text."""
    present = [c for c in plan.source_columns if c in frame.columns]
    empty = pl.all_horizontal([_blank_to_null(C(c)).is_null() for c in present]) if present else pl.lit(True)
    tomb = (
        _blank_to_null(C(plan.deleted_column)).is_in(list(plan.deleted_values)).fill_null(False)
        if plan.deleted_column
        else pl.lit(False)
    )
    flags = frame.select(
        C(ORD).cast(pl.Int64),
        empty=empty,
        tomb=tomb,
    )
    checks: dict[str, pl.Series] = {}
    values: dict[str, pl.Series] = {}
    for position, item in enumerate(plan.items):
        result = _check_item(frame, item)
        values[item.field] = result.get_column("value")
        checks[f"e{position}"] = result.get_column("error")
        checks[f"m{position}"] = result.get_column("message")
    staged = flags.with_columns(**checks)
    count = len(plan.items)

    def live(i: int) -> pl.Expr:
        # a tombstone needs only its key
        needed = plan.items[i].field in plan.key or plan.deleted_column is None
        return C(f"e{i}").is_not_null() & (pl.lit(needed) | ~C("tomb"))

    staged = staged.with_columns(
        rule=pl.coalesce([pl.when(live(i)).then(C(f"e{i}")) for i in range(count)]),
        column=pl.coalesce([pl.when(live(i)).then(pl.lit(plan.items[i].field, TEXT)) for i in range(count)]),
        message=pl.concat_str(
            [pl.when(live(i)).then(C(f"m{i}")) for i in range(count)], separator="；", ignore_nulls=True
        ),
    )
    staged = staged.with_columns(
        state=pl.when(C("empty"))
        .then(pl.lit("empty"))
        .when(C("rule").is_not_null())
        .then(pl.lit("rejected"))
        .otherwise(pl.lit("good"))
    )
    state = staged.get_column("state")
    typed = pl.DataFrame({ORD: staged.get_column(ORD), **values, TOMB: staged.get_column("tomb")})
    good = typed.filter(state == "good")
    warnings = _warnings(good.filter(~C(TOMB)), plan)
    # the verbatim record, only for the rows that go to quarantine (JSON-encoding every row costs)
    flagged = (state == "rejected") | staged.get_column(ORD).is_in(warnings.get_column(ORD).implode())
    raw = frame.filter(flagged).select(
        C(ORD).cast(pl.Int64), raw=pl.struct([C(c) for c in source_columns]).struct.json_encode()
    )
    rejected = (
        staged.filter(C("state") == "rejected").select(ORD, "column", "rule", "message").join(raw, on=ORD)
    )
    warnings = warnings.join(raw, on=ORD).select(list(QUARANTINE_SCHEMA))
    return ChunkResult(
        good=good,
        rejected=rejected,
        warnings=warnings,
        empty=int((state == "empty").sum()),
        warned_rows=int(warnings.get_column(ORD).n_unique()) if warnings.height else 0,
    )
