"""The vectorized transform on its own: every item's steps, every rejection named, every row accounted."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from govshare.collection.readers.base import ORD
from govshare.collection.transform import ItemPlan, Plan, transform
from govshare.standards import registry, validators
from tests.collection.helpers import person_id

SEX = validators.CodeTable.build(
    "GB/T 2261.1",
    [("0", "未知的性别"), ("1", "男性"), ("2", "女性"), ("9", "未说明的性别")],
    {"男": "1", "女": "2"},
)
MALE_1990 = person_id("19900307", 123)  # odd: male
FEMALE_1985 = person_id("19850101", 24)


def plan(**changes: object) -> Plan:
    items = (
        ItemPlan("gmsfhm", "公民身份号码", "C", "身份证号", 18, True, check=registry.get("id_number")),
        ItemPlan("xm", "姓名", "C", "姓名", 4, normalize=("text",)),
        ItemPlan(
            "xb",
            "性别",
            "C",
            "性别",
            1,
            value_map={"0": "1", "1": "2"},
            check=registry.get("code"),
            check_options={"table": SEX},
        ),
        ItemPlan("csrq", "出生日期", "D", "出生日期", check=registry.get("date")),
        ItemPlan("rs", "人数", "I", "人数", check=registry.get("number")),
        ItemPlan("gxsj", "更新时间", "T", "更新时间"),
        ItemPlan("yx", "有效", "L", "有效"),
    )
    base = {
        "items": items,
        "key": ("gmsfhm",),
        "cursor": "gxsj",
        "warnings": (("sex_vs_id", "xb", "gmsfhm"), ("birth_vs_id", "csrq", "gmsfhm")),
    }
    base.update(changes)
    return Plan(**base)  # type: ignore[arg-type]


def frame(*rows: dict[str, str | None]) -> pl.DataFrame:
    columns = ["身份证号", "姓名", "性别", "出生日期", "人数", "更新时间", "有效", "删除"]
    data = {c: [r.get(c) for r in rows] for c in columns}
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String)).with_columns(
        pl.int_range(1, len(rows) + 1, dtype=pl.Int64).alias(ORD)
    )


SOURCE = ["身份证号", "姓名", "性别", "出生日期", "人数", "更新时间", "有效", "删除"]


def good_row(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "身份证号": MALE_1990,
        "姓名": "张三",
        "性别": "0",
        "出生日期": "1990-03-07",
        "人数": "3",
        "更新时间": "2024-01-02 03:04:05",
        "有效": "是",
    }
    row.update(overrides)
    return row


def test_a_clean_row_is_typed_normalized_and_mapped() -> None:
    result = transform(frame(good_row(姓名=" 张　三 ", 出生日期="1990年3月7日")), plan(), SOURCE)
    assert result.rejected.height == 0 and result.empty == 0
    row = result.good.row(0, named=True)
    assert row["gmsfhm"] == MALE_1990
    assert row["xm"] == "张 三"  # full-width space to half-width, trimmed
    assert row["xb"] == "1"  # 公安 0 → GB/T 2261.1 1
    assert row["csrq"] == date(1990, 3, 7)
    assert row["rs"] == 3
    assert row["gxsj"] == datetime(2024, 1, 2, 3, 4, 5)
    assert row["yx"] is True
    assert result.good.schema["rs"] == pl.Int64 and result.good.schema["csrq"] == pl.Date


@pytest.mark.parametrize(
    ("overrides", "column", "rule", "fragment"),
    [
        (
            {"身份证号": MALE_1990[:-1] + ("0" if MALE_1990[-1] != "0" else "1")},
            "gmsfhm",
            "id.check",
            "校验码",
        ),
        ({"身份证号": None}, "gmsfhm", "required", "不能为空"),
        ({"姓名": "欧阳司马长名"}, "xm", "length", "上限 4"),
        ({"性别": "5"}, "xb", "code.unknown", "GB/T 2261.1"),
        ({"出生日期": "2021-02-30"}, "csrq", "date.invalid", "出生日期（csrq）"),
        ({"人数": "3.5"}, "rs", "integer", "应为整数"),
        ({"更新时间": "昨天"}, "gxsj", "datetime.format", "无法识别的日期时间"),
        ({"有效": "也许"}, "yx", "bool.format", "是/否"),
    ],
)
def test_each_rule_rejects_with_its_item_and_a_chinese_message(
    overrides: dict[str, str | None], column: str, rule: str, fragment: str
) -> None:
    result = transform(frame(good_row(), good_row(**overrides)), plan(), SOURCE)
    assert result.good.height == 1
    assert result.rejected.height == 1
    rejected = result.rejected.row(0, named=True)
    assert rejected[ORD] == 2
    assert (rejected["column"], rejected["rule"]) == (column, rule)
    assert fragment in rejected["message"]
    assert rejected["message"].count("（") >= 1  # names the item and its field


def test_the_quarantine_keeps_the_record_verbatim_and_every_message() -> None:
    bad = good_row(身份证号="123", 人数="x", 姓名="  王  ")
    result = transform(frame(bad), plan(), SOURCE)
    entry = result.rejected.row(0, named=True)
    assert '"身份证号":"123"' in entry["raw"] and '"姓名":"  王  "' in entry["raw"]
    assert "公民身份号码（gmsfhm）" in entry["message"] and "人数（rs）" in entry["message"]


def test_blank_rows_are_empty_not_rejected() -> None:
    result = transform(frame(good_row(), {"姓名": "  "}, {}), plan(), SOURCE)
    assert (result.good.height, result.rejected.height, result.empty) == (1, 0, 2)


def test_map_only_rejects_values_outside_the_map() -> None:
    items = plan().items
    strict = tuple(
        ItemPlan(
            i.field,
            i.label,
            i.data_type,
            i.source,
            i.length,
            i.required,
            value_map={"男": "1", "女": "2"},
            map_only=True,
        )
        if i.field == "xb"
        else i
        for i in items
    )
    result = transform(
        frame(good_row(性别="男"), good_row(性别="M")), plan(items=strict, warnings=()), SOURCE
    )
    assert result.good.get_column("xb").to_list() == ["1"]
    assert result.rejected.row(0, named=True)["rule"] == "map.missing"
    assert "“M”" in result.rejected.row(0, named=True)["message"]


def test_consistency_checks_warn_but_load() -> None:
    # 公安 "1" maps to 2 (female) but the number's sequence digit is odd (male); the birth date differs too
    result = transform(frame(good_row(性别="1", 出生日期="1990-03-08")), plan(), SOURCE)
    assert result.good.height == 1 and result.rejected.height == 0
    assert sorted(result.warnings.get_column("rule").to_list()) == ["warn.birth_id", "warn.sex_id"]
    assert result.warned_rows == 1


def test_a_tombstone_needs_only_its_key() -> None:
    tomb_plan = plan(deleted_column="删除", deleted_values=("D",))
    rows = frame(good_row(删除="D", 性别="7", 人数="x"), good_row(身份证号="bad", 删除="D"))
    result = transform(rows, tomb_plan, SOURCE)
    assert result.good.height == 1 and result.good.row(0, named=True)["_tomb"] is True
    assert result.rejected.row(0, named=True)["column"] == "gmsfhm"


def test_fifteen_digit_numbers_are_upgraded_and_lowercase_x_fixed() -> None:
    old = "110105900307123"  # 15-digit first-generation number
    lower = FEMALE_1985.lower()
    result = transform(
        frame(
            good_row(身份证号=old, 出生日期="1990-03-07"),
            good_row(身份证号=f" {lower} ", 性别="1", 出生日期="19850101"),
        ),
        plan(),
        SOURCE,
    )
    ids = result.good.get_column("gmsfhm").to_list()
    assert len(ids[0]) == 18 and ids[0].startswith("11010519900307123")
    assert ids[1] == FEMALE_1985.upper()


def test_numbers_with_units_are_kept_in_the_items_unit() -> None:
    capital = ItemPlan(
        "zczb", "注册资本（万元）", "Y", "注册资本", check=registry.get("number"), divide_by=10000
    )
    money = Plan(items=(capital,), key=("zczb",))
    rows = pl.DataFrame({"注册资本": ["100万元", "1.5亿", "3,200元"], ORD: [1, 2, 3]})
    result = transform(rows, money, ["注册资本"])
    # exact decimals (货币 is never a binary float): 3,200 元 is 0.32 万元, not 0.32000000000000001
    assert result.good.get_column("zczb").to_list() == [Decimal("100"), Decimal("15000"), Decimal("0.32")]
