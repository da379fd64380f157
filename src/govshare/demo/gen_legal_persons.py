"""企业登记注册信息 (市场监管) for the demo source files (govshare.demo.sources): the register's export,
统一社会信用代码 with their check characters, names, capital and dates by registrant kind, and its faults."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache

import polars as pl

from govshare.demo.gen_city import (
    BRAND_CHARS,
    CITY_CODE,
    CITY_NAME,
    TOWNS,
    VILLAGES,
    WORKPLACE_TRADES,
    WORKPLACE_WORDS,
    addresses,
    county_names,
    current_code,
    local_county,
)
from govshare.demo.gen_common import (
    ISO_DATE,
    TEXT,
    C,
    Draws,
    assign_faults,
    damage,
    date_variants,
    dates_in_years,
    drop_label,
    faulted,
    finish,
    supersede,
    weighted_index,
    wrong_check,
)
from govshare.demo.gen_people import names, sexes
from govshare.standards import validators

LEGAL_PERSON_COLUMNS = (
    "统一社会信用代码", "企业名称", "法定代表人", "企业类型", "注册资本", "币种", "成立日期", "营业期限自",
    "营业期限至", "登记机关", "住所", "经营范围", "经营状态", "核准日期", "行业代码",
)  # fmt: skip
LEGAL_PERSON_FAULT_RATES: dict[str, float] = {
    "check_char": 0.005,  # wrong check character: rejected (uscc.check)
    "bad_letter": 0.003,  # an I, O, S, V or Z typed for a similar digit: rejected (uscc.format)
    "lowercase": 0.005,  # letters in lower case: valid after normalization (codes without letters stay clean)
    "blank_row": 0.002,
    "superseded": 0.01,  # the same code again (变更登记): later 核准日期, another 住所
    "date_format": 0.02,  # 成立日期 as 20150312, 2015/3/12, 2015年3月12日 or an Excel serial: valid
}

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

# --- 统一社会信用代码 ----------------------------------------------------------------------------------


@cache
def _uscc_weights() -> tuple[int, ...]:
    """Per position, the weight modulo 31 (the check character is ALPHABET[(31 - sum mod 31) mod 31]),
    read back from the reference validator's `uscc_check_char`."""
    alphabet = validators.USCC_ALPHABET
    return tuple(
        (31 - alphabet.index(validators.uscc_check_char("0" * p + "1" + "0" * (16 - p)))) % 31
        for p in range(17)
    )


def _uscc_check_char(values: Sequence[pl.Expr]) -> pl.Expr:
    """The check character of 17-character bodies given as one alphabet index per position."""
    terms = [value * w for value, w in zip(values, _uscc_weights(), strict=True)]
    alphabet = validators.USCC_ALPHABET
    checks = {total: alphabet[(31 - total) % 31] for total in range(31)}
    return (pl.sum_horizontal(terms) % 31).replace_strict(checks, return_dtype=TEXT)


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
        pl.when(pl.lit(draws.unit(n) < 0.25)).then(pl.lit(CITY_CODE)).otherwise(current_code(pl.lit(county)))
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


# --- 名称, 登记机关, 注册资本, 成立日期 ----------------------------------------------------------------


def _by_kind(kind: pl.Series, county: pl.Series, value: pl.Expr, **columns: pl.Series) -> pl.Series:
    """`value` per registrant, from its `kind`, the name of its `county` (an index into CITY_COUNTIES) and
    the `columns` drawn for it."""
    county_name = county.replace_strict(county_names(), return_dtype=TEXT)
    return pl.DataFrame({"kind": kind, "county": county_name, **columns}).select(value).to_series()


def _organization_names(draws: Draws, kind: pl.Series, county: pl.Series) -> pl.Series:
    """Names by registrant kind: 示例市 + 字号 + trade + form for enterprises, cooperatives, collective
    economic organizations, associations and private non-enterprise units."""
    n = kind.len()
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
    return _by_kind(
        kind,
        county,
        name.alias("name"),
        word=draws.choice(n, WORKPLACE_WORDS),
        brand=draws.choice(n, BRAND_CHARS),
        trade=draws.choice(n, WORKPLACE_TRADES),
        form=draws.choice(n, ("有限公司", "有限责任公司", "股份有限公司"), (80, 15, 5)),
        farm=draws.choice(n, ("茶叶", "蔬菜", "农机", "水果", "花木", "香榧")),
        town=draws.choice(n, TOWNS),
        village=draws.choice(n, VILLAGES),
        body=draws.choice(n, ("协会", "商会", "学会")),
        unit=draws.choice(n, ("培训学校", "养老服务中心", "社会工作服务社")),
    )


def _authorities(draws: Draws, kind: pl.Series, county: pl.Series) -> pl.Series:
    """登记机关 by registrant kind; enterprises register with the city or the county bureau."""
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
    return _by_kind(kind, county, authority.alias("djjg"), city_level=draws.unit(kind.len()) < 0.4)


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
            "style": weighted_index(draws.unit(n), (85, 4, 11)),
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
    return dates_in_years(draws, n, years, weights).clip(upper_bound=date(2025, 9, 30))


# --- 企业登记注册信息 ----------------------------------------------------------------------------------


def _legal_persons(draws: Draws, rows: int) -> pl.DataFrame:
    """Clean 企业登记 rows under the catalog's field names (dates as dates, 核准日期 after 成立日期)."""
    kind = draws.weighted(rows, REGISTRANTS)
    county = local_county(draws, rows)
    currency_index = weighted_index(draws.unit(rows), [w for _, _, w in CURRENCIES])
    enterprise = kind == "91"
    currency_index = currency_index.set(~enterprise, 0)
    founded = _founding_dates(draws, rows)
    frame = pl.DataFrame(
        {
            "tyshxydm": _credit_codes(draws, kind, county),
            "dwmc": _organization_names(draws, kind, county),
            "fddbr": names(draws, sexes(draws, rows, 0.8)),
            "qylx": draws.weighted(rows, COMPANY_TYPES).set(~enterprise, None),
            "zczb": _capital(draws, rows, pl.Series([u for _, u, _ in CURRENCIES]).gather(currency_index)),
            "zczbbz": pl.Series([c for c, _, _ in CURRENCIES]).gather(currency_index),
            "founded": founded,
            "term_years": draws.choice(rows, ("长期", "20", "30"), (65, 20, 15)),
            "djjg": _authorities(draws, kind, county),
            "zs": addresses(draws, county),
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
        clrq=C("founded").dt.strftime(ISO_DATE),
        yyqxq=C("founded").dt.strftime(ISO_DATE),
        yyqxz=pl.when(C("term_years") == "长期").then(pl.lit("长期")).otherwise(until.dt.strftime(ISO_DATE)),
    )


def _legal_person_faults(frame: pl.DataFrame, fault: pl.Series, draws: Draws) -> pl.DataFrame:
    code = C("tyshxydm")
    # An I, O, S, V or Z typed into the body (positions 3–17), as a look-alike of 1, 0, 5, U or 2.
    position = C("k") % 15 + 2
    letter = C("w").replace_strict(dict(enumerate("IOSZ")), return_dtype=TEXT)
    letter = pl.when(C("v") == 0).then(pl.lit("V")).otherwise(letter)
    bad = code.str.slice(0, position) + letter + code.str.slice(position + 1)
    return damage(
        frame,
        fault,
        draws,
        {
            "tyshxydm": faulted(
                "tyshxydm",
                {
                    "check_char": wrong_check(code, validators.USCC_ALPHABET, C("k")),
                    "bad_letter": bad,
                    "lowercase": code.str.to_lowercase(),
                },
            ),
            "clrq": faulted("clrq", {"date_format": date_variants(C("founded"), C("w"))}),
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
    fault = assign_faults(draws, rows, LEGAL_PERSON_FAULT_RATES, faults)
    fault = drop_label(fault, "lowercase", frame.get_column("tyshxydm").str.contains("[A-Z]"))
    if faults:
        frame, fault = supersede(frame, fault, draws, changed=["zs", "djzt"], cursor="hzrq")
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
        C("hzrq").dt.strftime(ISO_DATE).alias("核准日期"),
        C("sshy").alias("行业代码"),
    )
    return finish(result, fault, LEGAL_PERSON_COLUMNS, label_faults)
