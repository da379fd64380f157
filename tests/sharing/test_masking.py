"""Masking of data items by catalog mask rule: scalar rules, records, and the vectorised frame path."""

from __future__ import annotations

import datetime as dt
import math
import random

import polars as pl
import pytest

from govshare.catalog.vocabulary import MaskRule
from govshare.sharing.masking import (
    BIRTH_DATE,
    HIDDEN,
    MOBILE_PREFIX,
    REGION,
    RULES,
    SEX,
    harden,
    is_rule,
    mask_frame,
    mask_record,
    mask_value,
    reveals,
)

MASKING_RULES = ("id_number", "mobile", "name", "partial", "hide")
CHINESE = "张王李赵刘陈杨黄欧阳娜北京市东城区华门街道上海浦新省县镇村路号楼单元室"
ASCII = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-+_ ."
N = 5000


# --- scalar rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("none", "110105199001010123", "110105199001010123"),
        ("id_number", "110105199001010123", "110105********0123"),
        ("id_number", "11010519900101012X", "110105********012X"),
        ("id_number", "110105900101012", "110105*****1012"),
        ("id_number", "12345678901", "123456*8901"),
        ("id_number", "1234567890", "********90"),
        ("id_number", "A123", "**23"),
        ("id_number", "123", "*23"),
        ("id_number", "12", "**"),
        ("id_number", "1", "*"),
        ("mobile", "13800138000", "138****8000"),
        ("mobile", "+8613800138000", "+86*******8000"),
        ("mobile", "86-13800138000", "86-*******8000"),
        ("mobile", "12345678", "123*5678"),
        ("mobile", "1234567", "*****67"),
        ("mobile", "123", "*23"),
        ("mobile", "12", "**"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("name", "张", "*"),
        ("name", "Li Lei", "L*****"),
        ("partial", "北京市东城区东华门街道", "北京市*****门街道"),
        ("partial", "abc", "a*c"),
        ("partial", "abcd", "a**d"),
        ("partial", "abcde", "ab*de"),
        ("partial", "abcdefgh", "ab****gh"),
        ("partial", "abcdefghi", "abc***ghi"),
        ("partial", "ab", "**"),
        ("partial", "a", "*"),
        ("hide", "张三", HIDDEN),
        ("hide", "x", HIDDEN),
        ("hide", "110105199001010123", HIDDEN),
    ],
)
def test_mask_value_examples(rule: str, value: str, expected: str) -> None:
    assert mask_value(rule, value) == expected


@pytest.mark.parametrize("rule", sorted(RULES))
def test_none_and_empty_are_kept(rule: str) -> None:
    assert mask_value(rule, None) is None
    assert mask_value(rule, "") == ""


@pytest.mark.parametrize("rule", ["id_number", "mobile", "name", "partial"])
def test_masked_text_keeps_its_length_in_characters(rule: str) -> None:
    rng = random.Random(7)
    for n in range(1, 40):
        text = "".join(rng.choice(CHINESE) for _ in range(n))
        out = mask_value(rule, text)
        assert isinstance(out, str)
        assert len(out) == n
        assert "*" in out


def test_partial_keeps_a_quarter_rounded_up_at_each_end() -> None:
    for n in range(3, 60):
        text = "".join(chr(0x4E00 + i) for i in range(n))
        k = math.ceil(n / 4)
        assert mask_value("partial", text) == text[:k] + "*" * (n - 2 * k) + text[-k:]


def test_hide_does_not_leak_the_length() -> None:
    assert {mask_value("hide", "x" * n) for n in range(1, 30)} == {HIDDEN}


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("none", 13800138000, 13800138000),
        ("none", dt.date(2024, 1, 2), dt.date(2024, 1, 2)),
        ("none", True, True),
        ("none", 1.5, 1.5),
        ("hide", 0, HIDDEN),
        ("hide", False, HIDDEN),
        ("hide", dt.date(2024, 1, 2), HIDDEN),
        ("hide", 0.0, HIDDEN),
        ("mobile", 13800138000, "138****8000"),
        ("id_number", 110105199001010123, "110105********0123"),
        ("id_number", dt.date(2024, 1, 2), "********02"),
        ("partial", dt.date(2024, 1, 2), "202****-02"),
        ("partial", dt.datetime(2024, 1, 2, 3, 4, 5), "2024-*********04:05"),
        ("name", True, "T***"),
        ("name", False, "F****"),
        ("name", 3.25, "3***"),
        ("mobile", -5, "**"),
    ],
)
def test_non_string_values(rule: str, value: object, expected: object) -> None:
    out = mask_value(rule, value)
    assert out == expected
    assert type(out) is type(expected)


def test_non_string_values_are_masked_as_their_str() -> None:
    for value in (dt.datetime(2024, 1, 2, 3, 4, 5, 123456), 12345.678, dt.date(1999, 12, 31), 10**20):
        for rule in ("id_number", "mobile", "name", "partial"):
            assert mask_value(rule, value) == mask_value(rule, str(value))


def test_unknown_rule_is_an_error() -> None:
    assert not is_rule("mask")
    assert not is_rule("")
    assert not is_rule("ID_NUMBER")
    assert not is_rule(None)
    with pytest.raises(ValueError, match="mask rule"):
        mask_value("mask", "张三")
    with pytest.raises(ValueError, match="mask rule"):
        mask_value("身份证", None)


def test_rules_are_the_catalog_vocabulary() -> None:
    assert {m.value for m in MaskRule} == RULES
    for member in MaskRule:
        assert is_rule(member)
        assert is_rule(member.value)
    assert mask_value(MaskRule.MOBILE, "13800138000") == "138****8000"


# --- original values never visible -------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def test_id_numbers_and_mobiles_do_not_show_their_middle() -> None:
    rng = random.Random(20240102)
    ids18 = [_digits(rng, 17) + rng.choice("0123456789X") for _ in range(2000)]
    ids15 = [_digits(rng, 15) for _ in range(2000)]
    mobiles = ["1" + _digits(rng, 10) for _ in range(2000)]
    frame = pl.DataFrame({"id18": ids18, "id15": ids15, "mobile": mobiles})
    masked = mask_frame(frame, {"id18": "id_number", "id15": "id_number", "mobile": "mobile"})
    cases = [("id18", "id_number", 6, 4), ("id15", "id_number", 6, 4), ("mobile", "mobile", 3, 4)]
    for column, rule, head, tail in cases:
        for value, vectorised in zip(frame[column], masked[column], strict=True):
            middle = value[head:-tail]
            for out in (mask_value(rule, value), vectorised):
                assert isinstance(out, str)
                assert middle not in out
                assert out == value[:head] + "*" * len(middle) + value[-tail:]
                assert out != value


def test_short_id_numbers_and_mobiles_show_only_the_last_two_characters() -> None:
    rng = random.Random(3)
    for rule, longest in (("id_number", 10), ("mobile", 7)):
        for n in range(1, longest + 1):
            value = _digits(rng, n)
            hidden = n if n <= 2 else n - 2
            assert mask_value(rule, value) == "*" * hidden + value[hidden:], (rule, value)


# --- records --------------------------------------------------------------------------------------------


def test_mask_record_honours_rules_clear_and_unmentioned_keys() -> None:
    record: dict[str, object] = {
        "xm": "张三",
        "sfzh": "110105199001010123",
        "sjhm": "13800138000",
        "dz": "北京市东城区东华门街道",
        "bz": "备注",
        "nl": 34,
        "csrq": dt.date(1990, 1, 1),
        "kong": None,
    }
    original = dict(record)
    rules = {
        "xm": "name",
        "sfzh": "id_number",
        "sjhm": "mobile",
        "dz": "partial",
        "nl": "hide",
        "csrq": "none",
        "kong": "hide",
        "absent": "hide",
    }
    out = mask_record(record, rules, clear={"sjhm"})
    assert out == {
        "xm": "张*",
        "sfzh": "110105********0123",
        "sjhm": "13800138000",
        "dz": "北京市*****门街道",
        "bz": "备注",
        "nl": HIDDEN,
        "csrq": dt.date(1990, 1, 1),
        "kong": None,
    }
    assert list(out) == list(record)
    assert record == original
    assert out is not record


def test_mask_record_without_rules_returns_an_equal_copy() -> None:
    record: dict[str, object] = {"a": "张三", "b": 1}
    out = mask_record(record, {})
    assert out == record
    assert out is not record


def test_mask_record_rejects_unknown_rules() -> None:
    with pytest.raises(ValueError, match="mask rule"):
        mask_record({"a": "x"}, {"a": "secret"})
    with pytest.raises(ValueError, match="mask rule"):
        mask_record({"a": "x"}, {"b": "secret"})


# --- frames ------------------------------------------------------------------------------------------------


def _text(rng: random.Random) -> str | None:
    if rng.random() < 0.05:
        return None
    n = rng.randint(0, 25)
    alphabet = rng.choice((CHINESE, ASCII, CHINESE + ASCII))
    return "".join(rng.choice(alphabet) for _ in range(n))


def _float(rng: random.Random) -> float | None:
    kind = rng.randrange(8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice((math.nan, math.inf, -math.inf, 0.0, -0.0, 1e16, 1e-5, 1e-4, 1.0))
    if kind == 2:
        return rng.uniform(1e-5, 1e-4) * rng.choice((1, -1))
    if kind == 3:
        return float(rng.randint(-(10**9), 10**9))
    if kind == 4:
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
    return rng.random() * 10.0 ** rng.randint(-40, 40) * rng.choice((1, -1))


def _random_frame(seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    epoch = dt.datetime(1900, 1, 1)

    def maybe(value: object) -> object:
        return None if rng.random() < 0.05 else value

    def moment() -> dt.datetime:
        return epoch + dt.timedelta(
            seconds=rng.randint(0, 200 * 365 * 86400),
            microseconds=rng.choice((0, 0, rng.randint(0, 999_999), 1000 * rng.randint(0, 999))),
        )

    texts = [_text(rng) for _ in range(N)]
    ints = [
        maybe(rng.choice((rng.randint(-(10**18), 10**18), rng.randint(-100, 100), 13800138000)))
        for _ in range(N)
    ]
    dates = [maybe(dt.date(1, 1, 1) + dt.timedelta(days=rng.randint(0, 3_652_058))) for _ in range(N)]
    stamps = [maybe(moment()) for _ in range(N)]
    times = [maybe(moment().time()) for _ in range(N)]
    bools = [maybe(rng.random() < 0.5) for _ in range(N)]
    floats = [_float(rng) for _ in range(N)]
    return pl.DataFrame(
        {
            "text": pl.Series(texts, dtype=pl.String),
            "int": pl.Series(ints, dtype=pl.Int64),
            "small": (pl.Series(ints, dtype=pl.Int64) % 100).cast(pl.Int16),
            "date": pl.Series(dates, dtype=pl.Date),
            "stamp": pl.Series(stamps, dtype=pl.Datetime("us")),
            "stamp_ms": pl.Series(stamps, dtype=pl.Datetime("us")).cast(pl.Datetime("ms")),
            "stamp_ns": pl.Series(stamps, dtype=pl.Datetime("us")).cast(pl.Datetime("ns")),
            "stamp_tz": pl.Series(stamps, dtype=pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Asia/Shanghai"),
            "stamp_ny": pl.Series(stamps, dtype=pl.Datetime("ms"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("America/New_York"),
            "time": pl.Series(times, dtype=pl.Time),
            "bool": pl.Series(bools, dtype=pl.Boolean),
            "float": pl.Series(floats, dtype=pl.Float64),
            "float32": pl.Series(floats, dtype=pl.Float32),
            "category": pl.Series(texts, dtype=pl.Categorical),
        }
    )


@pytest.fixture(scope="module")
def random_frame() -> pl.DataFrame:
    return _random_frame(20240101)


@pytest.mark.parametrize("rule", MASKING_RULES)
def test_mask_frame_agrees_with_mask_value(random_frame: pl.DataFrame, rule: str) -> None:
    frame = random_frame
    assert frame.height >= N
    texts = frame["text"].to_list()
    assert None in texts
    assert "" in texts
    assert any(t and len(t) == 25 for t in texts)
    assert any(t and any("\u4e00" <= c <= "\u9fff" for c in t) for t in texts)

    masked = mask_frame(frame, dict.fromkeys(frame.columns, rule))
    assert masked.columns == frame.columns
    assert masked.height == frame.height
    for column in frame.columns:
        assert masked[column].dtype == pl.String, column
        expected = [mask_value(rule, value) for value in frame[column].to_list()]
        got = masked[column].to_list()
        mismatches = [
            (value, e, g)
            for value, e, g in zip(frame[column].to_list(), expected, got, strict=True)
            if e != g
        ]
        assert not mismatches, (column, mismatches[:5])


def test_mask_frame_renders_values_as_python_str() -> None:
    frame = pl.DataFrame(
        {
            "date": [dt.date(2024, 1, 2)],
            "stamp": [dt.datetime(2024, 1, 2, 3, 4, 5)],
            "stamp_us": [dt.datetime(2024, 1, 2, 3, 4, 5, 123456)],
            "bool": [True],
            "int": [13800138000],
            "float": [1.5e-5],
        }
    )
    masked = mask_frame(frame, dict.fromkeys(frame.columns, "name"))
    assert masked.row(0) == ("2*********", "2" + "*" * 18, "2" + "*" * 25, "T***", "1**********", "1******")


def test_mask_frame_leaves_clear_and_unruled_columns_untouched() -> None:
    frame = pl.DataFrame(
        {
            "xm": ["张三", "欧阳娜娜", None],
            "nl": pl.Series([34, None, 5], dtype=pl.Int32),
            "sjhm": ["13800138000", "13900139000", ""],
            "csrq": [dt.date(1990, 1, 1), None, dt.date(2000, 2, 29)],
            "bz": ["a", "b", "c"],
            "sfzh": ["110105199001010123", "", None],
        }
    )
    rules = {"xm": "name", "nl": "hide", "sjhm": "mobile", "csrq": "none", "sfzh": "id_number", "zz": "hide"}
    masked = mask_frame(frame, rules, clear=["sjhm"])
    assert masked.columns == frame.columns
    assert masked.schema == {
        "xm": pl.String,
        "nl": pl.String,
        "sjhm": pl.String,
        "csrq": pl.Date,
        "bz": pl.String,
        "sfzh": pl.String,
    }
    assert masked.to_dict(as_series=False) == {
        "xm": ["张*", "欧***", None],
        "nl": [HIDDEN, None, HIDDEN],
        "sjhm": ["13800138000", "13900139000", ""],
        "csrq": [dt.date(1990, 1, 1), None, dt.date(2000, 2, 29)],
        "bz": ["a", "b", "c"],
        "sfzh": ["110105********0123", "", None],
    }
    # the input frame is not modified
    assert frame["xm"].to_list() == ["张三", "欧阳娜娜", None]
    assert frame["nl"].dtype == pl.Int32


def test_mask_frame_with_no_rows() -> None:
    frame = pl.DataFrame(schema={"a": pl.String, "b": pl.Int64, "c": pl.Date})
    masked = mask_frame(frame, {"a": "partial", "b": "hide"})
    assert masked.height == 0
    assert masked.schema == {"a": pl.String, "b": pl.String, "c": pl.Date}


def test_mask_frame_rejects_unknown_rules() -> None:
    frame = pl.DataFrame({"a": ["x"]})
    with pytest.raises(ValueError, match="mask rule"):
        mask_frame(frame, {"a": "hidden"})
    with pytest.raises(ValueError, match="mask rule"):
        mask_frame(frame, {"a": "hidden"}, clear={"a"})


# --- hardened against the grant's clear items ------------------------------------------------------------


def test_strict_forms_hide_what_a_clear_birth_date_or_prefix_would_fill_in() -> None:
    assert mask_value("id_number_strict", "110105199001010123") == "110105************"
    assert mask_value("id_number_strict", "110105900101012") == "110105*********"
    assert mask_value("id_number_strict", "1234567890") == "********90"
    assert mask_value("mobile_strict", "13800138000") == "138********"
    assert mask_value("mobile_strict", "1234567") == "*****67"
    assert not is_rule("id_number_strict")  # not a catalog rule: chosen by `harden` only


def test_harden_swaps_only_the_rules_the_revealed_facts_undo() -> None:
    rules = {"gmsfhm": "id_number", "sjhm": "mobile", "xm": "name", "csrq": "none"}
    assert harden(rules, set()) == rules
    assert harden(rules, {BIRTH_DATE}) == {**rules, "gmsfhm": "id_number_strict"}
    assert harden(rules, {MOBILE_PREFIX, REGION}) == {**rules, "sjhm": "mobile_strict"}
    assert reveals("出生日期", "D", None) == {BIRTH_DATE}
    assert reveals("出生地", "C", "GB/T 2260") == {REGION}
    assert reveals("性别", "C", "GB/T 2261.1") == {SEX}
    assert reveals("出生医学证明编号", "C", None) == frozenset()


@pytest.mark.parametrize("rule", ["id_number_strict", "mobile_strict"])
def test_mask_frame_agrees_with_mask_value_on_strict_forms(rule: str) -> None:
    rng = random.Random(11)
    values = [_digits(rng, rng.randint(0, 20)) for _ in range(2000)] + [None, ""]
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    masked = mask_frame(frame, {"v": rule})["v"].to_list()
    assert masked == [mask_value(rule, v) for v in values]
