"""The demo city for the source generators (govshare.demo.sources): its counties and their region codes
past and present, where people come from, addresses, and the words its place and firm names are made of.

The demo city's own code, 990100, is fictional, so the people live in the real counties of 绍兴市 (3306xx)
under the city name 示例市 (see the docstring of govshare.demo.sources)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from govshare.demo.gen_common import TEXT, C, Draws, weighted_index, words

GB2260_FILE = Path(__file__).parent.parent / "standards" / "data" / "gb2260-2025.csv.gz"

# --- 区划 ----------------------------------------------------------------------------------------------

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

# --- 地名和字号 ----------------------------------------------------------------------------------------

STREETS = words(
    "人民路 解放路 中山路 延安路 胜利路 和平路 新华路 建设路 环城北路 环城南路 迎恩路 府山路 "
    "鲁迅路 投醪河路 城南大道 世纪街 金柯桥大道 笛扬路 百官大道 市民大道 江东路 望江路 艮山路 "
    "浣东路 暨阳路 东二路 北直街 官河路 鹿山路 剡湖街"
)
TOWNS = words("城关镇 东关街道 安昌街道 杨汛桥镇 章镇镇 崧厦街道 枫桥镇 店口镇 甘霖镇 长乐镇 儒岙镇 澄潭街道")
VILLAGES = words("前山 后溪 下王 上林 东岙 西塘 南湾 北庄 新桥 石门 竹园 杏花 柳塘 青山 白沙 双溪")
WORKPLACE_WORDS = words("宏达 华信 恒通 金桥 永盛 天成 鼎新 瑞丰 立信 嘉禾 华夏 兴业 东升 明达 正泰 远航")
BRAND_CHARS = "鑫源祥宝弘润昌隆"  # a third 字号 character: fewer same-name firms
WORKPLACE_TRADES = words("纺织 机械 电子 建材 贸易 科技 印染 食品 轴承 化纤 袜业 珍珠 黄酒 物流")
INSTITUTIONS = words(
    "示例市人民医院 示例市中医院 示例市实验小学 示例市第一中学 示例市公安局 示例市财政局 "
    "示例市供电公司 示例市自来水有限公司"
)

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


def local_county(draws: Draws, n: int) -> pl.Series:
    """n indexes into CITY_COUNTIES by population share."""
    return weighted_index(draws.unit(n), [county.weight for county in CITY_COUNTIES])


def current_code(county: pl.Expr) -> pl.Expr:
    return county.replace_strict({i: c.code for i, c in enumerate(CITY_COUNTIES)}, return_dtype=TEXT)


def county_codes(county: pl.Series) -> pl.Series:
    """The codes in force of counties given as indexes into CITY_COUNTIES."""
    return county.to_frame("county").select(current_code(C("county"))).to_series()


def county_names() -> dict[int, str]:
    return {i: county.name for i, county in enumerate(CITY_COUNTIES)}


def _code_at(county: pl.Expr, year: pl.Expr) -> pl.Expr:
    """The code a county had in `year`: abolished codes for numbers assigned before a reorganization."""
    chain: pl.Expr = current_code(county)
    for i, item in reversed(list(enumerate(CITY_COUNTIES))):
        for code, until in reversed(item.earlier):
            chain = pl.when((county == i) & (year < until)).then(pl.lit(code)).otherwise(chain)
    return chain


def regions(draws: Draws, birth_year: pl.Series, migrant_share: float) -> pl.DataFrame:
    """Per person: `id_region` (the address code inside the ID number, as assigned then), 出生地 `csd`,
    籍贯 `jg` and the 户籍 county `home` (an index into CITY_COUNTIES). Locals were born in a county of the
    city and most still live there; migrants were born elsewhere and moved their 户籍 here."""
    n = birth_year.len()
    frame = pl.DataFrame(
        {
            "year": birth_year,
            "migrant": draws.unit(n) < migrant_share,
            "born_in": local_county(draws, n),
            "moved_to": local_county(draws, n),
            "moved": draws.unit(n) < 0.15,
            "other": _elsewhere(draws, n),
            "jg_other": _elsewhere(draws, n),
            "jg_same": draws.unit(n) < 0.85,
        }
    )
    assigned = pl.max_horizontal(C("year"), pl.lit(FIRST_ID_YEAR))
    birthplace = pl.when(C("migrant")).then(C("other")).otherwise(current_code(C("born_in")))
    return frame.select(
        id_region=pl.when(C("migrant")).then(C("other")).otherwise(_code_at(C("born_in"), assigned)),
        csd=birthplace,
        jg=pl.when(C("jg_same")).then(birthplace).otherwise(C("jg_other")),
        home=pl.when(C("migrant") | C("moved")).then(C("moved_to")).otherwise(C("born_in")),
    )


# --- 地址 ----------------------------------------------------------------------------------------------

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


def addresses(draws: Draws, county: pl.Series) -> pl.Series:
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
