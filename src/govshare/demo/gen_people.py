"""People for the demo source generators (govshare.demo.sources), shared by the 公安 population register,
the 民政 subsistence roster and the legal representatives of the 市场监管 register: sex, birth date, name
and 公民身份号码, and the damage both person files suffer (wrong check digits, lowercase x, padded names,
a sex that contradicts the number)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from itertools import pairwise

import polars as pl

from govshare.demo.gen_common import (
    TEXT,
    C,
    Draws,
    dates_in_years,
    faulted,
    padded,
    stable_order,
    wrong_check,
)
from govshare.standards import validators

# (birth year, relative weight) anchors of a rough population pyramid; years between are interpolated.
BIRTH_YEAR_ANCHORS = (
    (1930, 0.1),
    (1940, 0.4),
    (1950, 0.9),
    (1955, 1.0),
    (1962, 1.6),
    (1970, 1.7),
    (1975, 1.4),
    (1980, 1.2),
    (1987, 1.6),
    (1990, 1.5),
    (1995, 1.1),
    (2000, 1.0),
    (2010, 1.0),
    (2016, 1.1),
    (2018, 0.9),
    (2020, 0.7),
    (2024, 0.55),
)
MALE_SHARE = 0.512

# (surname, per-mille) after the 2020 census ranking, compound surnames included.
SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (name, float(weight))
    for name, weight in (
        ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 21), ("赵", 20),
        ("吴", 19), ("周", 19), ("徐", 14), ("孙", 14), ("马", 13), ("朱", 12), ("胡", 11), ("郭", 11),
        ("何", 11), ("林", 10), ("高", 10), ("罗", 9), ("郑", 9), ("梁", 8), ("谢", 8), ("宋", 7),
        ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 6), ("曾", 5), ("肖", 5),
        ("田", 5), ("董", 5), ("袁", 5), ("潘", 5), ("于", 5), ("蒋", 5), ("蔡", 5), ("余", 5), ("杜", 4),
        ("叶", 4), ("程", 4), ("苏", 4), ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 4), ("姚", 4),
        ("卢", 4), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3),
        ("石", 3), ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("付", 3), ("方", 3), ("白", 3), ("邹", 3),
        ("孟", 3), ("熊", 3), ("秦", 3), ("邱", 3), ("江", 3), ("尹", 3), ("薛", 2), ("闫", 2), ("段", 2),
        ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2),
        ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2), ("覃", 1), ("武", 1), ("戴", 1),
        ("莫", 1), ("孔", 1), ("欧阳", 0.5), ("上官", 0.2), ("司马", 0.1), ("诸葛", 0.1), ("东方", 0.1),
    )
)  # fmt: skip
MALE_NAME_CHARS = "伟强磊军勇杰涛明超斌鹏辉华飞波刚平浩宇俊峰建国志文海林东晨阳轩博睿航泽铭凯鑫毅"
FEMALE_NAME_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳欣怡悦萱涵佳梦琪晶倩洁蕾薇雅秀英兰红萍梅月彤诗瑶"
SHARED_NAME_CHARS = "文晓小春秋思一嘉亦可安若子宁欣云"
SINGLE_NAME_SHARE = 0.25
# Name characters outside GBK: CJK extension A (in the BMP) and B–F (outside it). A GBK file cannot hold
# them: `write_csv(..., encoding="gbk")` writes "?" instead, as a GBK-only export does. GB18030 and UTF-8
# keep them.
RARE_NAME_CHARACTERS = ("䶮", "㛃", "𠀾", "𬌗", "𬇙", "𬣙", "𫖮")
RARE_NAME_RATE = 0.0005

# --- 性别, 出生日期 ------------------------------------------------------------------------------------


def sexes(draws: Draws, n: int, male_share: float = MALE_SHARE) -> pl.Series:
    """1 (male) or 2 (female), GB/T 2261.1."""
    return ((draws.unit(n) >= male_share).cast(pl.Int64) + 1).alias("sex")


@cache
def _year_weights() -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Birth years 1930–2024 with weights interpolated between BIRTH_YEAR_ANCHORS."""
    years: list[int] = []
    weights: list[float] = []
    for (y0, w0), (y1, w1) in pairwise(BIRTH_YEAR_ANCHORS):
        for year in range(y0, y1):
            years.append(year)
            weights.append(w0 + (w1 - w0) * (year - y0) / (y1 - y0))
    years.append(BIRTH_YEAR_ANCHORS[-1][0])
    weights.append(BIRTH_YEAR_ANCHORS[-1][1])
    return tuple(years), tuple(weights)


def births(draws: Draws, n: int) -> pl.Series:
    """Birth dates 1930-01-01 … 2024-12-31 following the population pyramid of BIRTH_YEAR_ANCHORS."""
    years, weights = _year_weights()
    return dates_in_years(draws, n, years, weights)


# --- 姓名 ----------------------------------------------------------------------------------------------


@cache
def _given_names() -> tuple[tuple[str, ...], dict[int, tuple[int, int, int]]]:
    """Every given name once, and per sex (1, 2) where its names start, how many first characters there
    are and how many last ones: two-character names (first × last), then one-character names (last)."""
    pool: list[str] = []
    layout: dict[int, tuple[int, int, int]] = {}
    for sex, firsts, lasts in (
        (1, MALE_NAME_CHARS + SHARED_NAME_CHARS, MALE_NAME_CHARS),
        (2, FEMALE_NAME_CHARS + SHARED_NAME_CHARS, FEMALE_NAME_CHARS),
    ):
        layout[sex] = (len(pool), len(firsts), len(lasts))
        pool.extend(first + last for first in firsts for last in lasts)
        pool.extend(lasts)
    return tuple(pool), layout


def names(draws: Draws, sex: pl.Series, surname: pl.Series | None = None) -> pl.Series:
    """Surname by frequency (unless given), then one or two characters from the pools of the person's sex
    (a quarter of the names have one); RARE_NAME_RATE of the names end in a character outside GBK. The
    given name is one gather from a pool of all of them: cheaper than building it per row."""
    n = sex.len()
    pool, layout = _given_names()
    frame = pl.DataFrame({"sex": sex, "u": draws.uint64(n)})
    start = C("sex").replace_strict({s: v[0] for s, v in layout.items()}, return_dtype=pl.UInt64)
    firsts = C("sex").replace_strict({s: v[1] for s, v in layout.items()}, return_dtype=pl.UInt64)
    lasts = C("sex").replace_strict({s: v[2] for s, v in layout.items()}, return_dtype=pl.UInt64)
    first = C("u") // 4 % firsts
    last = C("u") // 4 // firsts % lasts
    single = C("u") % 4 < round(4 * SINGLE_NAME_SHARE)
    one_character = firsts * lasts + last  # after the two-character names
    index = (start + pl.when(single).then(one_character).otherwise(first * lasts + last)).cast(pl.Int64)
    given = pl.Series(pool, dtype=TEXT).gather(frame.select(index).to_series())
    family = surname if surname is not None else draws.weighted(n, SURNAMES)
    result = family + given
    rare = (draws.unit(n) < RARE_NAME_RATE).arg_true()
    if rare.len():
        rare_char = draws.choice(rare.len(), RARE_NAME_CHARACTERS)
        kept = given.gather(rare).str.slice(0, given.gather(rare).str.len_chars() - 1)
        result = result.scatter(rare, family.gather(rare) + kept + rare_char)
    return result.alias("name")


# --- 公民身份号码 --------------------------------------------------------------------------------------


@cache
def _id_weights() -> tuple[int, ...]:
    """Per position of the 17-digit body, its weight modulo 11. The check digit is ID_CHECK[weighted sum
    mod 11], so a body with a single 1 reveals that position's weight through `id_check_digit` (read back
    from the reference validator)."""
    return tuple(
        validators.ID_CHECK.index(validators.id_check_digit("0" * p + "1" + "0" * (16 - p)))
        for p in range(17)
    )


def _id_check_char(body: pl.Expr) -> pl.Expr:
    """The check digit of 17-digit bodies given as integers."""
    terms = [(body // 10 ** (16 - p)) % 10 * w for p, w in enumerate(_id_weights())]
    return (pl.sum_horizontal(terms) % 11).replace_strict(
        dict(enumerate(validators.ID_CHECK)), return_dtype=TEXT
    )


def _rank_within(key: pl.Series) -> pl.Series:
    """Each row's 0-based position among the rows with the same key, in row order (a stable sort is
    cheaper than a window over groups)."""
    order = stable_order(key)
    ordered = pl.DataFrame({"key": key.gather(order)}).with_row_index("i")
    start = pl.when(C("key") != C("key").shift(1)).then(C("i")).forward_fill().fill_null(0)
    rank = ordered.select((C("i") - start).alias("rank")).to_series()
    return pl.zeros(key.len(), dtype=pl.UInt32, eager=True).scatter(order, rank).cast(pl.Int64)


def id_numbers(region: pl.Series, birth: pl.Series, sex: pl.Series) -> pl.Series:
    """18-character numbers: address code, birth date, a 3-digit sequence number whose last digit is odd
    for men and even for women, and the check digit. Sequence numbers are unique per (address, date,
    sex), as the police assign them, so no two people share a number."""
    frame = pl.DataFrame({"region": region.cast(pl.Int64), "days": birth.cast(pl.Int64), "sex": sex})
    key = frame.select((C("region") * 4 + C("sex")) * 100_000 + C("days") + 50_000).to_series()
    frame = frame.with_columns(rank=_rank_within(key))
    if frame.height and frame.get_column("rank").max() >= 500:  # type: ignore[operator]
        raise ValueError("more than 500 people of one sex born on one day in one county")
    # A fixed scramble per group so that sequence numbers do not all start at 000; 37 is coprime with 500.
    scramble = (C("region") * 7 + C("days") * 13) % 500
    day = C("days").cast(pl.Date)
    ymd = day.dt.year().cast(pl.Int64) * 10_000 + day.dt.month().cast(pl.Int64) * 100 + day.dt.day()
    seq = ((scramble + C("rank") * 37) % 500) * 2 + (C("sex") == 1).cast(pl.Int64)
    body = frame.select((C("region") * 10**11 + ymd * 1000 + seq).alias("body"))
    return body.select(
        (C("body").cast(TEXT).str.zfill(17) + _id_check_char(C("body"))).alias("id")
    ).to_series()


# --- 故障 ----------------------------------------------------------------------------------------------


def ends_in_x(frame: pl.DataFrame) -> pl.Series:
    """Rows whose 公民身份号码 ends in X: only these can show the fault lowercase_x."""
    return frame.get_column("gmsfhm").str.ends_with("X")


def person_damage(id_faults: Mapping[str, pl.Expr | None]) -> dict[str, pl.Expr]:
    """For `damage`, what both person files suffer: 公民身份号码 with a wrong check digit (check_digit), a
    lowercase x (lowercase_x) or as `id_faults` say; 姓名 with stray spaces (padded_name); 性别 the other
    one (sex_mismatch)."""
    idn = C("gmsfhm")
    return {
        "gmsfhm": faulted(
            "gmsfhm",
            {
                "check_digit": wrong_check(idn, validators.ID_CHECK, C("v")),
                "lowercase_x": idn.str.to_lowercase(),
                **id_faults,
            },
        ),
        "xm": faulted("xm", {"padded_name": padded(C("xm"), C("w"))}),
        "sex": faulted("sex", {"sex_mismatch": 3 - C("sex")}),
    }
