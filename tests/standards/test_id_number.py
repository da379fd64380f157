"""公民身份号码 (GB 11643): the check digit, the date part, normalization and the 15-digit upgrade."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from govshare.standards.validators import ID_CHECK, ID_WEIGHTS, id_check_digit, id_number

TODAY = date(2026, 6, 1)


def make(address: str, born: date, sequence: int) -> str:
    body = f"{address}{born:%Y%m%d}{sequence:03d}"
    return body + id_check_digit(body)


def test_check_digit_is_the_standard_one() -> None:
    # The weights are 2^(17-i) mod 11 and the check is "10X98765432"[sum mod 11], as GB 11643 defines.
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == ID_WEIGHTS
    assert ID_CHECK == "10X98765432"
    # A published example number (GB 11643 appendix style): 11010519491231002X
    assert id_check_digit("11010519491231002") == "X"
    assert id_number("11010519491231002X", today=TODAY).value == "11010519491231002X"


def test_generated_numbers_are_accepted() -> None:
    rng = random.Random(11643)
    for _ in range(2000):
        born = date(1900, 1, 1) + timedelta(days=rng.randrange((TODAY - date(1900, 1, 1)).days + 1))
        number = make(f"{rng.randint(110000, 829999):06d}", born, rng.randint(0, 999))
        assert id_number(number, today=TODAY).value == number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),  # lowercase x
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width digits and X
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),  # spaces, also inside
        ("\u3000110105194912310 02X\t", "11010519491231002X"),  # ideographic space, tab
    ],
)
def test_normalization(raw: str, expected: str) -> None:
    result = id_number(raw, today=TODAY)
    assert (result.value, result.error) == (expected, None)


def test_fifteen_digit_numbers_are_upgraded() -> None:
    # 15 digits: address, YYMMDD, sequence. Upgrade: insert 19, append the check digit.
    assert id_number("110105491231002", today=TODAY).value == "11010519491231002X"
    old = "130503670401001"
    upgraded = id_number(old, today=TODAY).value
    assert upgraded == "13050319670401001" + id_check_digit("13050319670401001")
    assert id_number(upgraded, today=TODAY).value == upgraded
    assert id_number("110105490231002", today=TODAY).error == "id.date"  # 1949-02-31


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("11010519491231002", "id.length"),
        ("1101051949123100211", "id.length"),
        ("abc", "id.length"),
        ("11010519491231002Y", "id.format"),
        ("1101051949123100X2", "id.format"),
        ("11010519491231X021", "id.format"),
        ("110105194912310021", "id.check"),  # X expected
        ("110105194913310029", "id.date"),  # month 13
        ("110105194902300029", "id.date"),  # February 30
        ("110105189912310028", "id.too_old"),
    ],
)
def test_rejections(raw: str, error: str) -> None:
    result = id_number(raw, today=TODAY)
    assert (result.value, result.error) == (None, error)
    assert result.message  # a Chinese message for every error


def test_february_29_on_leap_and_common_years() -> None:
    assert id_number(make("110105", date(2000, 2, 29), 12), today=TODAY).ok  # divisible by 400
    assert id_number(make("110105", date(1996, 2, 29), 12), today=TODAY).ok
    for year in (1900, 1999, 2023):  # 1900: divisible by 100, not by 400
        body = f"110105{year}0229012"
        assert id_number(body + id_check_digit(body), today=TODAY).error == "id.date"


def test_birth_dates_after_today_are_rejected() -> None:
    assert id_number(make("110105", TODAY, 1), today=TODAY).ok
    future = TODAY + timedelta(days=1)
    body = f"110105{future:%Y%m%d}001"
    assert id_number(body + id_check_digit(body), today=TODAY).error == "id.future"


def test_blank_is_neither_valid_nor_an_error() -> None:
    for blank in (None, "", "   ", "\u3000"):
        result = id_number(blank, today=TODAY)
        assert (result.value, result.error) == (None, None)


def test_address_codes_are_not_checked_against_the_division_table() -> None:
    # 昌平县 (110221) was abolished in 1999 and 110111 房山区 only created in 1986: numbers issued under
    # them stay valid, and so does an address code no table knows.
    for number in ("110221197501011235", "110111198001011235", make("999999", date(1980, 1, 1), 5)):
        assert id_number(number, today=TODAY).ok


def test_python_stdnum_rejects_valid_old_numbers_that_we_accept() -> None:
    ric = pytest.importorskip("stdnum.cn.ric")
    number = "110221197501011235"  # 昌平县, abolished 1999; a person born 1975 keeps the number
    assert id_number(number, today=TODAY).value == number
    assert not ric.is_valid(number)  # stdnum looks the address up in its own table and fails
    # Some other historical codes (132102 邯山区, abolished 1983) make stdnum 2.2 raise KeyError.
    old = make("132102", date(1980, 1, 1), 123)
    assert id_number(old, today=TODAY).ok
    try:
        stdnum_accepts = ric.is_valid(old)
    except KeyError:
        stdnum_accepts = False
    assert not stdnum_accepts
