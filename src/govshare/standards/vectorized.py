"""The validators of `govshare.standards.validators`, over whole columns with Polars.

Each function takes a Polars Series (the raw column, read as text) and returns a DataFrame of the same
height with three columns: `value` (the normalized value; null when rejected or blank), `error` (the
error code, null when accepted or blank) and `message` (the Chinese message of the error). The consistency
checks return a Series of warning codes. `validate_column` adds the three columns to a frame.

The work is done in stages (`with_columns` one after another) so that every intermediate column is
computed once: a single nested expression would re-evaluate shared sub-expressions at every use. Polars
runs each stage in Rust over Arrow buffers. The scalar functions are the reference; the tests hold both
to the same answer on a large random sample.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from govshare.standards import validators as ref
from govshare.standards.text import (
    ASCII_LOWER,
    ASCII_UPPER,
    FULLWIDTH,
    HALFWIDTH,
    WHITESPACE,
    WHITESPACE_CLASS,
)

TEXT = pl.String
C = pl.col


def _null(dtype: Any = TEXT) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _patch(series: pl.Series, rows: pl.Series, fix: Any) -> pl.Series:
    """`series` with `fix` applied to the rows where `rows` is true only: the common clean rows skip the
    costly rewrites (a rewrite over a whole column costs as much as the rest of a validator)."""
    index = rows.fill_null(False).arg_true()
    if index.len() == 0:
        return series
    fixed: pl.Series = fix(series.gather(index))
    return series.scatter(index, fixed)


def _text(series: pl.Series) -> pl.DataFrame:
    """Frame with `raw` (the input as text) and `t`: half-width, trimmed, blank as null."""
    raw = series.cast(TEXT)
    non_ascii = raw.str.len_bytes() != raw.str.len_chars()
    text = _patch(raw, non_ascii, lambda part: part.str.replace_many(FULLWIDTH, HALFWIDTH))
    return pl.DataFrame({"raw": raw, "t": text.str.strip_chars(WHITESPACE)}).with_columns(
        t=pl.when(C("t").str.len_bytes() > 0).then(C("t")).otherwise(_null())
    )


def _first_error(cases: list[tuple[pl.Expr, str]], text: str = "t") -> pl.Expr:
    """The first error whose condition holds, for non-blank values; null otherwise."""
    chain: Any = pl.when(C(text).is_null()).then(_null())
    for condition, code in cases:
        chain = chain.when(condition).then(pl.lit(code))
    result: pl.Expr = chain.otherwise(_null())
    return result


def _result(frame: pl.DataFrame, messages: dict[str, str] | None = None) -> pl.DataFrame:
    """The `value` and `error` columns of a staged frame, with the messages added."""
    table = messages or ref.MESSAGES
    return frame.select(
        C("value"),
        C("error"),
        message=C("error").replace_strict(table, default=None, return_dtype=TEXT),
    )


# --- 公民身份号码 ---------------------------------------------------------------------------------------


ID_SHAPE = r"^[0-9]{15}(?:[0-9]{2}[0-9X])?$"


def _id_check_tables() -> list[tuple[int, int, pl.Series]]:
    """(divisor, modulus, table) per chunk of the 17-digit body: the weighted digit sum of every value a
    chunk can take, so the sum is three table look-ups instead of seventeen digit extractions."""
    tables = []
    for start, size in ((0, 6), (6, 6), (12, 5)):
        values = pl.Series("v", range(10**size), dtype=pl.Int64)
        total = pl.Series("s", [0] * 10**size, dtype=pl.Int64)
        for offset in range(size):
            digit = (values // 10 ** (size - 1 - offset)) % 10
            total = total + digit * ref.ID_WEIGHTS[start + offset]
        tables.append((10 ** (17 - start - size), 10**size, total.cast(pl.Int16)))
    return tables


# Built at import: a lazily filled list raced when two threads validated at once (the collection
# pipeline transforms two chunks concurrently) and one saw it half-built.
_ID_TABLES: tuple[tuple[int, int, pl.Series], ...] = tuple(_id_check_tables())


_MONTH_DAYS = pl.Series("days", [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=pl.Int64)
_ID_CHECK_CHARS = pl.Series("check", list(ref.ID_CHECK), dtype=TEXT)


def _valid_ymd(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Whether integer year, month and day make a real Gregorian date."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    in_range = (month >= 1) & (month <= 12)
    days = pl.lit(_MONTH_DAYS).gather(pl.when(in_range).then(month).otherwise(0)) + (
        (month == 2) & leap
    ).cast(pl.Int64)
    return in_range & (day >= 1) & (day <= days)


def _id_stages(series: pl.Series, today: date | None) -> pl.DataFrame:
    frame = _text(series)
    text = frame.get_column("t")
    shaped = text.str.contains(ID_SHAPE)
    misshapen = ~shaped
    text = _patch(
        text,
        misshapen,
        lambda part: part.str.replace_all(WHITESPACE_CLASS, "").str.replace_all("x", "X", literal=True),
    )
    shaped = _patch(
        shaped, misshapen, lambda _: text.filter(misshapen.fill_null(False)).str.contains(ID_SHAPE)
    )
    frame = frame.with_columns(t=text, shaped=shaped).with_columns(length=C("t").str.len_chars())
    frame = frame.with_columns(
        is15=C("shaped") & (C("length") == 15), is18=C("shaped") & (C("length") == 18)
    ).with_columns(
        body=pl.when(C("is15"))
        .then(C("t").str.slice(0, 6) + "19" + C("t").str.slice(6))
        .when(C("is18"))
        .then(C("t").str.slice(0, 17))
        .otherwise(_null())
    )
    frame = frame.with_columns(number=C("body").cast(pl.Int64, strict=False)).with_columns(
        ymd=(C("number") // 1000) % 10**8
    )
    frame = frame.with_columns(year=C("ymd") // 10000, month=(C("ymd") // 100) % 100, day=C("ymd") % 100)
    total: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for divisor, modulus, table in _ID_TABLES:
        total = total + pl.lit(table).gather((C("number") // divisor) % modulus).cast(pl.Int64)
    limit = today or ref.today_in_beijing()
    frame = frame.with_columns(
        check=pl.lit(_ID_CHECK_CHARS).gather(total % 11),
        real=_valid_ymd(C("year"), C("month"), C("day")),
    )
    frame = frame.with_columns(
        error=_first_error(
            [
                (~C("shaped") & ~C("length").is_in([15, 18]), "id.length"),
                (~C("shaped"), "id.format"),
                (C("year") < 1900, "id.too_old"),
                (~C("real"), "id.date"),
                (C("ymd") > limit.year * 10000 + limit.month * 100 + limit.day, "id.future"),
                (C("is18") & (C("t").str.slice(17, 1) != C("check")), "id.check"),
            ]
        )
    )
    frame = frame.with_columns(
        value=pl.when(C("t").is_not_null() & C("error").is_null()).then(C("t")).otherwise(_null())
    )
    # An accepted 18-character number is its own normal form; only upgraded 15-digit ones are rebuilt.
    upgraded = frame.get_column("is15") & frame.get_column("error").is_null()
    value = _patch(
        frame.get_column("value"),
        upgraded,
        lambda _: frame.filter(upgraded.fill_null(False)).select(C("body") + C("check")).to_series(),
    )
    return frame.with_columns(value=value)


def id_number(series: pl.Series, *, today: date | None = None) -> pl.DataFrame:
    return _result(_id_stages(series, today))


# --- 统一社会信用代码 -----------------------------------------------------------------------------------


def uscc(series: pl.Series) -> pl.DataFrame:
    frame = _text(series).with_columns(
        t=C("t").str.replace_all(WHITESPACE_CLASS[:-1] + "-]", "").str.replace_many(ASCII_LOWER, ASCII_UPPER)
    )
    frame = frame.with_columns(
        length=C("t").str.len_chars(),
        well_formed=C("t").str.contains("^[" + ref.USCC_ALPHABET + "]{18}$"),
    )
    total: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for position, weight in enumerate(ref.USCC_WEIGHTS):
        digit = (
            C("t").str.slice(position, 1).replace_strict(ref.USCC_VALUES, default=0, return_dtype=pl.Int64)
        )
        total = total + digit * weight
    frame = frame.with_columns(
        check=((31 - total % 31) % 31).replace_strict(
            dict(enumerate(ref.USCC_ALPHABET)), default=None, return_dtype=TEXT
        )
    )
    frame = frame.with_columns(
        error=_first_error(
            [
                (C("length") != 18, "uscc.length"),
                (~C("well_formed"), "uscc.format"),
                (C("t").str.slice(17, 1) != C("check"), "uscc.check"),
            ]
        )
    )
    return _result(
        frame.with_columns(
            value=pl.when(C("t").is_not_null() & C("error").is_null()).then(C("t")).otherwise(_null())
        )
    )


# --- 电话号码 ------------------------------------------------------------------------------------------


def _strip_separators(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(ref.PHONE_SEPARATORS_CLASS, "")


def _with_mobile(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(mobile=_strip_separators(C("t")).str.extract(_anchored(ref.MOBILE.pattern), 1))


def _landline_reading(frame: pl.DataFrame, main: str, extension: str | None, out: str) -> pl.DataFrame:
    digits = _strip_separators(C(main)).str.extract_groups(_anchored(r"(?P<cc>\+86|0086)?(?P<n>[0-9]+)"))
    frame = frame.with_columns(_digits=digits).with_columns(
        _n=pl.when(
            C("_digits").struct.field("cc").is_not_null()
            & ~C("_digits").struct.field("n").str.starts_with("0")
        )
        .then("0" + C("_digits").struct.field("n"))
        .otherwise(C("_digits").struct.field("n"))
    )
    parts = C("_n").str.extract_groups(
        _anchored(r"(?P<area>0(?:10|2[0-9]|[3-9][0-9]{2}))(?P<local>[2-9][0-9]{6,7})")
    )
    frame = frame.with_columns(_parts=parts)
    found = C("_parts").struct.field("area") + "-" + C("_parts").struct.field("local")
    if extension is not None:
        found = pl.when(C(extension).is_not_null()).then(found + "-" + C(extension)).otherwise(found)
    return frame.with_columns(found.alias(out)).drop("_digits", "_n", "_parts")


def _with_landline(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(lowered=C("t").str.replace_many(ASCII_UPPER, ASCII_LOWER))
    readings = []
    for index, pattern in enumerate((ref.LANDLINE_EXTENSION, ref.LANDLINE_DASH_EXTENSION)):
        # The scalar patterns have two unnamed groups: the number, then the extension.
        groups = C("lowered").str.extract_groups(_anchored(pattern.pattern))
        frame = frame.with_columns(_g=groups).with_columns(
            _main=C("_g").struct.field("1"), _ext=C("_g").struct.field("2")
        )
        frame = _landline_reading(frame, "_main", "_ext", f"_reading{index}").drop("_g", "_main", "_ext")
        readings.append(f"_reading{index}")
    frame = _landline_reading(frame, "lowered", None, "_reading_whole")
    readings.append("_reading_whole")
    return frame.with_columns(landline=pl.coalesce(readings)).drop(readings)


def mobile(series: pl.Series) -> pl.DataFrame:
    frame = _with_mobile(_text(series)).with_columns(value=C("mobile"))
    return _result(frame.with_columns(error=_first_error([(C("value").is_null(), "phone.mobile")])))


def landline(series: pl.Series) -> pl.DataFrame:
    frame = _with_landline(_text(series)).with_columns(value=C("landline"))
    return _result(frame.with_columns(error=_first_error([(C("value").is_null(), "phone.landline")])))


def phone(series: pl.Series) -> pl.DataFrame:
    frame = _with_landline(_with_mobile(_text(series)))
    frame = frame.with_columns(value=pl.coalesce(C("mobile"), C("landline")))
    return _result(frame.with_columns(error=_first_error([(C("value").is_null(), "phone.invalid")])))


# --- 日期 ----------------------------------------------------------------------------------------------


def _date_stages(series: pl.Series) -> pl.DataFrame:
    frame = _text(series).with_columns(g=C("t").str.extract_groups(ref.DATE_PATTERN))

    def field(name: str) -> pl.Expr:
        return C("g").struct.field(name)

    frame = frame.with_columns(
        year=pl.coalesce(field("y1"), field("y2"), field("y3")),
        month=pl.coalesce(field("m1"), field("m2"), field("m3")),
        day=pl.coalesce(field("d1"), field("d2"), field("d3")),
        serial=field("serial").cast(pl.Int64, strict=False),
    )
    frame = frame.with_columns(
        calendar=(C("year") + C("month").str.zfill(2) + C("day").str.zfill(2)).str.to_date(
            "%Y%m%d", strict=False
        ),
        from_serial=pl.lit(ref.EXCEL_EPOCH)
        + pl.duration(
            days=pl.when(C("serial") > ref.EXCEL_LEAP_BUG).then(C("serial")).otherwise(C("serial") + 1)
        ),
    )
    frame = frame.with_columns(
        error=_first_error(
            [
                (C("year").is_null() & C("serial").is_null(), "date.format"),
                (C("serial").is_not_null() & (C("serial") < 1), "date.serial"),
                (C("serial") == ref.EXCEL_LEAP_BUG, "date.excel_bug"),
                (C("serial").is_null() & C("calendar").is_null(), "date.invalid"),
            ]
        )
    )
    return frame.with_columns(
        value=pl.when(C("t").is_null() | C("error").is_not_null())
        .then(_null(pl.Date))
        .when(C("serial").is_not_null())
        .then(C("from_serial"))
        .otherwise(C("calendar"))
    )


def parse_date(series: pl.Series) -> pl.DataFrame:
    return _result(_date_stages(series))


# --- 带单位的数值 ----------------------------------------------------------------------------------------


def parse_number(series: pl.Series, *, units: tuple[str, ...] = ref.DEFAULT_UNITS) -> pl.DataFrame:
    frame = _text(series).with_columns(
        g=C("t").str.replace_all(WHITESPACE_CLASS, "").str.extract_groups(ref.number_pattern(units))
    )
    frame = frame.with_columns(
        number=C("g")
        .struct.field("number")
        .str.replace_all(",", "", literal=True)
        .cast(pl.Float64, strict=False),
        multiplier=C("g")
        .struct.field("multiplier")
        .replace_strict(ref.MULTIPLIERS, default=1.0, return_dtype=pl.Float64)
        .fill_null(1.0),
        divisor=C("g")
        .struct.field("divisor")
        .replace_strict(ref.DIVISORS, default=1.0, return_dtype=pl.Float64)
        .fill_null(1.0),
        negative=C("g").struct.field("sign") == "-",
    )
    frame = frame.with_columns(magnitude=C("number") * C("multiplier") / C("divisor")).with_columns(
        value=pl.when(C("negative")).then(-C("magnitude")).otherwise(C("magnitude")),
        error=_first_error([(C("number").is_null(), "number.format")]),
    )
    return _result(frame)


# --- 文本 ----------------------------------------------------------------------------------------------


def _blank_as_null(column: str) -> pl.Expr:
    return pl.when(C(column).str.len_bytes() > 0).then(C(column)).otherwise(_null())


def clean_text(series: pl.Series, *, nfkc: bool = False, collapse: bool = True) -> pl.DataFrame:
    frame = _text(series)
    if nfkc:
        frame = frame.with_columns(t=C("t").str.normalize("NFKC").str.strip_chars(WHITESPACE)).with_columns(
            t=_blank_as_null("t")
        )
    if collapse:
        frame = frame.with_columns(t=C("t").str.replace_all(WHITESPACE_CLASS + "+", " "))
    return _result(frame.with_columns(value=C("t"), error=_null()))


def trimmed(series: pl.Series) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": series.cast(TEXT)}).with_columns(t=C("raw").str.strip_chars(WHITESPACE))
    return _result(frame.with_columns(value=_blank_as_null("t"), error=_null()))


# --- 代码集 --------------------------------------------------------------------------------------------


def in_code_set(series: pl.Series, table: ref.CodeTable) -> pl.DataFrame:
    frame = _text(series)
    if table.pad_width:
        short_number = C("t").str.contains(r"^[0-9]+$") & (C("t").str.len_chars() < table.pad_width)
        frame = frame.with_columns(
            t=pl.when(short_number).then(C("t").str.pad_start(table.pad_width, "0")).otherwise(C("t"))
        )
    by_alias = (
        C("t").replace_strict(table.aliases, default=None, return_dtype=TEXT) if table.aliases else _null()
    )
    frame = frame.with_columns(
        value=pl.when(C("t").is_in(list(table.codes))).then(C("t")).otherwise(by_alias)
    )
    frame = frame.with_columns(error=_first_error([(C("value").is_null(), "code.unknown")]))
    return _result(frame, {"code.unknown": table.message()})


# --- 一致性检查 ----------------------------------------------------------------------------------------


def sex_vs_id(sex: pl.Series, id_value: pl.Series, *, today: date | None = None) -> pl.Series:
    """warn.sex_id or null per row, as `validators.sex_vs_id`."""
    given = _text(sex).select(C("t").replace_strict(ref.SEX_CODES, default=None, return_dtype=TEXT))
    frame = pl.DataFrame(
        {"given": given.to_series(), "number": _id_stages(id_value, today).get_column("value")}
    )
    expected = (
        pl.when(C("number").str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
        .then(pl.lit("1"))
        .otherwise(pl.lit("2"))
    )
    mismatch = C("given").is_not_null() & C("number").is_not_null() & (C("given") != expected)
    return frame.select(warning=pl.when(mismatch).then(pl.lit("warn.sex_id")).otherwise(_null())).to_series()


def birth_vs_id(birth: pl.Series, id_value: pl.Series, *, today: date | None = None) -> pl.Series:
    """warn.birth_id or null per row, as `validators.birth_vs_id`."""
    frame = pl.DataFrame(
        {
            "born": _date_stages(birth).get_column("value"),
            "number": _id_stages(id_value, today).get_column("value"),
        }
    ).with_columns(id_date=C("number").str.slice(6, 8).str.to_date("%Y%m%d", strict=False))
    mismatch = C("born").is_not_null() & C("id_date").is_not_null() & (C("born") != C("id_date"))
    return frame.select(
        warning=pl.when(mismatch).then(pl.lit("warn.birth_id")).otherwise(_null())
    ).to_series()


def warning_messages(warnings: pl.Series) -> pl.Series:
    return warnings.replace_strict(ref.WARNINGS, default=None, return_dtype=TEXT)


def validate_column(
    frame: pl.DataFrame, column: str, checked: pl.DataFrame, *, out: str | None = None
) -> pl.DataFrame:
    """`frame` with a validator's result for `column` added as `out` (default `column`__value),
    `out`__error and `out`__message."""
    name = out or f"{column}__value"
    return frame.with_columns(
        checked.get_column("value").alias(name),
        checked.get_column("error").alias(f"{name}__error"),
        checked.get_column("message").alias(f"{name}__message"),
    )
