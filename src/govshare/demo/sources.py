"""Demo source files for data collection (归集): what departments really send, faults included.

Three departments of the demo city hand over files that load into catalog resources through the mappings
in `demo/mappings/`:

- 公安 (GA) 人口基本信息: a GBK CSV export of the household register, sex coded 0 男 / 1 女 (the 公安
  coding that the departments complain about, not GB/T 2261.1);
- 民政 (MZ) 最低生活保障对象信息: an Excel roster with a merged title row above the header, sex as 男/女;
- 市场监管 (SCJG) 企业登记注册信息: a UTF-8 CSV with a byte-order mark, as Excel saves "CSV UTF-8".

Everything is generated, column by column, with Polars: 2,000,000 people take a few seconds, and no
per-row Python runs. The random numbers are SplitMix64 streams keyed from `random.Random(seed)` (see
`Draws`), so a seed gives the same rows on every machine and Polars version. Check digits come from the
reference validators (`id_check_digit`, `uscc_check_char`): both are weighted sums, so the weight of each
position is read back from the reference once and the sums are then computed over whole columns.

Region codes: the demo city's own code, 990100, is fictional (province 99 does not exist), so no GB/T 2260
code-set check would accept its districts. The people therefore live in the real counties of one
prefecture, 绍兴市 (3306xx), under the city name 示例市. Its history gives realistic abolished codes:
a person registered before 2013 in 柯桥区 carries 330621 (绍兴县) in the ID number, which stays valid
(the ID validator never checks the address part), while 户籍地行政区划 holds the code in force today.
People who moved in from other provinces carry their birthplace's code.

Faults are injected at the rates of `POPULATION_FAULT_RATES`, `SUBSISTENCE_FAULT_RATES` and
`LEGAL_PERSON_FAULT_RATES`. Each row has at most one fault, so the counts add up; `label_faults=True`
adds the column `FAULT_COLUMN` naming each row's fault (null when clean) and `fault_counts` counts them.
"""

from __future__ import annotations

import gzip
import random
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Literal

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from govshare.standards import validators

C = pl.col
TEXT = pl.String
SexCoding = Literal["gb", "ga", "text"]
SEX_CODINGS: dict[str, tuple[str, str]] = {"gb": ("1", "2"), "ga": ("0", "1"), "text": ("男", "女")}
FAULT_COLUMN = "_fault"
DEMO_SEED = 20261121
MAPPINGS_DIR = Path(__file__).with_name("mappings")
GB2260_FILE = Path(__file__).parent.parent / "standards" / "data" / "gb2260-2025.csv.gz"

# --- 故障率 (the share of rows drawn for each fault; at most one fault per row) --------------------------

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
LEGAL_PERSON_FAULT_RATES: dict[str, float] = {
    "check_char": 0.005,  # wrong check character: rejected (uscc.check)
    "bad_letter": 0.003,  # an I, O, S, V or Z typed for a similar digit: rejected (uscc.format)
    "lowercase": 0.005,  # letters in lower case: valid after normalization (codes without letters stay clean)
    "blank_row": 0.002,
    "superseded": 0.01,  # the same code again (变更登记): later 核准日期, another 住所
    "date_format": 0.02,  # 成立日期 as 20150312, 2015/3/12, 2015年3月12日 or an Excel serial: valid
}
# Name characters outside GBK: CJK extension A (in the BMP) and B–F (outside it). A GBK file cannot hold
# them: `write_csv(..., encoding="gbk")` writes "?" instead, as a GBK-only export does. GB18030 and UTF-8
# keep them.
RARE_NAME_CHARACTERS = ("䶮", "㛃", "𠀾", "𬌗", "𬇙", "𬣙", "𫖮")
RARE_NAME_RATE = 0.0005

# --- 区划 ---------------------------------------------------------------------------------------------

CITY_NAME = "示例市"
CITY_PREFIX = "3306"  # 绍兴市: the stand-in for the fictional 990100 (see the module docstring)
CITY_CODE = "330600"


@dataclass(frozen=True)
class County:
    """A county of the city: its code and name in force today, its share of the people, and the codes it
    had before (code, first year it no longer applies), oldest first, from gb2260-2025.csv.gz."""

    code: str
    name: str
    weight: float
    earlier: tuple[tuple[str, int], ...] = ()


CITY_COUNTIES: tuple[County, ...] = (
    County("330602", "越城区", 0.20),
    County("330603", "柯桥区", 0.20, (("330621", 2013),)),  # 绍兴县 until 2013
    County("330604", "上虞区", 0.16, (("330622", 1992), ("330682", 2013))),  # 上虞县, 上虞市
    County("330624", "新昌县", 0.08),
    County("330681", "诸暨市", 0.22, (("330625", 1989),)),  # 诸暨县 until 1989
    County("330683", "嵊州市", 0.14, (("330623", 1995),)),  # 嵊县 until 1995
)
FIRST_ID_YEAR = 1986  # numbers of people born earlier were assigned when ID cards were first issued
MIGRANT_SHARE = 0.12  # people born elsewhere who moved their 户籍 here
# Where they come from: province prefix → relative weight (other provinces 0.5).
MIGRANT_PROVINCES = {"33": 3.0, "34": 3.0, "36": 2.0, "41": 2.0, "51": 1.5, "52": 1.5, "43": 1.0, "42": 1.0}

# --- 人 ------------------------------------------------------------------------------------------------

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
REFERENCE_YEAR = 2025  # ages are counted at this year, so the rows never depend on today's date
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

# GB 3304 code → per-mille (national shares, 汉族 dominant; the rest share the remainder evenly).
ETHNICITY_WEIGHTS = {
    "01": 960.0, "08": 6.0, "03": 4.0, "11": 4.0, "05": 4.0, "06": 3.0, "07": 3.0, "15": 3.0, "04": 2.0,
    "02": 2.0, "12": 1.5, "09": 1.0, "10": 0.8, "13": 0.6, "14": 0.6,
}  # fmt: skip
UNKNOWN_ETHNICITIES = ("00", "59", "99")


def _words(text: str) -> tuple[str, ...]:
    """The space-separated words of `text` (long word lists read better as one string)."""
    return tuple(text.split())


STREETS = _words(
    "人民路 解放路 中山路 延安路 胜利路 和平路 新华路 建设路 环城北路 环城南路 迎恩路 府山路 "
    "鲁迅路 投醪河路 城南大道 世纪街 金柯桥大道 笛扬路 百官大道 市民大道 江东路 望江路 艮山路 "
    "浣东路 暨阳路 东二路 北直街 官河路 鹿山路 剡湖街"
)
TOWNS = _words(
    "城关镇 东关街道 安昌街道 杨汛桥镇 章镇镇 崧厦街道 枫桥镇 店口镇 甘霖镇 长乐镇 儒岙镇 澄潭街道"
)
VILLAGES = _words("前山 后溪 下王 上林 东岙 西塘 南湾 北庄 新桥 石门 竹园 杏花 柳塘 青山 白沙 双溪")
WORKPLACE_WORDS = _words("宏达 华信 恒通 金桥 永盛 天成 鼎新 瑞丰 立信 嘉禾 华夏 兴业 东升 明达 正泰 远航")
BRAND_CHARS = "鑫源祥宝弘润昌隆"  # a third 字号 character: fewer same-name firms
WORKPLACE_TRADES = _words("纺织 机械 电子 建材 贸易 科技 印染 食品 轴承 化纤 袜业 珍珠 黄酒 物流")
INSTITUTIONS = _words(
    "示例市人民医院 示例市中医院 示例市实验小学 示例市第一中学 示例市公安局 示例市财政局 "
    "示例市供电公司 示例市自来水有限公司"
)

# --- 表头 ----------------------------------------------------------------------------------------------

POPULATION_COLUMNS = (
    "公民身份号码", "姓名", "性别", "民族", "出生日期", "出生地", "籍贯", "户籍地址", "户籍地行政区划",
    "文化程度", "婚姻状况", "兵役状况", "服务处所", "人口状态", "更新时间",
)  # fmt: skip
SUBSISTENCE_COLUMNS = (
    "序号", "姓名", "性别", "身份证号", "与户主关系", "户主身份证号", "保障类别", "家庭保障人口",
    "月保障金额（元）", "区划代码", "享受起始日期", "保障状态", "更新时间",
)  # fmt: skip
LEGAL_PERSON_COLUMNS = (
    "统一社会信用代码", "企业名称", "法定代表人", "企业类型", "注册资本", "币种", "成立日期", "营业期限自",
    "营业期限至", "登记机关", "住所", "经营范围", "经营状态", "核准日期", "行业代码",
)  # fmt: skip


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
        return pool.gather(_weighted_index(self.unit(n), weights))


def _u64(value: int) -> pl.Series:
    return pl.Series([value], dtype=pl.UInt64)


def _weighted_index(u: pl.Series, weights: Sequence[float]) -> pl.Series:
    """The index of the slice of [0, 1) that each u falls into, slices as wide as the weights."""
    total = float(sum(weights))
    bounds = pl.Series([x / total for x in accumulate(weights)][:-1], dtype=pl.Float64)
    found = bounds.search_sorted(u, side="right")
    assert isinstance(found, pl.Series)
    return found


def _assign_faults(draws: Draws, rows: int, rates: Mapping[str, float], enabled: bool) -> pl.Series:
    """One fault name per row, or null. The rows are put in a random order and cut into consecutive runs
    as long as rate × rows, so every fault gets round(rate × rows) rows (give or take one) and a small
    demo file still shows each kind once the rate allows it; the faults are disjoint."""
    order = draws.uint64(rows).to_frame("u").select(pl.arg_sort_by("u", maintain_order=True)).to_series()
    position = pl.zeros(rows, dtype=pl.Float64, eager=True).scatter(order, pl.int_range(rows, eager=True))
    if not enabled:
        return pl.Series(FAULT_COLUMN, [None] * rows, dtype=TEXT)
    names = [*rates, None]
    share = (position + 0.5) / max(rows, 1)
    index = _weighted_index(share, [*rates.values(), 1.0 - sum(rates.values())])
    return pl.Series(FAULT_COLUMN, names, dtype=TEXT).gather(index)


def fault_counts(frame: pl.DataFrame) -> dict[str, int]:
    """Rows per fault of a frame made with `label_faults=True`, largest first."""
    counts = frame.get_column(FAULT_COLUMN).drop_nulls().value_counts(sort=True)
    return {str(name): int(count) for name, count in counts.iter_rows()}


# --- 校验码 (read back from the reference validators) ---------------------------------------------------


@cache
def _id_weights() -> tuple[int, ...]:
    """Per position of the 17-digit body, its weight modulo 11. The check digit is ID_CHECK[weighted sum
    mod 11], so a body with a single 1 reveals that position's weight through `id_check_digit`."""
    return tuple(
        validators.ID_CHECK.index(validators.id_check_digit("0" * p + "1" + "0" * (16 - p)))
        for p in range(17)
    )


@cache
def _uscc_weights() -> tuple[int, ...]:
    """Per position, the weight modulo 31 (the check character is ALPHABET[(31 - sum mod 31) mod 31])."""
    alphabet = validators.USCC_ALPHABET
    return tuple(
        (31 - alphabet.index(validators.uscc_check_char("0" * p + "1" + "0" * (16 - p)))) % 31
        for p in range(17)
    )


def _id_check_char(body: pl.Expr) -> pl.Expr:
    """The check digit of 17-digit bodies given as integers."""
    terms = [(body // 10 ** (16 - p)) % 10 * w for p, w in enumerate(_id_weights())]
    return (pl.sum_horizontal(terms) % 11).replace_strict(
        dict(enumerate(validators.ID_CHECK)), return_dtype=TEXT
    )


def _uscc_check_char(values: Sequence[pl.Expr]) -> pl.Expr:
    """The check character of 17-character bodies given as one alphabet index per position."""
    terms = [value * w for value, w in zip(values, _uscc_weights(), strict=True)]
    alphabet = validators.USCC_ALPHABET
    checks = {total: alphabet[(31 - total) % 31] for total in range(31)}
    return (pl.sum_horizontal(terms) % 31).replace_strict(checks, return_dtype=TEXT)


# --- 区划代码 ------------------------------------------------------------------------------------------


@cache
def _counties_in_force() -> tuple[str, ...]:
    """County-level GB/T 2260 codes in force in the shipped table, outside this city and outside 台湾, 香港
    and 澳门 (whose residents hold other documents)."""
    with gzip.open(GB2260_FILE, "rb") as handle:
        table = pl.read_csv(handle.read(), schema_overrides={"code": TEXT, "valid_to": TEXT})
    codes = table.filter(
        C("valid_to").is_null()
        & ~C("code").str.ends_with("00")
        & ~C("code").str.slice(0, 2).is_in(["71", "81", "82"])
        & ~C("code").str.starts_with(CITY_PREFIX)
    ).get_column("code")
    return tuple(sorted(set(codes.to_list())))


def _elsewhere(draws: Draws, n: int) -> pl.Series:
    """n county codes of other places, weighted towards the provinces people move here from."""
    codes = _counties_in_force()
    weights = [MIGRANT_PROVINCES.get(code[:2], 0.5) for code in codes]
    return draws.choice(n, codes, weights)


def _local_county(draws: Draws, n: int) -> pl.Series:
    """n indexes into CITY_COUNTIES by population share."""
    return _weighted_index(draws.unit(n), [county.weight for county in CITY_COUNTIES])


def _current_code(county: pl.Expr) -> pl.Expr:
    return county.replace_strict({i: c.code for i, c in enumerate(CITY_COUNTIES)}, return_dtype=TEXT)


def _code_at(county: pl.Expr, year: pl.Expr) -> pl.Expr:
    """The code a county had in `year`: abolished codes for numbers assigned before a reorganization."""
    chain: pl.Expr = _current_code(county)
    for i, item in reversed(list(enumerate(CITY_COUNTIES))):
        for code, until in reversed(item.earlier):
            chain = pl.when((county == i) & (year < until)).then(pl.lit(code)).otherwise(chain)
    return chain


def _regions(draws: Draws, birth_year: pl.Series, migrant_share: float) -> pl.DataFrame:
    """Per person: `id_region` (the address code inside the ID number, as assigned then), 出生地 `csd`,
    籍贯 `jg` and the 户籍 county `home` (an index into CITY_COUNTIES). Locals were born in a county of the
    city and most still live there; migrants were born elsewhere and moved their 户籍 here."""
    n = birth_year.len()
    frame = pl.DataFrame(
        {
            "year": birth_year,
            "migrant": draws.unit(n) < migrant_share,
            "born_in": _local_county(draws, n),
            "moved_to": _local_county(draws, n),
            "moved": draws.unit(n) < 0.15,
            "other": _elsewhere(draws, n),
            "jg_other": _elsewhere(draws, n),
            "jg_same": draws.unit(n) < 0.85,
        }
    )
    assigned = pl.max_horizontal(C("year"), pl.lit(FIRST_ID_YEAR))
    return frame.select(
        id_region=pl.when(C("migrant")).then(C("other")).otherwise(_code_at(C("born_in"), assigned)),
        csd=pl.when(C("migrant")).then(C("other")).otherwise(_current_code(C("born_in"))),
        jg=pl.when(C("jg_same"))
        .then(pl.when(C("migrant")).then(C("other")).otherwise(_current_code(C("born_in"))))
        .otherwise(C("jg_other")),
        home=pl.when(C("migrant") | C("moved")).then(C("moved_to")).otherwise(C("born_in")),
    )


# --- 人: 性别, 出生日期, 姓名, 公民身份号码 ----------------------------------------------------------------


def _sexes(draws: Draws, n: int, male_share: float = MALE_SHARE) -> pl.Series:
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


def _births(draws: Draws, n: int) -> pl.Series:
    """Birth dates 1930-01-01 … 2024-12-31 following the population pyramid of BIRTH_YEAR_ANCHORS."""
    years, weights = _year_weights()
    year = pl.Series(years, dtype=pl.Int32).gather(_weighted_index(draws.unit(n), weights))
    return _day_of_year(year, draws.unit(n))


def _day_of_year(year: pl.Series, u: pl.Series) -> pl.Series:
    """A uniform day of each year (u in [0, 1) picks it)."""
    frame = pl.DataFrame({"y": year, "u": u}).with_columns(start=pl.date(C("y"), 1, 1))
    length = (pl.date(C("y") + 1, 1, 1) - C("start")).dt.total_days()
    days = C("start").cast(pl.Int32) + (C("u") * length).cast(pl.Int32)
    return frame.select(days.cast(pl.Date).alias("date")).to_series()


def _dates_between(draws: Draws, n: int, first: date, last: date) -> pl.Series:
    """n dates uniform from first to last inclusive."""
    start = (first - date(1970, 1, 1)).days
    span = (last - first).days + 1
    return (draws.below(n, span) + start).cast(pl.Int32).cast(pl.Date).alias("date")


def _timestamps(draws: Draws, n: int, first: datetime, last: datetime) -> pl.Series:
    """n datetimes uniform from first to last, to the second."""
    start = int((first - datetime(1970, 1, 1)).total_seconds())
    span = int((last - first).total_seconds())
    return pl.from_epoch(draws.below(n, span) + start, time_unit="s").alias("time")


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


def _names(draws: Draws, sex: pl.Series, surname: pl.Series | None = None) -> pl.Series:
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
    names = family + given
    rare = (draws.unit(n) < RARE_NAME_RATE).arg_true()
    if rare.len():
        rare_char = draws.choice(rare.len(), RARE_NAME_CHARACTERS)
        kept = given.gather(rare).str.slice(0, given.gather(rare).str.len_chars() - 1)
        names = names.scatter(rare, family.gather(rare) + kept + rare_char)
    return names.alias("name")


def _rank_within(key: pl.Series) -> pl.Series:
    """Each row's 0-based position among the rows with the same key, in row order (a stable sort is
    cheaper than a window over groups)."""
    order = key.to_frame("key").select(pl.arg_sort_by("key", maintain_order=True)).to_series()
    ordered = pl.DataFrame({"key": key.gather(order)}).with_row_index("i")
    start = pl.when(C("key") != C("key").shift(1)).then(C("i")).forward_fill().fill_null(0)
    rank = ordered.select((C("i") - start).alias("rank")).to_series()
    return pl.zeros(key.len(), dtype=pl.UInt32, eager=True).scatter(order, rank).cast(pl.Int64)


def _id_numbers(region: pl.Series, birth: pl.Series, sex: pl.Series) -> pl.Series:
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


# --- 年龄相关的代码 ---------------------------------------------------------------------------------------

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


def _county_names() -> dict[int, str]:
    return {i: county.name for i, county in enumerate(CITY_COUNTIES)}


HOUSE_NUMBERS = 400
BUILDINGS = 30


@cache
def _address_parts() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The three pieces an address is glued from, each a pool of every variant: the place (city, county,
    street; or city, county, town, village), the number (号, 幢; or 号) and the flat (单元, 室; or none)."""
    places = [f"{CITY_NAME}{c.name}{street}" for c in CITY_COUNTIES for street in STREETS]
    places += [
        f"{CITY_NAME}{c.name}{town}{village}村"
        for c in CITY_COUNTIES
        for town in TOWNS
        for village in VILLAGES
    ]
    numbers = [f"{number}号{building}幢" for number in range(1, 401) for building in range(1, 31)]
    numbers += [f"{number}号" for number in range(1, 401)]
    flats = [
        f"{unit}单元{floor}{room:02d}室"
        for unit in range(1, 5)
        for floor in range(1, 19)
        for room in range(1, 5)
    ]
    return tuple(places), tuple(numbers), (*flats, "")


def _addresses(draws: Draws, county: pl.Series) -> pl.Series:
    """Addresses in the given counties (indexes into CITY_COUNTIES): a flat in town (70%) or a house in a
    village; street and village names are made up. Three gathers from pools of parts, then one concat."""
    places, numbers, flats = _address_parts()
    streets, villages = len(STREETS), len(TOWNS) * len(VILLAGES)
    town_places = len(CITY_COUNTIES) * streets
    frame = pl.DataFrame({"county": county.cast(pl.Int64), "u": draws.uint64(county.len())})
    rural = C("u") % 10 < 3
    u = C("u") // 10
    street = (u % streets).cast(pl.Int64)
    village = (u // streets % villages).cast(pl.Int64)
    number = (u // (streets * villages) % HOUSE_NUMBERS).cast(pl.Int64)
    building = (u // (streets * villages * HOUSE_NUMBERS) % BUILDINGS).cast(pl.Int64)
    flat = (u // (streets * villages * HOUSE_NUMBERS * BUILDINGS) % (len(flats) - 1)).cast(pl.Int64)
    indexes = frame.select(
        place=pl.when(rural)
        .then(town_places + C("county") * villages + village)
        .otherwise(C("county") * streets + street),
        number=pl.when(rural)
        .then(HOUSE_NUMBERS * BUILDINGS + number)
        .otherwise(number * BUILDINGS + building),
        flat=pl.when(rural).then(pl.lit(len(flats) - 1, dtype=pl.Int64)).otherwise(flat),
    )
    parts = [
        pl.Series(pool, dtype=TEXT).gather(indexes.get_column(name))
        for pool, name in ((places, "place"), (numbers, "number"), (flats, "flat"))
    ]
    return (parts[0] + parts[1] + parts[2]).alias("address")


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
    names, weights = _employers()
    return draws.choice(n, names, weights).alias("fwcs")


# --- 故障的共用部分 ---------------------------------------------------------------------------------------


def _supersede(
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


def _wrong_char(correct: pl.Expr, alphabet: str, shift: pl.Expr) -> pl.Expr:
    """Another character of `alphabet` than `correct` (shift in 0 … len−2)."""
    index = correct.replace_strict({c: i for i, c in enumerate(alphabet)}, return_dtype=pl.Int64)
    others = dict(enumerate(alphabet))
    return ((index + 1 + shift) % len(alphabet)).replace_strict(others, return_dtype=TEXT)


FULLWIDTH_DIGITS = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _fullwidth(text: pl.Expr) -> pl.Expr:
    source = list("0123456789Xx")
    return text.str.replace_many(source, [c.translate(FULLWIDTH_DIGITS) for c in source])


def _date_variants(day: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """A date as other systems write it: 20200102, 2020/1/2, 2020年1月2日 or an Excel serial (1900 date
    system: serial 25569 is 1970-01-01)."""
    return (
        pl.when(variant == 0)
        .then(day.dt.strftime("%Y%m%d"))
        .when(variant == 1)
        .then(day.dt.strftime("%Y/%-m/%-d"))
        .when(variant == 2)
        .then(day.dt.strftime("%Y年%-m月%-d日"))
        .otherwise((day.cast(pl.Int32) + 25569).cast(TEXT))
    )


def _padded(text: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """Text with stray white space around it, as typed or pasted."""
    return (
        pl.when(variant == 0)
        .then(" " + text)
        .when(variant == 1)
        .then(text + " ")
        .when(variant == 2)
        .then("\u3000" + text)
        .otherwise(" " + text + "  ")
    )


def _blank_rows(frame: pl.DataFrame, fault: pl.Series) -> pl.DataFrame:
    """Rows labelled blank_row emptied in every column (as left between blocks of a spreadsheet)."""
    blank = pl.lit((fault == "blank_row").fill_null(False))
    return frame.with_columns(
        pl.when(blank).then(None).otherwise(C(name)).alias(name) for name in frame.columns
    )


def _damage(
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


def _finish(frame: pl.DataFrame, fault: pl.Series, columns: Sequence[str], label: bool) -> pl.DataFrame:
    """The source columns (blank rows emptied) and, if asked, the fault labels."""
    result = _blank_rows(frame.select(columns), fault)
    return result.with_columns(fault.alias(FAULT_COLUMN)) if label else result


def _coded_sex(sex: pl.Expr, coding: str) -> pl.Expr:
    if coding not in SEX_CODINGS:
        raise ValueError(f"sex_coding must be one of {', '.join(SEX_CODINGS)}, not {coding!r}")
    male, female = SEX_CODINGS[coding]
    return pl.when(sex == 1).then(pl.lit(male)).otherwise(pl.lit(female))


# --- 人口基本信息 (公安) ---------------------------------------------------------------------------------

SERVICE_FEMALE: tuple[tuple[int, Distribution], ...] = ((18, ((None, 1.0),)), (999, (("1", 1.0),)))
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
    sex = _sexes(draws, rows)
    birth = _births(draws, rows)
    regions = _regions(draws, birth.dt.year(), MIGRANT_SHARE)
    age = REFERENCE_YEAR - birth.dt.year().cast(pl.Int64)
    working = (draws.unit(rows) < 0.6) & (age >= 22) & (age < 60)
    service = draws.unit(rows)
    return pl.DataFrame(
        {
            "gmsfhm": _id_numbers(regions.get_column("id_region"), birth, sex),
            "xm": _names(draws, sex),
            "sex": sex,
            "mz": draws.weighted(rows, list(ETHNICITY_WEIGHTS.items())),
            "birth": birth,
            "csrq": birth.dt.strftime("%Y-%m-%d"),
            "csd": regions.get_column("csd"),
            "jg": regions.get_column("jg"),
            "hjdz": _addresses(draws, regions.get_column("home")),
            "hjdxzqh": regions.select(_current_code(C("home"))).to_series(),
            "whcd": _by_age(age, draws.unit(rows), EDUCATION_BY_AGE),
            "hyzk": _by_age(age, draws.unit(rows), MARITAL_BY_AGE),
            "byzk": _service(sex, age, service),
            "fwcs": _workplaces(draws, rows).set(~working, None),
            "rkzt": _by_age(age, draws.unit(rows), STATUS_BY_AGE),
            "gxsj": _updated(birth, draws.unit(rows)),
        }
    )


def _service(sex: pl.Series, age: pl.Series, u: pl.Series) -> pl.Series:
    """兵役状况: men by SERVICE_BY_AGE, women SERVICE_FEMALE."""
    men = _by_age(age, u, SERVICE_BY_AGE)
    women = _by_age(age, u, SERVICE_FEMALE)
    return men.zip_with(sex == 1, women)


def _population_eligible(people: pl.DataFrame, fault: pl.Series) -> pl.Series:
    """Drop labels a row cannot show: a 15-digit number needs a birth year 19xx, a lowercase x an X."""
    born_1900s = people.get_column("birth").dt.year() < 2000
    ends_x = people.get_column("gmsfhm").str.ends_with("X")
    cannot = ((fault == "id15") & ~born_1900s) | ((fault == "lowercase_x") & ~ends_x)
    return fault.set(cannot.fill_null(False), None)


def _population_faults(people: pl.DataFrame, fault: pl.Series, draws: Draws) -> pl.DataFrame:
    """The clean values damaged as the fault labels say (superseded and blank rows are done elsewhere)."""
    f, idn, birth = C("fault"), C("gmsfhm"), C("birth")
    spaced = idn.str.slice(0, 6) + " " + idn.str.slice(6, 8) + " " + idn.str.slice(14)
    wrong = idn.str.slice(0, 17) + _wrong_char(idn.str.slice(17, 1), validators.ID_CHECK, C("v"))
    month_end = pl.when(C("w") == 0).then(pl.lit("-02-30")).when(C("w") == 1).then(pl.lit("-04-31"))
    impossible = birth.dt.strftime("%Y") + month_end.otherwise(pl.lit("-02-31"))
    unknown = C("w").replace_strict(dict(enumerate(UNKNOWN_ETHNICITIES)), default="99", return_dtype=TEXT)
    return _damage(
        people,
        fault,
        draws,
        {
            "gmsfhm": pl.when(f == "check_digit")
            .then(wrong)
            .when(f == "id15")
            .then(idn.str.slice(0, 6) + idn.str.slice(8, 9))
            .when(f == "fullwidth")
            .then(_fullwidth(idn))
            .when(f == "lowercase_x")
            .then(idn.str.to_lowercase())
            .when(f == "id_spaces")
            .then(spaced)
            .when(f == "missing_id")
            .then(None)
            .otherwise(idn),
            "xm": pl.when(f == "padded_name").then(_padded(C("xm"), C("w"))).otherwise(C("xm")),
            "sex": pl.when(f == "sex_mismatch").then(3 - C("sex")).otherwise(C("sex")),
            "mz": pl.when(f == "unknown_ethnicity").then(unknown).otherwise(C("mz")),
            "csrq": pl.when(f == "date_format")
            .then(_date_variants(birth, C("w")))
            .when(f == "impossible_date")
            .then(impossible)
            .when(f == "birth_mismatch")
            .then((birth + pl.duration(days=C("v") + 1)).dt.strftime("%Y-%m-%d"))
            .otherwise(C("csrq")),
        },
    )


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
    fault = _population_eligible(people, _assign_faults(draws, rows, POPULATION_FAULT_RATES, faults))
    if faults:
        people, fault = _supersede(people, fault, draws, changed=["hjdz", "hjdxzqh"], cursor="gxsj")
        people = _population_faults(people, fault, draws)
    frame = people.select(
        C("gmsfhm").alias("公民身份号码"),
        C("xm").alias("姓名"),
        _coded_sex(C("sex"), sex_coding).alias("性别"),
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
        C("gxsj").dt.strftime("%Y-%m-%d %H:%M:%S").alias("更新时间"),
    )
    return _finish(frame, fault, POPULATION_COLUMNS, label_faults)


# --- 最低生活保障对象信息 (民政) -------------------------------------------------------------------------

# 与户主关系 as the roster writes it → GB/T 4761-2008 (used by the mapping's value map).
RELATIONS = {"户主": "02", "配偶": "10", "子": "20", "女": "30"}
SUBSISTENCE_TITLE = "示例市城乡最低生活保障对象花名册（截至2026年6月）"


def _households(draws: Draws, rows: int) -> pl.DataFrame:
    """For each row, its household, its place in it (0 = 户主) and the household's size: households of
    1–4 people, one after another until `rows` rows (the last one may be cut short)."""
    sizes = _weighted_index(draws.unit(rows), (35, 30, 25, 10)).cast(pl.Int64) + 1
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
        head_sex=_sexes(draws, rows, 0.6).gather(head),
        head_birth=_dates_between(draws, rows, date(1940, 1, 1), date(1990, 12, 31)).gather(head),
        family_name=draws.weighted(rows, SURNAMES).gather(head),
        own_name=draws.weighted(rows, SURNAMES),
        child_sex=_sexes(draws, rows),
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
    regions = _regions(draws, birth.dt.year(), 0.05)
    ids = _id_numbers(regions.get_column("id_region"), birth, sex)
    county = _local_county(draws, rows).gather(head)
    return pl.DataFrame(
        {
            "xm": _names(draws, sex, family.get_column("surname")),
            "sex": sex,
            "gmsfhm": ids,
            "relation": family.get_column("relation"),
            "hz_gmsfhm": ids.gather(households.get_column("head_row")),
            "category": draws.choice(rows, ("城市低保", "农村低保"), (55, 45)).gather(head),
            "size": households.get_column("size"),
            "amount": ((draws.below(rows, 86) + 30) * 10).cast(pl.Float64),
            "xzqhdm": county.to_frame("c").select(_current_code(C("c"))).to_series(),
            "start": _dates_between(draws, rows, date(2012, 1, 1), date(2025, 6, 30)).gather(head),
            "status": draws.choice(rows, ("正常", "停保"), (96, 4)),
            "gxsj": _timestamps(draws, rows, datetime(2024, 1, 1), datetime(2025, 6, 30, 17, 30)),
        }
    )


def _subsistence_faults(frame: pl.DataFrame, fault: pl.Series, draws: Draws) -> pl.DataFrame:
    f, idn = C("fault"), C("gmsfhm")
    wrong = idn.str.slice(0, 17) + _wrong_char(idn.str.slice(17, 1), validators.ID_CHECK, C("v"))
    # Excel shows an 18-digit number typed into a General cell with 6 significant digits.
    scientific = idn.str.slice(0, 1) + "." + idn.str.slice(1, 5) + "E+17"
    start = C("start")
    start_variant = (
        pl.when(C("w") == 0)
        .then((start.cast(pl.Int32) + 25569).cast(TEXT))
        .when(C("w") == 1)
        .then(start.dt.strftime("%Y年%-m月%-d日"))
        .when(C("w") == 2)
        .then(start.dt.strftime("%Y.%-m.%-d"))
        .otherwise(start.dt.strftime("%Y/%-m/%-d"))
    )
    return _damage(
        frame,
        fault,
        draws,
        {
            "gmsfhm": pl.when(f == "check_digit")
            .then(wrong)
            .when(f == "lowercase_x")
            .then(idn.str.to_lowercase())
            .when(f == "excel_number")
            .then(scientific)
            .otherwise(idn),
            "xm": pl.when(f == "padded_name").then(_padded(C("xm"), C("w"))).otherwise(C("xm")),
            "sex": pl.when(f == "sex_mismatch").then(3 - C("sex")).otherwise(C("sex")),
            "xsqsrq": pl.when(f == "date_format").then(start_variant).otherwise(C("xsqsrq")),
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
    frame = _recipients(draws, rows).with_columns(xsqsrq=C("start").dt.strftime("%Y-%m-%d"))
    fault = _assign_faults(draws, rows, SUBSISTENCE_FAULT_RATES, faults)
    ends_x = frame.get_column("gmsfhm").str.ends_with("X")
    fault = fault.set(((fault == "lowercase_x") & ~ends_x).fill_null(False), None)
    if faults:
        frame, fault = _supersede(frame, fault, draws, changed=["amount", "status"], cursor="gxsj")
        frame = _subsistence_faults(frame, fault, draws)
    result = frame.select(
        pl.int_range(1, rows + 1, dtype=pl.Int64).alias("序号"),
        C("xm").alias("姓名"),
        _coded_sex(C("sex"), sex_coding).alias("性别"),
        C("gmsfhm").alias("身份证号"),
        C("relation").alias("与户主关系"),
        C("hz_gmsfhm").alias("户主身份证号"),
        C("category").alias("保障类别"),
        C("size").alias("家庭保障人口"),
        C("amount").alias("月保障金额（元）"),
        C("xzqhdm").alias("区划代码"),
        C("xsqsrq").alias("享受起始日期"),
        C("status").alias("保障状态"),
        C("gxsj").dt.strftime("%Y-%m-%d %H:%M:%S").alias("更新时间"),
    )
    return _finish(result, fault, SUBSISTENCE_COLUMNS, label_faults)


# --- 企业登记注册信息 (市场监管) ---------------------------------------------------------------------------

# GB 32100 registration authority + type: 91 企业, 93 农民专业合作社, N2/N3 村级/乡镇级集体经济组织,
# 51 社会团体, 52 民办非企业单位, Y1 其他. A 市场监管 export holds mostly 91; the letter-initial codes of
# other authorities come along in merged 法人 extracts and must be accepted.
REGISTRANTS: tuple[tuple[str, float], ...] = (
    ("91", 90.0), ("93", 3.0), ("N2", 2.0), ("N3", 1.0), ("51", 1.5), ("52", 1.5), ("Y1", 1.0),
)  # fmt: skip
# 市场主体类型代码 of the enterprises (91): 1130 有限责任公司（自然人投资或控股）, 1151 有限责任公司
# （自然人独资）, 1190 其他有限责任公司, 1110 有限责任公司（国有独资）, 1220 股份有限公司（非上市）.
COMPANY_TYPES = (("1130", 60.0), ("1151", 25.0), ("1190", 8.0), ("1110", 2.0), ("1220", 5.0))
# GB/T 4754-2017 classes: 黄酒制造, 棉印染精加工, 机织服装制造, 百货零售, 应用软件开发, 住宅房屋建筑,
# 普通货物道路运输, 投资与资产管理, 正餐服务.
INDUSTRIES = ("1514", "1713", "1810", "5211", "6513", "4710", "5431", "7212", "6210")
BUSINESS_SCOPES = (
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    "软件开发",
    "纺织品销售",
    "针纺织品及原料销售",
    "机械设备销售",
    "货物进出口",
    "技术进出口",
    "食品销售（仅销售预包装食品）",
    "建筑材料销售",
    "日用百货销售",
    "信息咨询服务（不含许可类信息咨询服务）",
    "道路货物运输（不含危险货物）",
    "五金产品零售",
)
SCOPE_TAIL = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
OPERATING_STATES = (("存续（在营、开业、在册）", 86.0), ("吊销，未注销", 3.0), ("注销", 9.0), ("迁出", 2.0))
CAPITAL_WAN = (3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000)
CURRENCIES = (("人民币", "元", 95.0), ("美元", "美元", 3.0), ("港元", "港元", 2.0))


def _uscc_check(body: pl.Expr) -> pl.Expr:
    """The GB 32100 check character of 17-character bodies (text)."""
    values = validators.USCC_VALUES
    return _uscc_check_char(
        [body.str.slice(p, 1).replace_strict(values, return_dtype=pl.Int64) for p in range(17)]
    )


def _credit_codes(draws: Draws, kind: pl.Series, county: pl.Series) -> pl.Series:
    """统一社会信用代码: authority and type, the registering place (the city itself for a quarter), the
    9-character organization code, and the check character. Enterprises registered since 2015 mostly have
    organization codes beginning MA; older ones and other registrants eight digits and a character. The
    organization code's own GB 11714 check character is not computed: GB 32100 validation ignores it."""
    n = kind.len()
    alphabet = list(validators.USCC_ALPHABET)
    place = (
        pl.when(pl.lit(draws.unit(n) < 0.25)).then(pl.lit(CITY_CODE)).otherwise(_current_code(pl.lit(county)))
    )
    new_style = pl.lit(draws.unit(n) < 0.7) & pl.lit(kind).is_in(["91", "93"])
    parts: list[pl.Expr] = []
    for p in range(9):
        value = pl.lit(draws.below(n, 310))
        char = pl.lit(pl.Series(alphabet)).gather(value % 31)
        digit = (value // 31).cast(TEXT)
        fixed = pl.lit("MA"[p]) if p < 2 else char
        parts.append(pl.when(new_style).then(fixed).when(p < 8).then(digit).otherwise(char))
    body = pl.select((pl.lit(kind) + place + pl.concat_str(parts)).alias("body")).to_series()
    return body.to_frame().select((C("body") + _uscc_check(C("body"))).alias("code")).to_series()


def _organization_names(draws: Draws, kind: pl.Series, county: pl.Series) -> pl.Series:
    """Names by registrant kind: 示例市 + 字号 + trade + form for enterprises, cooperatives, collective
    economic organizations, associations and private non-enterprise units."""
    n = kind.len()
    frame = pl.DataFrame(
        {
            "kind": kind,
            "county": county.replace_strict(_county_names(), return_dtype=TEXT),
            "word": draws.choice(n, WORKPLACE_WORDS),
            "brand": draws.choice(n, BRAND_CHARS),
            "trade": draws.choice(n, WORKPLACE_TRADES),
            "form": draws.choice(n, ("有限公司", "有限责任公司", "股份有限公司"), (80, 15, 5)),
            "farm": draws.choice(n, ("茶叶", "蔬菜", "农机", "水果", "花木", "香榧")),
            "town": draws.choice(n, TOWNS),
            "village": draws.choice(n, VILLAGES),
            "body": draws.choice(n, ("协会", "商会", "学会")),
            "unit": draws.choice(n, ("培训学校", "养老服务中心", "社会工作服务社")),
        }
    )
    city = pl.lit(CITY_NAME)
    name = (
        pl.when(C("kind") == "91")
        .then(city + C("word") + C("brand") + C("trade") + C("form"))
        .when(C("kind") == "93")
        .then(city + C("county") + C("village") + C("farm") + "专业合作社")
        .when(C("kind") == "N2")
        .then(city + C("county") + C("town") + C("village") + "村股份经济合作社")
        .when(C("kind") == "N3")
        .then(city + C("county") + C("town") + "股份经济联合社")
        .when(C("kind") == "51")
        .then(city + C("trade") + "行业" + C("body"))
        .when(C("kind") == "52")
        .then(city + C("word") + C("unit"))
        .otherwise(city + C("word") + C("trade") + "服务中心")
    )
    return frame.select(name.alias("name")).to_series()


def _authorities(draws: Draws, kind: pl.Series, county: pl.Series) -> pl.Series:
    """登记机关 by registrant kind; enterprises register with the city or the county bureau."""
    n = kind.len()
    frame = pl.DataFrame(
        {
            "kind": kind,
            "county": county.replace_strict(_county_names(), return_dtype=TEXT),
            "city_level": draws.unit(n) < 0.4,
        }
    )
    city = pl.lit(CITY_NAME)
    authority = (
        pl.when(C("kind").is_in(["91", "93"]) & C("city_level"))
        .then(city + "市场监督管理局")
        .when(C("kind").is_in(["91", "93"]))
        .then(city + C("county") + "市场监督管理局")
        .when(C("kind").str.starts_with("N"))
        .then(city + C("county") + "农业农村局")
        .when(C("kind").str.starts_with("5"))
        .then(city + "民政局")
        .otherwise(city + "其他登记管理机关")
    )
    return frame.select(authority.alias("djjg")).to_series()


def _capital(draws: Draws, n: int, unit: pl.Series) -> pl.Series:
    """注册资本 as written in the register: mostly "100万元" (some "12.5万元"), large ones "1.5亿元", small
    ones in full with thousands separators ("3,200元"); foreign-currency ones "200万美元"."""
    frame = pl.DataFrame(
        {
            "unit": unit,
            "wan": draws.choice(
                n, [str(x) for x in CAPITAL_WAN], (3, 5, 12, 8, 8, 14, 18, 10, 6, 8, 5, 2, 1)
            ),
            "half": draws.unit(n) < 0.08,
            "yi": draws.choice(n, ("1", "1.5", "2", "3.2", "10")),
            "yuan": draws.below(n, 99_000) + 1_000,
            "style": _weighted_index(draws.unit(n), (85, 4, 11)),
        }
    )
    wan = pl.when(C("half")).then(C("wan") + ".5").otherwise(C("wan")) + "万"
    thousands = (C("yuan") // 1000).cast(TEXT) + "," + (C("yuan") % 1000).cast(TEXT).str.zfill(3)
    written = (
        pl.when(C("style") == 0).then(wan).when(C("style") == 1).then(C("yi") + "亿").otherwise(thousands)
    )
    return frame.select((written + C("unit")).alias("capital")).to_series()


def _founding_dates(draws: Draws, n: int) -> pl.Series:
    """成立日期 1992–2025, more of them recent (the number of firms has grown every year)."""
    years = list(range(1992, 2026))
    weights = [1.0 + (year - 1992) * 0.25 for year in years]
    year = pl.Series(years, dtype=pl.Int32).gather(_weighted_index(draws.unit(n), weights))
    founded = _day_of_year(year, draws.unit(n))
    return founded.clip(upper_bound=date(2025, 9, 30))


def _legal_persons(draws: Draws, rows: int) -> pl.DataFrame:
    """Clean 企业登记 rows under the catalog's field names (dates as dates, 核准日期 after 成立日期)."""
    kind = draws.weighted(rows, REGISTRANTS)
    county = _local_county(draws, rows)
    currency_index = _weighted_index(draws.unit(rows), [w for _, _, w in CURRENCIES])
    enterprise = kind == "91"
    currency_index = currency_index.set(~enterprise, 0)
    founded = _founding_dates(draws, rows)
    frame = pl.DataFrame(
        {
            "tyshxydm": _credit_codes(draws, kind, county),
            "dwmc": _organization_names(draws, kind, county),
            "fddbr": _names(draws, _sexes(draws, rows, 0.8)),
            "qylx": draws.weighted(rows, COMPANY_TYPES).set(~enterprise, None),
            "zczb": _capital(draws, rows, pl.Series([u for _, u, _ in CURRENCIES]).gather(currency_index)),
            "zczbbz": pl.Series([c for c, _, _ in CURRENCIES]).gather(currency_index),
            "founded": founded,
            "term_years": draws.choice(rows, ("长期", "20", "30"), (65, 20, 15)),
            "djjg": _authorities(draws, kind, county),
            "zs": _addresses(draws, county),
            "scope_1": draws.choice(rows, BUSINESS_SCOPES),
            "scope_2": draws.choice(rows, BUSINESS_SCOPES),
            "djzt": draws.weighted(rows, OPERATING_STATES),
            "later": draws.below(rows, 4000),
            "sshy": draws.choice(rows, INDUSTRIES).set(~enterprise, None),
        }
    )
    until = pl.col("founded").dt.offset_by(pl.col("term_years") + "y") - pl.duration(days=1)
    return frame.with_columns(
        jyfw=pl.when(C("scope_1") == C("scope_2"))
        .then(C("scope_1"))
        .otherwise(C("scope_1") + "；" + C("scope_2"))
        + SCOPE_TAIL,
        hzrq=pl.min_horizontal(C("founded") + pl.duration(days=C("later")), pl.lit(date(2025, 10, 31))),
        clrq=C("founded").dt.strftime("%Y-%m-%d"),
        yyqxq=C("founded").dt.strftime("%Y-%m-%d"),
        yyqxz=pl.when(C("term_years") == "长期")
        .then(pl.lit("长期"))
        .otherwise(until.dt.strftime("%Y-%m-%d")),
    )


def _legal_person_faults(frame: pl.DataFrame, fault: pl.Series, draws: Draws) -> pl.DataFrame:
    f, code = C("fault"), C("tyshxydm")
    wrong = code.str.slice(0, 17) + _wrong_char(code.str.slice(17, 1), validators.USCC_ALPHABET, C("k"))
    # An I, O, S, V or Z typed into the body (positions 3–17), as a look-alike of 1, 0, 5, U or 2.
    position = C("k") % 15 + 2
    letter = C("w").replace_strict(dict(enumerate("IOSZ")), return_dtype=TEXT)
    letter = pl.when(C("v") == 0).then(pl.lit("V")).otherwise(letter)
    bad = code.str.slice(0, position) + letter + code.str.slice(position + 1)
    return _damage(
        frame,
        fault,
        draws,
        {
            "tyshxydm": pl.when(f == "check_char")
            .then(wrong)
            .when(f == "bad_letter")
            .then(bad)
            .when(f == "lowercase")
            .then(code.str.to_lowercase())
            .otherwise(code),
            "clrq": pl.when(f == "date_format")
            .then(_date_variants(C("founded"), C("w")))
            .otherwise(C("clrq")),
        },
    )


def legal_person_frame(
    rows: int, *, seed: int = 0, faults: bool = True, label_faults: bool = False
) -> pl.DataFrame:
    """企业登记注册信息 as the 市场监管 register exports it: LEGAL_PERSON_COLUMNS, every value text.

    统一社会信用代码 with correct check characters (90% enterprises 91…, the rest 93, N2, N3, 51, 52 and
    Y1 codes), names by kind, legal representatives, 注册资本 as "100万元" / "1.5亿元" / "3,200元" /
    "200万美元", 成立日期 1992–2025, 营业期限至 a date or 长期, 经营状态 as the register words it,
    核准日期 after 成立日期. With `faults`, rows are damaged at LEGAL_PERSON_FAULT_RATES."""
    draws = Draws(seed)
    frame = _legal_persons(draws, rows)
    fault = _assign_faults(draws, rows, LEGAL_PERSON_FAULT_RATES, faults)
    has_letters = frame.get_column("tyshxydm").str.contains("[A-Z]")
    fault = fault.set(((fault == "lowercase") & ~has_letters).fill_null(False), None)
    if faults:
        frame, fault = _supersede(frame, fault, draws, changed=["zs", "djzt"], cursor="hzrq")
        frame = _legal_person_faults(frame, fault, draws)
    result = frame.select(
        C("tyshxydm").alias("统一社会信用代码"),
        C("dwmc").alias("企业名称"),
        C("fddbr").alias("法定代表人"),
        C("qylx").alias("企业类型"),
        C("zczb").alias("注册资本"),
        C("zczbbz").alias("币种"),
        C("clrq").alias("成立日期"),
        C("yyqxq").alias("营业期限自"),
        C("yyqxz").alias("营业期限至"),
        C("djjg").alias("登记机关"),
        C("zs").alias("住所"),
        C("jyfw").alias("经营范围"),
        C("djzt").alias("经营状态"),
        C("hzrq").dt.strftime("%Y-%m-%d").alias("核准日期"),
        C("sshy").alias("行业代码"),
    )
    return _finish(result, fault, LEGAL_PERSON_COLUMNS, label_faults)


# --- 写文件 --------------------------------------------------------------------------------------------

CSV_ENCODINGS = ("utf-8", "gbk", "gb18030")
ENCODE_ROWS = 200_000  # rows encoded at a time: bounds the memory of a GBK/GB18030 file to a slice's text


def write_csv(
    frame: pl.DataFrame,
    path: Path,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    line_terminator: str = "\n",
) -> int:
    """Write `frame` (without FAULT_COLUMN) as CSV and return the size in bytes.

    UTF-8 is written by Polars directly; `bom` adds the byte-order mark Excel's "CSV UTF-8" has. GBK and
    GB18030 are written by Polars to text and encoded a slice at a time with one `str.encode` each. GBK
    cannot hold CJK extension characters (RARE_NAME_CHARACTERS): they become "?", exactly what a GBK-only
    export does to such names. GB18030 and UTF-8 keep them."""
    codec = encoding.lower().replace("_", "-")
    codec = "utf-8" if codec == "utf8" else codec
    if codec not in CSV_ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(CSV_ENCODINGS)}, not {encoding!r}")
    if bom and codec != "utf-8":
        raise ValueError("a byte-order mark is only written for UTF-8")
    frame = frame.drop(FAULT_COLUMN, strict=False)
    if codec == "utf-8":
        frame.write_csv(path, include_bom=bom, line_terminator=line_terminator)
        return path.stat().st_size
    with path.open("wb") as out:
        for offset in range(0, max(frame.height, 1), ENCODE_ROWS):
            text = frame.slice(offset, ENCODE_ROWS).write_csv(
                include_header=offset == 0, line_terminator=line_terminator
            )
            out.write(text.encode(codec, errors="replace"))
    return path.stat().st_size


def write_xlsx(frame: pl.DataFrame, path: Path, *, title: str | None = None, sheet: str = "Sheet1") -> None:
    """Write `frame` (without FAULT_COLUMN) as an .xlsx workbook, the way departments hand in rosters:
    with `title`, a merged, bold title row above the header (so the header is on row 2), a bold header,
    text as text (ID numbers stay exact) and numbers as numbers. openpyxl's write-only mode streams the
    rows; merged ranges are set on the sheet before its rows are written."""
    frame = frame.drop(FAULT_COLUMN, strict=False)
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    for index, name in enumerate(frame.columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = _column_width(frame.get_column(name))
    if title:
        last = get_column_letter(max(frame.width, 1))
        worksheet.merged_cells.add(CellRange(f"A1:{last}1"))
        cell = WriteOnlyCell(worksheet, value=title)
        cell.font = Font(bold=True, size=14)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        worksheet.append([cell])
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(worksheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    worksheet.append(header)
    for row in frame.iter_rows():
        worksheet.append(list(row))
    workbook.save(path)


def _column_width(column: pl.Series) -> float:
    """A width that shows the header and typical values (CJK characters count double), at most 40."""
    sample = [column.name, *(str(v) for v in column.head(200).drop_nulls().to_list())]
    widest = max(sum(2 if ord(c) > 0x2E80 else 1 for c in text) for text in sample)
    return float(min(widest + 2, 40))


# --- 演示数据源 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSource:
    """One department's file for the demo city's collection, with its mapping beside it."""

    resource: str  # the catalog resource's name (demo/catalog.yaml)
    department: str  # the providing department's code (demo/service.py)
    data_file: Path
    mapping_file: Path
    description: str  # 中文说明：文件的来历和故障


POPULATION_ROWS = 2_000
SUBSISTENCE_ROWS = 500
LEGAL_PERSON_ROWS = 1_000


def demo_sources(directory: Path, *, seed: int = DEMO_SEED) -> list[DemoSource]:
    """Write the three departments' files and their mappings into `directory` (created if missing) and
    describe them. The mappings are copies of demo/mappings/*.yaml, whose source.path names the data file
    beside them."""
    directory.mkdir(parents=True, exist_ok=True)
    population = directory / "ga_rkjbxx.csv"
    write_csv(
        population_frame(POPULATION_ROWS, seed=seed, sex_coding="ga"),
        population,
        encoding="gbk",
        line_terminator="\r\n",
    )
    subsistence = directory / "mz_dbdx.xlsx"
    write_xlsx(
        subsistence_frame(SUBSISTENCE_ROWS, seed=seed + 1, sex_coding="text"),
        subsistence,
        title=SUBSISTENCE_TITLE,
        sheet="低保对象",
    )
    legal_persons = directory / "scjg_qydj.csv"
    write_csv(legal_person_frame(LEGAL_PERSON_ROWS, seed=seed + 2), legal_persons, encoding="utf-8", bom=True)
    sources = [
        DemoSource(
            "人口基本信息",
            "GA",
            population,
            directory / "ga_rkjbxx.yaml",
            "公安户籍系统导出的 GBK 编码 CSV（Windows 换行），性别按公安代码 0 男 1 女；"
            "含校验码错误、15 位旧号码、全角数字、小写 x、号码中的空格、空行、同一人的后续更新记录、"
            "不存在的日期、多种日期写法、未知民族代码、性别与号码不一致等问题。",
        ),
        DemoSource(
            "最低生活保障对象信息",
            "MZ",
            subsistence,
            directory / "mz_dbdx.yaml",
            "民政低保花名册（Excel），表头上方有合并的标题行，性别写作男/女，与户主关系和保障类别为文字；"
            "含校验码错误、被 Excel 显示为科学计数法的身份证号、空行、重复人员、多种日期写法等问题。",
        ),
        DemoSource(
            "企业登记注册信息",
            "SCJG",
            legal_persons,
            directory / "scjg_qydj.yaml",
            "市场监管登记系统导出的 UTF-8（带 BOM）CSV，注册资本写作“100万元”“1.5亿元”“3,200元”；"
            "含校验码错误、混入 I/O/S/V/Z 的代码、小写字母、空行、变更后的重复记录、多种日期写法等问题。",
        ),
    ]
    for source in sources:
        shutil.copyfile(MAPPINGS_DIR / source.mapping_file.name, source.mapping_file)
    return sources
