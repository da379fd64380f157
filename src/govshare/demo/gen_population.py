"""人口基本信息 (公安) for the demo source files (govshare.demo.sources): the household register's export,
people with codes that depend on their age, and its faults."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from itertools import accumulate

import polars as pl

from govshare.demo.gen_city import (
    CITY_NAME,
    INSTITUTIONS,
    MIGRANT_SHARE,
    WORKPLACE_TRADES,
    WORKPLACE_WORDS,
    addresses,
    county_codes,
    regions,
)
from govshare.demo.gen_common import (
    ISO_DATE,
    ISO_DATETIME,
    TEXT,
    C,
    Draws,
    SexCoding,
    assign_faults,
    coded_sex,
    damage,
    date_variants,
    drop_label,
    faulted,
    finish,
    pick,
    supersede,
)
from govshare.demo.gen_people import births, ends_in_x, id_numbers, names, person_damage, sexes

POPULATION_COLUMNS = (
    "公民身份号码", "姓名", "性别", "民族", "出生日期", "出生地", "籍贯", "户籍地址", "户籍地行政区划",
    "文化程度", "婚姻状况", "兵役状况", "服务处所", "人口状态", "更新时间",
)  # fmt: skip
# 故障率: the share of rows drawn for each fault; at most one fault per row.
POPULATION_FAULT_RATES: dict[str, float] = {
    "check_digit": 0.002,  # 公民身份号码 with a wrong check digit: rejected (id.check)
    "id15": 0.003,  # a 15-digit first-generation number: valid, upgraded (drawn rows born 2000+ stay clean)
    "fullwidth": 0.001,  # full-width digits: valid after normalization
    "lowercase_x": 0.02,  # a lowercase x: valid; only numbers ending in X (1 in 11) show it, so ~0.18%
    "id_spaces": 0.001,  # "330602 19850312 1234": valid after normalization
    "blank_row": 0.001,  # every column empty
    "superseded": 0.01,  # an earlier clean person again, later 更新时间, another address: collapses by key
    "impossible_date": 0.0005,  # 出生日期 like 2021-02-30: rejected (date.invalid)
    "date_format": 0.03,  # 出生日期 as 20200102, 2020/1/2, 2020年1月2日 or an Excel serial: valid
    "unknown_ethnicity": 0.0005,  # 民族 not in GB 3304 (00, 59, 99): rejected by the code set
    "sex_mismatch": 0.001,  # 性别 contradicts the ID's 17th digit: a warning (sex_vs_id), not a rejection
    "birth_mismatch": 0.0005,  # 出生日期 a few days off the ID's date: a warning (birth_vs_id)
    "padded_name": 0.005,  # 姓名 with leading/trailing (also full-width) spaces: valid after `text`
    "missing_id": 0.0005,  # 公民身份号码 empty, the rest present: rejected (key required)
}

REFERENCE_YEAR = 2025  # ages are counted at this year, so the rows never depend on today's date
# GB 3304 code → per-mille (national shares, 汉族 dominant; the rest share the remainder evenly).
ETHNICITY_WEIGHTS = {
    "01": 960.0, "08": 6.0, "03": 4.0, "11": 4.0, "05": 4.0, "06": 3.0, "07": 3.0, "15": 3.0, "04": 2.0,
    "02": 2.0, "12": 1.5, "09": 1.0, "10": 0.8, "13": 0.6, "14": 0.6,
}  # fmt: skip
UNKNOWN_ETHNICITIES = ("00", "59", "99")

# --- 年龄相关的代码 ------------------------------------------------------------------------------------

Distribution = tuple[tuple[str | None, float], ...]
MARITAL_BY_AGE: tuple[tuple[int, Distribution], ...] = (  # GB/T 2261.2
    (20, (("10", 1.0),)),
    (30, (("10", 55.0), ("20", 40.0), ("21", 2.0), ("40", 3.0))),
    (60, (("10", 6.0), ("20", 80.0), ("22", 4.0), ("30", 2.0), ("40", 8.0))),
    (999, (("10", 2.0), ("20", 68.0), ("22", 2.0), ("30", 25.0), ("40", 3.0))),
)
# GB/T 4658-2006: 11 博士 14 硕士 21 本科 31 专科 41 中专 61 高中 71 初中 81 小学毕业 90 其他; pupils
# 80 小学 70 初中 60 高中 40 中职 (教育); none under 6.
EDUCATION_BY_AGE: tuple[tuple[int, Distribution], ...] = (
    (6, ((None, 1.0),)),
    (12, (("80", 1.0),)),
    (15, (("70", 1.0),)),
    (18, (("60", 70.0), ("40", 30.0))),
    (46, (("11", 1.0), ("14", 5.0), ("21", 22.0), ("31", 22.0), ("41", 15.0), ("61", 15.0), ("71", 20.0))),
    (66, (("14", 2.0), ("21", 12.0), ("31", 12.0), ("41", 10.0), ("61", 25.0), ("71", 35.0), ("81", 4.0))),
    (999, (("21", 2.0), ("31", 3.0), ("41", 5.0), ("61", 15.0), ("71", 35.0), ("81", 30.0), ("90", 10.0))),
)
# 公安 codes without a national standard in the catalog: 兵役状况 1 未服兵役 2 退出现役; 人口状态 10 正常
# 20 死亡 30 迁出.
SERVICE_BY_AGE: tuple[tuple[int, Distribution], ...] = (
    (18, ((None, 1.0),)),
    (999, (("1", 95.0), ("2", 5.0))),
)
SERVICE_FEMALE: tuple[tuple[int, Distribution], ...] = ((18, ((None, 1.0),)), (999, (("1", 1.0),)))
STATUS_BY_AGE: tuple[tuple[int, Distribution], ...] = (
    (60, (("10", 99.0), ("30", 1.0))),
    (999, (("10", 93.0), ("20", 6.5), ("30", 0.5))),
)


def _by_age(age: pl.Series, u: pl.Series, bands: Sequence[tuple[int, Distribution]]) -> pl.Series:
    """A code drawn from the distribution of each person's age band; bands are (upper age, exclusive,
    distribution) in increasing order. One sorted search does it all: band b's codes own consecutive
    slices of [b, b + 1), and band + u falls into exactly one of them."""
    band = pl.Series([upper for upper, _ in bands], dtype=pl.Int64).search_sorted(age, side="right")
    assert isinstance(band, pl.Series)
    edges: list[float] = []
    codes: list[str | None] = []
    for b, (_, distribution) in enumerate(bands):
        total = sum(weight for _, weight in distribution)
        shares = list(accumulate(weight / total for _, weight in distribution))
        edges.extend(b + share for share in shares[:-1])
        edges.append(b + 1.0)
        codes.extend(code for code, _ in distribution)
    slot = pl.Series(edges, dtype=pl.Float64).search_sorted(band.cast(pl.Float64) + u, side="right")
    assert isinstance(slot, pl.Series)
    return pl.Series(codes, dtype=TEXT).gather(slot.clip(upper_bound=len(codes) - 1))


def _service(sex: pl.Series, age: pl.Series, u: pl.Series) -> pl.Series:
    """兵役状况: men by SERVICE_BY_AGE, women SERVICE_FEMALE."""
    men = _by_age(age, u, SERVICE_BY_AGE)
    women = _by_age(age, u, SERVICE_FEMALE)
    return men.zip_with(sex == 1, women)


# --- 服务处所 ------------------------------------------------------------------------------------------

WORKPLACE_FORMS = (("有限公司", 6.0), ("股份有限公司", 1.0), ("厂", 1.0))
PUBLIC_EMPLOYER_SHARE = 0.15


@cache
def _employers() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Every employer with its weight: firms (示例市 + 字号 + trade + form) and public institutions."""
    firms = [
        (f"{CITY_NAME}{word}{trade}{form}", weight)
        for word in WORKPLACE_WORDS
        for trade in WORKPLACE_TRADES
        for form, weight in WORKPLACE_FORMS
    ]
    firm_total = sum(weight for _, weight in firms)
    scale = (1 - PUBLIC_EMPLOYER_SHARE) / firm_total
    public = PUBLIC_EMPLOYER_SHARE / len(INSTITUTIONS)
    pairs = [(name, weight * scale) for name, weight in firms] + [(name, public) for name in INSTITUTIONS]
    return tuple(name for name, _ in pairs), tuple(weight for _, weight in pairs)


def _workplaces(draws: Draws, n: int) -> pl.Series:
    """n employers by weight (one gather from the pool of all of them)."""
    employers, weights = _employers()
    return draws.choice(n, employers, weights).alias("fwcs")


# --- 人口基本信息 --------------------------------------------------------------------------------------

UPDATES_FROM = datetime(2015, 1, 1)
UPDATES_UNTIL = datetime(2025, 6, 30, 23, 59, 59)


def _updated(birth: pl.Series, u: pl.Series) -> pl.Series:
    """Update times uniform from UPDATES_FROM (or a month after birth, if later) to UPDATES_UNTIL."""
    first = pl.max_horizontal(pl.lit(UPDATES_FROM), C("birth").cast(pl.Datetime("us")) + pl.duration(days=30))
    span = (pl.lit(UPDATES_UNTIL) - first).dt.total_seconds()
    frame = pl.DataFrame({"birth": birth, "u": u})
    return frame.select(
        (first + pl.duration(seconds=(C("u") * span).cast(pl.Int64))).alias("gxsj")
    ).to_series()


def _people(draws: Draws, rows: int) -> pl.DataFrame:
    """Clean, canonical people: the items of 人口基本信息 under their field names, sex 1/2, `birth` a date
    (and `csrq` its ISO text), `gxsj` a datetime. Every draw here happens whatever the faults, so a seed
    gives the same people with or without them."""
    sex = sexes(draws, rows)
    birth = births(draws, rows)
    region = regions(draws, birth.dt.year(), MIGRANT_SHARE)
    age = REFERENCE_YEAR - birth.dt.year().cast(pl.Int64)
    working = (draws.unit(rows) < 0.6) & (age >= 22) & (age < 60)
    service = draws.unit(rows)
    return pl.DataFrame(
        {
            "gmsfhm": id_numbers(region.get_column("id_region"), birth, sex),
            "xm": names(draws, sex),
            "sex": sex,
            "mz": draws.weighted(rows, list(ETHNICITY_WEIGHTS.items())),
            "birth": birth,
            "csrq": birth.dt.strftime(ISO_DATE),
            "csd": region.get_column("csd"),
            "jg": region.get_column("jg"),
            "hjdz": addresses(draws, region.get_column("home")),
            "hjdxzqh": county_codes(region.get_column("home")),
            "whcd": _by_age(age, draws.unit(rows), EDUCATION_BY_AGE),
            "hyzk": _by_age(age, draws.unit(rows), MARITAL_BY_AGE),
            "byzk": _service(sex, age, service),
            "fwcs": _workplaces(draws, rows).set(~working, None),
            "rkzt": _by_age(age, draws.unit(rows), STATUS_BY_AGE),
            "gxsj": _updated(birth, draws.unit(rows)),
        }
    )


def _population_eligible(people: pl.DataFrame, fault: pl.Series) -> pl.Series:
    """Drop labels a row cannot show: a 15-digit number needs a birth year 19xx, a lowercase x an X."""
    born_1900s = people.get_column("birth").dt.year() < 2000
    return drop_label(drop_label(fault, "id15", born_1900s), "lowercase_x", ends_in_x(people))


def _population_faults(people: pl.DataFrame, fault: pl.Series, draws: Draws) -> pl.DataFrame:
    """The clean values damaged as the fault labels say (superseded and blank rows are done elsewhere)."""
    idn, birth = C("gmsfhm"), C("birth")
    spaced = idn.str.slice(0, 6) + " " + idn.str.slice(6, 8) + " " + idn.str.slice(14)
    impossible = birth.dt.strftime("%Y") + pick(
        C("w"), [pl.lit("-02-30"), pl.lit("-04-31"), pl.lit("-02-31")]
    )
    unknown = C("w").replace_strict(dict(enumerate(UNKNOWN_ETHNICITIES)), default="99", return_dtype=TEXT)
    return damage(
        people,
        fault,
        draws,
        {
            **person_damage(
                {
                    "id15": idn.str.slice(0, 6) + idn.str.slice(8, 9),
                    "fullwidth": _fullwidth(idn),
                    "id_spaces": spaced,
                    "missing_id": None,
                }
            ),
            "mz": faulted("mz", {"unknown_ethnicity": unknown}),
            "csrq": faulted(
                "csrq",
                {
                    "date_format": date_variants(birth, C("w")),
                    "impossible_date": impossible,
                    "birth_mismatch": (birth + pl.duration(days=C("v") + 1)).dt.strftime(ISO_DATE),
                },
            ),
        },
    )


FULLWIDTH_DIGITS = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _fullwidth(text: pl.Expr) -> pl.Expr:
    source = list("0123456789Xx")
    return text.str.replace_many(source, [c.translate(FULLWIDTH_DIGITS) for c in source])


def population_frame(
    rows: int, *, seed: int = 0, faults: bool = True, sex_coding: SexCoding = "gb", label_faults: bool = False
) -> pl.DataFrame:
    """人口基本信息 as the 公安 household register exports it: POPULATION_COLUMNS, every value text.

    18-digit numbers with correct check digits, address codes of the city's counties as they were when
    the number was assigned (abolished codes included) or of a migrant's birthplace, birth dates 1930–2024
    matching the number, sequence-digit parity matching the sex, 汉族 dominant, names from common surnames
    (a few with characters outside GBK), GB/T 2261.2 marital and GB/T 4658 education codes by age, 更新时间
    2015–2026. `sex_coding`: "gb" 1 男 2 女, "ga" 0 男 1 女 (公安's own), "text" 男/女. With `faults`, rows
    are damaged at POPULATION_FAULT_RATES; `label_faults` adds FAULT_COLUMN naming each row's fault."""
    draws = Draws(seed)
    people = _people(draws, rows)
    fault = _population_eligible(people, assign_faults(draws, rows, POPULATION_FAULT_RATES, faults))
    if faults:
        people, fault = supersede(people, fault, draws, changed=["hjdz", "hjdxzqh"], cursor="gxsj")
        people = _population_faults(people, fault, draws)
    frame = people.select(
        C("gmsfhm").alias("公民身份号码"),
        C("xm").alias("姓名"),
        coded_sex(C("sex"), sex_coding).alias("性别"),
        C("mz").alias("民族"),
        C("csrq").alias("出生日期"),
        C("csd").alias("出生地"),
        C("jg").alias("籍贯"),
        C("hjdz").alias("户籍地址"),
        C("hjdxzqh").alias("户籍地行政区划"),
        C("whcd").alias("文化程度"),
        C("hyzk").alias("婚姻状况"),
        C("byzk").alias("兵役状况"),
        C("fwcs").alias("服务处所"),
        C("rkzt").alias("人口状态"),
        C("gxsj").dt.strftime(ISO_DATETIME).alias("更新时间"),
    )
    return finish(frame, fault, POPULATION_COLUMNS, label_faults)
