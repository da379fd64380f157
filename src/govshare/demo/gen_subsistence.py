"""最低生活保障对象信息 (民政) for the demo source files (govshare.demo.sources): the 低保 roster
(花名册), households of recipients, and its faults."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from govshare.demo.gen_city import county_codes, local_county, regions
from govshare.demo.gen_common import (
    ISO_DATE,
    ISO_DATETIME,
    C,
    DateWriting,
    Draws,
    SexCoding,
    assign_faults,
    coded_sex,
    damage,
    date_variants,
    dates_between,
    drop_label,
    faulted,
    finish,
    supersede,
    timestamps,
    weighted_index,
)
from govshare.demo.gen_people import SURNAMES, ends_in_x, id_numbers, names, person_damage, sexes

SUBSISTENCE_COLUMNS = (
    "序号", "姓名", "性别", "身份证号", "与户主关系", "户主身份证号", "保障类别", "家庭保障人口",
    "月保障金额（元）", "区划代码", "享受起始日期", "保障状态", "更新时间",
)  # fmt: skip
SUBSISTENCE_FAULT_RATES: dict[str, float] = {
    "check_digit": 0.01,
    "lowercase_x": 0.1,  # ~0.9% of rows: only numbers ending in X
    "excel_number": 0.01,  # 身份证号 shown by Excel as 3.30602E+17: rejected (id.length)
    "blank_row": 0.01,
    "superseded": 0.02,  # the same person again, later 更新时间, another amount or 停保
    "date_format": 0.04,  # 享受起始日期 as an Excel serial, 2021年3月1日 or 2021.3.1: valid
    "padded_name": 0.02,
    "sex_mismatch": 0.01,
}
# 享受起始日期 as the roster's typists write it: an Excel serial (None), 2021年3月1日, 2021.3.1, 2021/3/1.
ROSTER_DATE_WRITINGS: DateWriting = (None, "%Y年%-m月%-d日", "%Y.%-m.%-d", "%Y/%-m/%-d")

# 与户主关系 as the roster writes it → GB/T 4761-2008 (used by the mapping's value map).
RELATIONS = {"户主": "02", "配偶": "10", "子": "20", "女": "30"}
SUBSISTENCE_TITLE = "示例市城乡最低生活保障对象花名册（截至2026年6月）"


def _households(draws: Draws, rows: int) -> pl.DataFrame:
    """For each row, its household, its place in it (0 = 户主) and the household's size: households of
    1–4 people, one after another until `rows` rows (the last one may be cut short)."""
    sizes = weighted_index(draws.unit(rows), (35, 30, 25, 10)).cast(pl.Int64) + 1
    ends = sizes.cum_sum()
    row = pl.int_range(rows, eager=True, dtype=pl.Int64)
    household = ends.search_sorted(row, side="right")
    assert isinstance(household, pl.Series)
    start = (ends - sizes).gather(household)
    size = pl.min_horizontal(sizes.gather(household), rows - start)
    frame = pl.DataFrame({"household": household, "rank": row - start, "head_row": start})
    return frame.with_columns(size=pl.select(size).to_series())


def _family(draws: Draws, households: pl.DataFrame) -> pl.DataFrame:
    """Sex, birth date, surname and 与户主关系 of each member: a 户主 born 1940–1990, a spouse of the
    other sex and about the same age, then children born 20–38 years after the 户主."""
    rows = households.height
    head = households.get_column("household")
    frame = households.with_columns(
        head_sex=sexes(draws, rows, 0.6).gather(head),
        head_birth=dates_between(draws, rows, date(1940, 1, 1), date(1990, 12, 31)).gather(head),
        family_name=draws.weighted(rows, SURNAMES).gather(head),
        own_name=draws.weighted(rows, SURNAMES),
        child_sex=sexes(draws, rows),
        offset=draws.below(rows, 3650),
    )
    rank, head_birth = C("rank"), C("head_birth")
    sex = (
        pl.when(rank == 0)
        .then(C("head_sex"))
        .when(rank == 1)
        .then(3 - C("head_sex"))
        .otherwise(C("child_sex"))
    )
    child_birth = head_birth + pl.duration(days=7300 + C("offset") * 2)
    birth = (
        pl.when(rank == 0)
        .then(head_birth)
        .when(rank == 1)
        .then(head_birth + pl.duration(days=C("offset") - 1825))
        .otherwise(pl.min_horizontal(child_birth, pl.lit(date(2024, 12, 31))))
    )
    relation = (
        pl.when(rank == 0)
        .then(pl.lit("户主"))
        .when(rank == 1)
        .then(pl.lit("配偶"))
        .when(sex == 1)
        .then(pl.lit("子"))
        .otherwise(pl.lit("女"))
    )
    return frame.select(
        sex.alias("sex"),
        birth.alias("birth"),
        pl.when(rank == 1).then(C("own_name")).otherwise(C("family_name")).alias("surname"),
        relation.alias("relation"),
    )


def _recipients(draws: Draws, rows: int) -> pl.DataFrame:
    """Clean 低保 rows: members of households with local 户籍, one county and category per household."""
    households = _households(draws, rows)
    head = households.get_column("household")
    family = _family(draws, households)
    sex, birth = family.get_column("sex"), family.get_column("birth")
    region = regions(draws, birth.dt.year(), 0.05)
    ids = id_numbers(region.get_column("id_region"), birth, sex)
    county = local_county(draws, rows).gather(head)
    return pl.DataFrame(
        {
            "xm": names(draws, sex, family.get_column("surname")),
            "sex": sex,
            "gmsfhm": ids,
            "relation": family.get_column("relation"),
            "hz_gmsfhm": ids.gather(households.get_column("head_row")),
            "category": draws.choice(rows, ("城市低保", "农村低保"), (55, 45)).gather(head),
            "size": households.get_column("size"),
            "amount": ((draws.below(rows, 86) + 30) * 10).cast(pl.Float64),
            "xzqhdm": county_codes(county),
            "start": dates_between(draws, rows, date(2012, 1, 1), date(2025, 6, 30)).gather(head),
            "status": draws.choice(rows, ("正常", "停保"), (96, 4)),
            "gxsj": timestamps(draws, rows, datetime(2024, 1, 1), datetime(2025, 6, 30, 17, 30)),
        }
    )


def _subsistence_faults(frame: pl.DataFrame, fault: pl.Series, draws: Draws) -> pl.DataFrame:
    idn = C("gmsfhm")
    # Excel shows an 18-digit number typed into a General cell with 6 significant digits.
    scientific = idn.str.slice(0, 1) + "." + idn.str.slice(1, 5) + "E+17"
    start_variant = date_variants(C("start"), C("w"), ROSTER_DATE_WRITINGS)
    return damage(
        frame,
        fault,
        draws,
        {
            **person_damage({"excel_number": scientific}),
            "xsqsrq": faulted("xsqsrq", {"date_format": start_variant}),
        },
    )


def subsistence_frame(
    rows: int,
    *,
    seed: int = 0,
    faults: bool = True,
    sex_coding: SexCoding = "text",
    label_faults: bool = False,
) -> pl.DataFrame:
    """最低生活保障对象信息 as a 民政 roster (花名册) holds it: SUBSISTENCE_COLUMNS, 序号, 家庭保障人口 and
    月保障金额 as numbers, the rest text; 性别 男/女 by default. Households of 1–4 members share 户主身份证号,
    category, county and start date. With `faults`, rows are damaged at SUBSISTENCE_FAULT_RATES."""
    draws = Draws(seed)
    frame = _recipients(draws, rows).with_columns(xsqsrq=C("start").dt.strftime(ISO_DATE))
    fault = drop_label(
        assign_faults(draws, rows, SUBSISTENCE_FAULT_RATES, faults), "lowercase_x", ends_in_x(frame)
    )
    if faults:
        frame, fault = supersede(frame, fault, draws, changed=["amount", "status"], cursor="gxsj")
        frame = _subsistence_faults(frame, fault, draws)
    result = frame.select(
        pl.int_range(1, rows + 1, dtype=pl.Int64).alias("序号"),
        C("xm").alias("姓名"),
        coded_sex(C("sex"), sex_coding).alias("性别"),
        C("gmsfhm").alias("身份证号"),
        C("relation").alias("与户主关系"),
        C("hz_gmsfhm").alias("户主身份证号"),
        C("category").alias("保障类别"),
        C("size").alias("家庭保障人口"),
        C("amount").alias("月保障金额（元）"),
        C("xzqhdm").alias("区划代码"),
        C("xsqsrq").alias("享受起始日期"),
        C("status").alias("保障状态"),
        C("gxsj").dt.strftime(ISO_DATETIME).alias("更新时间"),
    )
    return finish(result, fault, SUBSISTENCE_COLUMNS, label_faults)
