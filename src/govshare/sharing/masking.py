"""Masking (脱敏) of data items in data-API responses and exports, by the catalog mask rule of each item.

The rules are the values of `govshare.catalog.vocabulary.MaskRule`. Lengths count characters (code
points), not bytes, and every masked character becomes ``*``:

- ``none``: the value is returned unchanged.
- ``id_number``: more than 10 characters keep the first 6 and the last 4 (``110105********0123``);
  3-10 characters keep only the last 2; 1-2 characters are all stars.
- ``mobile``: more than 7 characters keep the first 3 and the last 4 (``138****8000``); 3-7 characters
  keep only the last 2; 1-2 characters are all stars. A ``+86``/``86-`` prefix is just part of the text.
- ``name``: keep the first character (``张*``, ``欧***``); a single character becomes ``*``.
- ``partial``: keep the first and the last ceil(n/4) characters of n; 1-2 characters are all stars.
- ``hide``: always the fixed ``******`` so that the length does not leak.

``None`` stays ``None`` and ``""`` stays ``""`` under every rule. Other values (numbers, dates, booleans)
are unchanged under ``none``, ``******`` under ``hide`` and otherwise masked as the text ``str(value)``.
An unknown rule name is a programming error and raises `ValueError`.

A mask must also hold against the other items of the same grant. `harden` is the one place that decides
it: given the kinds of facts the grant's clear items reveal (`reveals`: a birth date, a sex, a region code,
a mobile number's prefix), it swaps a rule whose hidden part those facts would fill in for its strict form:

- ``id_number_strict`` (``id_number`` when a birth date, age or birth year is in clear): more than 10
  characters keep only the first 6 (the region, ``110105************``); shorter ones as ``id_number``.
  Of an 18-digit number the birth date is then known, the 3 sequence digits are not (the sex halves
  them) and the check digit follows from the rest, so at least 500 numbers fit what the caller sees; the
  old form would have left one (the birth date was all it hid).
- ``mobile_strict`` (``mobile`` when a 号段 or 归属地 is in clear, which gives the first 7 digits): more
  than 7 characters keep only the first 3 (``138********``), so the last 4 digits (10,000 values) stay
  hidden; shorter ones as ``mobile``.

`mask_frame` does the same with Polars expressions on whole columns (the export path). Masked columns
come out as ``pl.String`` holding the text Python's ``str`` gives for the value Polars hands back for the
cell: ISO dates, ``2024-01-02 03:04:05[.123456][+08:00]`` datetimes, ``True``/``False``, integer digits
and floats in Python's ``repr`` form (Float32 values are widened to Float64 first, as Polars does when
returning them to Python). Types not listed (Decimal, Duration, Binary, ...) use Polars' own cast to
String, which may differ from ``str``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import polars as pl

__all__ = [
    "BIRTH_DATE",
    "HIDDEN",
    "MOBILE_PREFIX",
    "REGION",
    "RULES",
    "SEX",
    "STRICT",
    "harden",
    "is_rule",
    "mask_frame",
    "mask_record",
    "mask_value",
    "reveals",
]

RULES: frozenset[str] = frozenset({"none", "id_number", "mobile", "name", "partial", "hide"})
# What a clear item can tell about another item's value.
BIRTH_DATE, SEX, REGION, MOBILE_PREFIX = "birth_date", "sex", "region", "mobile_prefix"
# rule -> (the facts that would fill in what the rule hides, the rule used instead when one is in clear)
STRICT: dict[str, tuple[frozenset[str], str]] = {
    "id_number": (frozenset({BIRTH_DATE}), "id_number_strict"),
    "mobile": (frozenset({MOBILE_PREFIX}), "mobile_strict"),
}
_ALL_RULES = RULES | {strict for _, strict in STRICT.values()}
HIDDEN = "******"
_STAR = "*"


def is_rule(name: object) -> bool:
    """Whether `name` is one of the mask rules."""
    return isinstance(name, str) and name in RULES


def reveals(name: str, data_type: str, standard_ref: str | None) -> frozenset[str]:
    """The facts an item shown in clear gives away about the other items of its record, by its name, data
    type and standard. Erring on the side of more: a grant with any birth date in clear hardens every
    identity number of the grant, since nothing says whose date it is."""
    standard = (standard_ref or "").replace(" ", "").upper()
    found: set[str] = set()
    if any(word in name for word in ("出生日期", "出生年", "年龄")) or (
        "出生" in name and data_type in ("D", "T")
    ):
        found.add(BIRTH_DATE)
    if name.endswith("性别") or standard.startswith("GB/T2261.1"):
        found.add(SEX)
    if "行政区划" in name or standard.startswith("GB/T2260") or name in ("出生地", "籍贯"):
        found.add(REGION)
    if "号段" in name or "归属地" in name:
        found.add(MOBILE_PREFIX)
    return frozenset(found)


def harden(rules: Mapping[str, str], revealed: Collection[str]) -> dict[str, str]:
    """`rules` with each rule whose hidden part the `revealed` facts fill in replaced by its strict form."""
    known = set(revealed)
    out = {}
    for name, rule in rules.items():
        danger, strict = STRICT.get(rule, (frozenset(), rule))
        out[name] = strict if danger & known else rule
    return out


def _check(rule: object) -> None:
    if not (isinstance(rule, str) and rule in _ALL_RULES):
        raise ValueError(f"unknown mask rule {rule!r}; expected one of {sorted(RULES)}")


def _kept(rule: str, n: int) -> tuple[int, int]:
    """How many leading and trailing characters of an n-character text stay visible."""
    if rule in ("id_number", "id_number_strict"):
        return ((6, 4) if rule == "id_number" else (6, 0)) if n > 10 else (0, 2) if n > 2 else (0, 0)
    if rule in ("mobile", "mobile_strict"):
        return ((3, 4) if rule == "mobile" else (3, 0)) if n > 7 else (0, 2) if n > 2 else (0, 0)
    if rule == "name":
        return (1, 0) if n > 1 else (0, 0)
    if rule == "partial":
        k = (n + 3) // 4
        return (k, k) if n > 2 else (0, 0)
    raise AssertionError(rule)  # pragma: no cover - callers handle none/hide


def _mask_text(rule: str, text: str) -> str:
    n = len(text)
    head, tail = _kept(rule, n)
    return text[:head] + _STAR * (n - head - tail) + text[n - tail :]


def mask_value(rule: str, value: object) -> object:
    """The value as shown under `rule` (see the module docstring)."""
    _check(rule)
    if value is None or rule == "none":
        return value
    if rule == "hide":
        return "" if isinstance(value, str) and value == "" else HIDDEN
    return _mask_text(rule, value if isinstance(value, str) else str(value))


def mask_record(
    record: Mapping[str, object], rules: Mapping[str, str], clear: Collection[str] = ()
) -> dict[str, object]:
    """A new dict with every key of `record`, masked by ``rules.get(key, "none")`` unless in `clear`.

    Every rule in `rules` is checked, so a misspelt rule fails even when its key is absent."""
    for rule in rules.values():
        _check(rule)
    return {
        key: value if key in clear else mask_value(rules.get(key, "none"), value)
        for key, value in record.items()
    }


# --- Polars ------------------------------------------------------------------------------------------


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """`expr` as text, the same as ``str()`` of the Python value Polars returns for the cell."""
    if dtype == pl.String:
        return expr
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("True")).when(expr.not_()).then(pl.lit("False"))
    if dtype == pl.Date:
        return expr.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        text = expr.dt.to_string("%Y-%m-%d %H:%M:%S%.6f").str.strip_suffix(".000000")
        if dtype.time_zone is not None:
            # Python shows the UTC offset's seconds only when they are not zero (LMT offsets).
            offset = expr.dt.to_string("%::z").str.strip_suffix(":00")
            text = pl.concat_str([text, offset])
        return text
    if dtype == pl.Time:
        return expr.dt.to_string("%H:%M:%S%.6f").str.strip_suffix(".000000")
    if dtype.is_float():
        # Polars' shortest round-trip digits equal Python's repr; only the layout differs: Python
        # writes exponents with at least two digits and switches to exponent form below 1e-4.
        text = expr.cast(pl.Float64).cast(pl.String)
        text = text.str.replace(r"e-(\d)$", "e-0${1}")
        text = text.str.replace(r"^(-?)0\.0000(\d)$", "${1}${2}e-05")
        text = text.str.replace(r"^(-?)0\.0000(\d)(\d+)$", "${1}${2}.${3}e-05")
        return pl.when(text == "NaN").then(pl.lit("nan")).otherwise(text)
    return expr.cast(pl.String)


def _mask_expr(rule: str, text: pl.Expr) -> pl.Expr:
    """Vectorised `mask_value` for a String expression (rule neither none nor hide)."""
    n = text.str.len_chars().cast(pl.Int64)
    zero = pl.lit(0, dtype=pl.Int64)
    head: pl.Expr
    tail: pl.Expr
    if rule in ("id_number", "id_number_strict"):
        head = pl.when(n > 10).then(6).otherwise(zero)
        tail = pl.when(n > 10).then(4 if rule == "id_number" else 0).when(n > 2).then(2).otherwise(zero)
    elif rule in ("mobile", "mobile_strict"):
        head = pl.when(n > 7).then(3).otherwise(zero)
        tail = pl.when(n > 7).then(4 if rule == "mobile" else 0).when(n > 2).then(2).otherwise(zero)
    elif rule == "name":
        head = pl.when(n > 1).then(1).otherwise(zero)
        tail = zero
    elif rule == "partial":
        head = pl.when(n > 2).then((n + 3) // 4).otherwise(zero)
        tail = head
    else:  # pragma: no cover - callers handle none/hide
        raise AssertionError(rule)
    # pad_start of an empty string builds the run of stars; never let a negative length through.
    stars = text.str.head(0).str.pad_start((n - head - tail).clip(lower_bound=0), _STAR)
    return pl.concat_str([text.str.head(head), stars, text.str.tail(tail)])


def mask_frame(frame: pl.DataFrame, rules: Mapping[str, str], clear: Collection[str] = ()) -> pl.DataFrame:
    """`frame` with each column masked by ``rules.get(name, "none")`` unless in `clear`.

    Cell by cell the result equals `mask_value`; masked columns become ``pl.String``, the others and the
    column order are untouched. Every rule in `rules` is checked, as in `mask_record`."""
    for rule in rules.values():
        _check(rule)
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        rule = rules.get(name, "none")
        if rule == "none" or name in clear:
            continue
        text = _as_text(pl.col(name), dtype)
        if rule == "hide":
            masked = (
                pl.when(text.is_null())
                .then(pl.lit(None, dtype=pl.String))
                .when(text == "")
                .then(pl.lit(""))
                .otherwise(pl.lit(HIDDEN))
            )
        else:
            masked = _mask_expr(rule, text)
        exprs.append(masked.cast(pl.String).alias(name))
    return frame.with_columns(exprs) if exprs else frame
