"""The other validators and normalizers, one value at a time (the reference implementation)."""

from __future__ import annotations

from datetime import date

import pytest

from govshare.standards import validators as v
from govshare.standards.validators import USCC_ALPHABET, uscc_check_char

# --- 统一社会信用代码 ---


def _uscc(body17: str) -> str:
    """A valid code computed here from GB 32100, independently of the module's own helper."""
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum("0123456789ABCDEFGHJKLMNPQRTUWXY".index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + "0123456789ABCDEFGHJKLMNPQRTUWXY"[(31 - total % 31) % 31]


@pytest.mark.parametrize(
    "body",
    [
        "91110000600037341",  # 9: 工商 (enterprise), the common case
        "Y1110000MA01ABCDE",  # Y: 工会 (trade union)
        "N2440300MA5F12345",  # N: 农业 (rural collective)
        "A1350100MB0123456",  # A: 中央军委改革和编制办公室
        "51110000500000123",  # 5: 民政 (social organisation)
        "12100000400012345",  # 1: 机构编制 (public institution)
    ],
)
def test_uscc_accepts_valid_codes_including_letter_initial_ones(body: str) -> None:
    code = _uscc(body)
    assert uscc_check_char(body) == code[-1]
    assert v.uscc(code).value == code
    assert v.uscc(code.lower()).value == code  # lower case
    assert v.uscc(f" {code[:6]}-{code[6:12]} {code[12:]} ").value == code  # separators


def test_uscc_known_code() -> None:
    assert v.uscc("91110000600037341L").value == "91110000600037341L"


def test_python_stdnum_rejects_letter_initial_codes_that_we_accept() -> None:
    stdnum_uscc = pytest.importorskip("stdnum.cn.uscc")
    code = _uscc("Y1110000MA01ABCDE")
    assert v.uscc(code).ok
    assert not stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("91110000600037341", "uscc.length"),
        ("91110000600037341LL", "uscc.length"),
        ("91110000600037341M", "uscc.check"),
        ("9111000060003734IL", "uscc.format"),  # I is not in the alphabet
        ("911100006000373O1L", "uscc.format"),  # nor O, S, V, Z
        ("91110000600037341Z", "uscc.format"),
    ],
)
def test_uscc_rejections(raw: str, error: str) -> None:
    assert v.uscc(raw).error == error


def test_uscc_alphabet_omits_i_o_s_v_z() -> None:
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)


def test_every_single_character_change_breaks_the_check() -> None:
    code = _uscc("91110000600037341")
    for position in range(18):
        for replacement in USCC_ALPHABET:
            if replacement != code[position]:
                changed = code[:position] + replacement + code[position + 1 :]
                assert v.uscc(changed).error == "uscc.check"


# --- 电话 ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("（+86）13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("19912345678", "19912345678"),
    ],
)
def test_mobile_numbers(raw: str, expected: str) -> None:
    assert v.mobile(raw).value == expected
    assert v.phone(raw).value == expected


@pytest.mark.parametrize(
    "raw", ["12800138000", "1380013800", "138001380001", "+1 13800138000", "010-62345678"]
)
def test_bad_mobile_numbers(raw: str) -> None:
    assert v.mobile(raw).error == "phone.mobile"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("(010)62345678", "010-62345678"),
        ("（010）6234 5678", "010-62345678"),
        ("021 6234 5678", "021-62345678"),
        ("0755-2234-5678", "0755-22345678"),
        ("075522345678", "0755-22345678"),
        ("0571-8888888", "0571-8888888"),
        ("+86 10 62345678", "010-62345678"),
        ("0086-571-88888888", "0571-88888888"),
        ("010-62345678-123", "010-62345678-123"),
        ("010-62345678转801", "010-62345678-801"),
        ("010-62345678 分机 801", "010-62345678-801"),
        ("0755 2234 5678 ext. 12", "0755-22345678-12"),
        ("0755-22345678#3", "0755-22345678-3"),
    ],
)
def test_landlines(raw: str, expected: str) -> None:
    assert v.landline(raw).value == expected
    assert v.phone(raw).value == expected


@pytest.mark.parametrize(
    "raw",
    ["62345678", "010-12345678", "010-0234567", "0755-223456", "0755-223456789", "13800138000", "电话"],
)
def test_bad_landlines(raw: str) -> None:
    assert v.landline(raw).error == "phone.landline"


def test_phone_rejects_what_is_neither() -> None:
    assert v.phone("12345").error == "phone.invalid"


# --- 日期 ---


@pytest.mark.parametrize(
    "raw",
    [
        "2020-01-02",
        "2020-1-2",
        "20200102",
        "2020/1/2",
        "2020/01/02",
        "2020年1月2日",
        "2020年01月02日",
        "2020年1月2号",
        "2020.01.02",
        "2020.1.2",
        "2020-01-02 13:45",
        "2020-01-02 13:45:59",
        "2020-01-02T13:45:59.123",
        "２０２０－０１－０２",
        " 2020-01-02 ",
        "43832",  # Excel serial
        "43832.5625",  # with a time of day
    ],
)
def test_every_date_form(raw: str) -> None:
    result = v.parse_date(raw)
    assert (result.value, result.error) == (date(2020, 1, 2), None)


def test_excel_serials_around_the_1900_leap_year_bug() -> None:
    assert v.parse_date("1").value == date(1900, 1, 1)
    assert v.parse_date("59").value == date(1900, 2, 28)
    assert v.parse_date("60").error == "date.excel_bug"  # Excel's 1900-02-29 never existed
    assert v.parse_date("61").value == date(1900, 3, 1)
    assert v.parse_date("0").error == "date.serial"
    assert v.parse_date(45292).value == date(2024, 1, 1)
    assert v.parse_date(45292.0).value == date(2024, 1, 1)
    assert v.parse_date("2958465").error == "date.format"  # more than five digits is not a serial


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("2021-02-29", "date.invalid"),
        ("2020-02-30", "date.invalid"),
        ("2020-13-01", "date.invalid"),
        ("2020-00-10", "date.invalid"),
        ("1900年2月29日", "date.invalid"),
        ("20210229", "date.invalid"),
        ("2020-01", "date.format"),
        ("2020年1月", "date.format"),
        ("02/01/2020", "date.format"),
        ("0999-01-01", "date.format"),
        ("yesterday", "date.format"),
        ("2020-01-02 25", "date.format"),
    ],
)
def test_impossible_or_unknown_dates(raw: str, error: str) -> None:
    assert v.parse_date(raw).error == error


def test_leap_days() -> None:
    assert v.parse_date("2000-02-29").value == date(2000, 2, 29)
    assert v.parse_date("2024年2月29日").value == date(2024, 2, 29)


# --- 带单位的数值 ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100万元", 1_000_000.0),
        ("1.5亿", 150_000_000.0),
        ("3,200元", 3200.0),
        ("3，200元", 3200.0),  # full-width comma
        ("12.5%", 0.125),
        ("12.5％", 0.125),
        ("-3‰", -0.003),
        ("2千万", 20_000_000.0),
        ("0.5万亿元", 500_000_000_000.0),
        ("1 234 元", 1234.0),
        ("+42", 42.0),
        (".5万", 5000.0),
        ("１００万元", 1_000_000.0),
    ],
)
def test_numbers_with_units(raw: str, expected: float) -> None:
    result = v.parse_number(raw)
    assert result.error is None
    assert result.value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("raw", ["1,00", "12,3456", "100美元", "万元", "1.2.3", "1e5", "abc", "--1"])
def test_numbers_refused(raw: str) -> None:
    assert v.parse_number(raw).error == "number.format"


def test_number_units_are_configurable() -> None:
    assert v.parse_number("3.5亩", units=("亩", "公顷")).value == 3.5
    assert v.parse_number("3.5元", units=("亩",)).error == "number.format"
    with pytest.raises(ValueError, match="unit"):
        v.number_pattern(("a|b",))


# --- 文本 ---


def test_full_width_to_half_width_and_trimming() -> None:
    assert v.clean_text("  ＡＢＣ－１２３　测试（一）  ").value == "ABC-123 测试(一)"
    assert v.clean_text("a \t\u3000 b").value == "a b"
    assert v.clean_text("a  b", collapse=False).value == "a  b"
    assert v.clean_text("①号楼").value == "①号楼"  # NFKC is opt-in: it would rewrite this
    assert v.clean_text("①号楼", nfkc=True).value == "1号楼"
    assert v.clean_text("\u3000 ").value is None
    assert v.trimmed("\ufeff 张三\u00a0").value == "张三"
    assert v.trimmed("ＡＢ").value == "ＡＢ"  # trimming only


# --- 代码集 ---


def test_code_set_membership() -> None:
    table = v.CodeTable.build("GB 3304", [("01", "汉族"), ("02", "蒙古族"), ("03", "回族")], {"HA": "01"})
    assert v.in_code_set("01", table).value == "01"
    assert v.in_code_set("1", table).value == "01"  # Excel dropped the leading zero
    assert v.in_code_set("蒙古族", table).value == "02"
    assert v.in_code_set("HA", table).value == "01"
    refused = v.in_code_set("99", table)
    assert (refused.error, refused.message) == ("code.unknown", "不在代码集“GB 3304”中")


def test_a_name_shared_by_several_codes_is_not_guessed() -> None:
    table = v.CodeTable.build("GB/T 2260", [("110105", "朝阳区"), ("220104", "朝阳区"), ("110101", "东城区")])
    assert v.in_code_set("东城区", table).value == "110101"
    assert v.in_code_set("朝阳区", table).error == "code.unknown"


# --- 一致性检查 ---


def test_sex_against_the_id_sequence_digit() -> None:
    male = "11010519491231001" + v.id_check_digit("11010519491231001")  # 17th digit 1: odd, male
    female = "11010519491231002" + v.id_check_digit("11010519491231002")  # 2: even, female
    for sex in ("1", "男", "男性", " 男 "):
        assert v.sex_vs_id(sex, male) is None
        assert v.sex_vs_id(sex, female) == "warn.sex_id"
    for sex in ("2", "女", "女性"):
        assert v.sex_vs_id(sex, female) is None
        assert v.sex_vs_id(sex, male) == "warn.sex_id"
    for unknown in ("0", "9", "", None, "未知"):
        assert v.sex_vs_id(unknown, male) is None
    assert v.sex_vs_id("1", "110105194912310021") is None  # an invalid ID is its own validator's business
    assert v.sex_vs_id("2", "110105491231001") == "warn.sex_id"  # 15-digit: the last digit is the sequence


def test_birth_date_against_the_id() -> None:
    number = "11010519491231002X"
    for same in ("1949-12-31", "1949年12月31日", "19491231", "18263"):
        assert v.birth_vs_id(same, number) is None
    assert v.birth_vs_id("1949-12-30", number) == "warn.birth_id"
    assert v.birth_vs_id("1949-12-30", "110105491231002") == "warn.birth_id"  # 15-digit numbers too
    assert v.birth_vs_id("not a date", number) is None
