"""What every demo source generator (govshare.demo.sources) shares: column shorthands, the seeded random
numbers (`Draws`), random dates, and the fault machinery (which rows get which fault, superseded records,
rewriting the faulted rows, blank rows, fault labels)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import accumulate
from typing import Literal

import polars as pl

C = pl.col
TEXT = pl.String
SexCoding = Literal["gb", "ga", "text"]
SEX_CODINGS: dict[str, tuple[str, str]] = {"gb": ("1", "2"), "ga": ("0", "1"), "text": ("男", "女")}
FAULT_COLUMN = "_fault"
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%d %H:%M:%S"


def words(text: str) -> tuple[str, ...]:
    """The space-separated words of `text` (long word lists read better as one string)."""
    return tuple(text.split())


# --- 随机数 --------------------------------------------------------------------------------------------


GOLDEN_GAMMA = 0x9E3779B97F4A7C15  # SplitMix64 (Steele, Lea & Flood 2014)
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB


class Draws:
    """Uniform random numbers a whole column at a time.

    Each call opens a new stream: a 64-bit key from a seeded Mersenne Twister, then SplitMix64 over the row
    numbers, computed by Polars in wrapping 64-bit integer arithmetic. The same seed gives the same values
    on every machine, Polars version and thread count, at about 20 ms per 2,000,000 values. Streams are
    opened in call order, so callers draw in a fixed order."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)  # noqa: S311 - demo data, not secrets

    def uint64(self, n: int) -> pl.Series:
        """n integers in [0, 2**64)."""
        key = self._random.getrandbits(64)
        z = pl.int_range(n, eager=True, dtype=pl.UInt64) * _u64(GOLDEN_GAMMA) + _u64(key)
        z = (z ^ (z // 2**30)) * _u64(MIX_1)
        z = (z ^ (z // 2**27)) * _u64(MIX_2)
        return z ^ (z // 2**31)

    def uint(self, n: int) -> pl.Series:
        """n integers in [0, 2**32)."""
        return (self.uint64(n) // 2**32).cast(pl.Int64)

    def below(self, n: int, bound: int) -> pl.Series:
        """n integers in [0, bound) (the modulo bias of 64-bit values is negligible)."""
        return (self.uint64(n) % bound).cast(pl.Int64)

    def unit(self, n: int) -> pl.Series:
        """n floats in [0, 1), 53 bits of precision."""
        return (self.uint64(n) // 2**11) / 2.0**53

    def weighted(self, n: int, pairs: Sequence[tuple[str, float]]) -> pl.Series:
        """n values of (value, weight) pairs drawn with replacement by weight."""
        return self.choice(n, [value for value, _ in pairs], [weight for _, weight in pairs])

    def choice(self, n: int, values: Sequence[str], weights: Sequence[float] | None = None) -> pl.Series:
        """n values drawn with replacement, by relative weight (uniform without weights)."""
        pool = pl.Series(values=list(values), dtype=TEXT)
        if weights is None:
            return pool.gather(self.below(n, len(values)))
        return pool.gather(weighted_index(self.unit(n), weights))


def _u64(value: int) -> pl.Series:
    return pl.Series([value], dtype=pl.UInt64)


def weighted_index(u: pl.Series, weights: Sequence[float]) -> pl.Series:
    """The index of the slice of [0, 1) that each u falls into, slices as wide as the weights."""
    total = float(sum(weights))
    bounds = pl.Series([x / total for x in accumulate(weights)][:-1], dtype=pl.Float64)
    found = bounds.search_sorted(u, side="right")
    assert isinstance(found, pl.Series)
    return found


def stable_order(values: pl.Series) -> pl.Series:
    """The row indexes that sort `values`, equal values kept in row order."""
    return values.to_frame("key").select(pl.arg_sort_by("key", maintain_order=True)).to_series()


# --- 日期 ----------------------------------------------------------------------------------------------


def day_of_year(year: pl.Series, u: pl.Series) -> pl.Series:
    """A uniform day of each year (u in [0, 1) picks it)."""
    frame = pl.DataFrame({"y": year, "u": u}).with_columns(start=pl.date(C("y"), 1, 1))
    length = (pl.date(C("y") + 1, 1, 1) - C("start")).dt.total_days()
    days = C("start").cast(pl.Int32) + (C("u") * length).cast(pl.Int32)
    return frame.select(days.cast(pl.Date).alias("date")).to_series()


def dates_in_years(draws: Draws, n: int, years: Sequence[int], weights: Sequence[float]) -> pl.Series:
    """n dates: a year drawn by weight, then a uniform day of it."""
    year = pl.Series(years, dtype=pl.Int32).gather(weighted_index(draws.unit(n), weights))
    return day_of_year(year, draws.unit(n))


def dates_between(draws: Draws, n: int, first: date, last: date) -> pl.Series:
    """n dates uniform from first to last inclusive."""
    start = (first - date(1970, 1, 1)).days
    span = (last - first).days + 1
    return (draws.below(n, span) + start).cast(pl.Int32).cast(pl.Date).alias("date")


def timestamps(draws: Draws, n: int, first: datetime, last: datetime) -> pl.Series:
    """n datetimes uniform from first to last, to the second."""
    start = int((first - datetime(1970, 1, 1)).total_seconds())
    span = int((last - first).total_seconds())
    return pl.from_epoch(draws.below(n, span) + start, time_unit="s").alias("time")


# --- 故障 ----------------------------------------------------------------------------------------------


def assign_faults(draws: Draws, rows: int, rates: Mapping[str, float], enabled: bool) -> pl.Series:
    """One fault name per row, or null. The rows are put in a random order and cut into consecutive runs
    as long as rate × rows, so every fault gets round(rate × rows) rows (give or take one) and a small
    demo file still shows each kind once the rate allows it; the faults are disjoint."""
    order = stable_order(draws.uint64(rows))
    position = pl.zeros(rows, dtype=pl.Float64, eager=True).scatter(order, pl.int_range(rows, eager=True))
    if not enabled:
        return pl.Series(FAULT_COLUMN, [None] * rows, dtype=TEXT)
    names = [*rates, None]
    share = (position + 0.5) / max(rows, 1)
    index = weighted_index(share, [*rates.values(), 1.0 - sum(rates.values())])
    return pl.Series(FAULT_COLUMN, names, dtype=TEXT).gather(index)


def fault_counts(frame: pl.DataFrame) -> dict[str, int]:
    """Rows per fault of a frame made with `label_faults=True`, largest first."""
    counts = frame.get_column(FAULT_COLUMN).drop_nulls().value_counts(sort=True)
    return {str(name): int(count) for name, count in counts.iter_rows()}


def drop_label(fault: pl.Series, label: str, shows: pl.Series) -> pl.Series:
    """`fault` without `label` on the rows where that fault could not show (`shows` false): they stay
    clean."""
    return fault.set(((fault == label) & ~shows).fill_null(False), None)


def supersede(
    frame: pl.DataFrame, fault: pl.Series, draws: Draws, *, changed: Sequence[str], cursor: str
) -> tuple[pl.DataFrame, pl.Series]:
    """Rows labelled "superseded" become a later record of an earlier clean row: they take all its columns
    (the key among them) except the `changed` ones, which keep the row's own values (a new address, a new
    amount …), and the `cursor`, which becomes the earlier row's plus 1–365 days. A label with no clean
    row above it is dropped."""
    identity = [name for name in frame.columns if name not in {*changed, cursor}]
    positions = (fault == "superseded").fill_null(False).arg_true()
    clean = fault.is_null().arg_true()
    above = clean.search_sorted(positions)
    assert isinstance(above, pl.Series)
    u = draws.uint(positions.len())
    usable = above > 0
    fault = fault.scatter(positions.filter(~usable), None)
    positions, u, above = positions.filter(usable), u.filter(usable), above.filter(usable)
    source = clean.gather(u % above)
    index = pl.int_range(frame.height, eager=True, dtype=pl.UInt32).scatter(positions, source)
    later = pl.zeros(frame.height, dtype=pl.Int64, eager=True).scatter(positions, u % 365 + 1)
    moved = frame.select(C(identity).gather(index), C(cursor).gather(index) + pl.duration(days=pl.lit(later)))
    return frame.with_columns(moved), fault


def damage(
    frame: pl.DataFrame, fault: pl.Series, draws: Draws, columns: Mapping[str, pl.Expr]
) -> pl.DataFrame:
    """`frame` with `columns` recomputed on the faulted rows only: the expressions see the row's `fault`
    label and the draws `v` (0–9), `w` (0–3) and `k` (0–29) for choosing a variant. The clean majority
    never pays for the rewrites."""
    index = fault.is_not_null().arg_true()
    if index.len() == 0:
        return frame
    n = index.len()
    part = frame[index].with_columns(
        fault=fault.gather(index), v=draws.below(n, 10), w=draws.below(n, 4), k=draws.below(n, 30)
    )
    fixed = part.select(**columns)
    return frame.with_columns(
        frame.get_column(name).scatter(index, fixed.get_column(name)) for name in columns
    )


def faulted(column: str, damaged: Mapping[str, pl.Expr | None]) -> pl.Expr:
    """For `damage`: `column` as the row's fault label leaves it, damaged[label] (None empties the value)
    on rows with one of those labels, the value unchanged on the others."""
    value = C(column)
    for label, replacement in reversed(list(damaged.items())):
        value = pl.when(C("fault") == label).then(replacement).otherwise(value)
    return value


def pick(variant: pl.Expr, options: Sequence[pl.Expr]) -> pl.Expr:
    """options[variant], and the last option for every variant beyond the others."""
    chosen = options[-1]
    for index in reversed(range(len(options) - 1)):
        chosen = pl.when(variant == index).then(options[index]).otherwise(chosen)
    return chosen


def wrong_char(correct: pl.Expr, alphabet: str, shift: pl.Expr) -> pl.Expr:
    """Another character of `alphabet` than `correct` (shift in 0 … len−2)."""
    index = correct.replace_strict({c: i for i, c in enumerate(alphabet)}, return_dtype=pl.Int64)
    others = dict(enumerate(alphabet))
    return ((index + 1 + shift) % len(alphabet)).replace_strict(others, return_dtype=TEXT)


def wrong_check(code: pl.Expr, alphabet: str, shift: pl.Expr) -> pl.Expr:
    """18-character codes whose last (check) character is replaced by another of `alphabet`."""
    return code.str.slice(0, 17) + wrong_char(code.str.slice(17, 1), alphabet, shift)


# A date as other systems write it: strftime formats, None for an Excel serial.
DateWriting = tuple[str | None, ...]
OTHER_DATE_WRITINGS: DateWriting = ("%Y%m%d", "%Y/%-m/%-d", "%Y年%-m月%-d日", None)


def date_variants(day: pl.Expr, variant: pl.Expr, writings: DateWriting = OTHER_DATE_WRITINGS) -> pl.Expr:
    """A date as other systems write it, writings[variant]: by default 20200102, 2020/1/2, 2020年1月2日 or
    an Excel serial (1900 date system: serial 25569 is 1970-01-01)."""
    return pick(
        variant,
        [
            (day.cast(pl.Int32) + 25569).cast(TEXT) if writing is None else day.dt.strftime(writing)
            for writing in writings
        ],
    )


def padded(text: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """Text with stray white space around it, as typed or pasted."""
    return pick(variant, [" " + text, text + " ", "\u3000" + text, " " + text + "  "])


def _blank_rows(frame: pl.DataFrame, fault: pl.Series) -> pl.DataFrame:
    """Rows labelled blank_row emptied in every column (as left between blocks of a spreadsheet)."""
    blank = pl.lit((fault == "blank_row").fill_null(False))
    return frame.with_columns(
        pl.when(blank).then(None).otherwise(C(name)).alias(name) for name in frame.columns
    )


def finish(frame: pl.DataFrame, fault: pl.Series, columns: Sequence[str], label: bool) -> pl.DataFrame:
    """The source columns (blank rows emptied) and, if asked, the fault labels."""
    result = _blank_rows(frame.select(columns), fault)
    return result.with_columns(fault.alias(FAULT_COLUMN)) if label else result


def coded_sex(sex: pl.Expr, coding: str) -> pl.Expr:
    if coding not in SEX_CODINGS:
        raise ValueError(f"sex_coding must be one of {', '.join(SEX_CODINGS)}, not {coding!r}")
    male, female = SEX_CODINGS[coding]
    return pl.when(sex == 1).then(pl.lit(male)).otherwise(pl.lit(female))
