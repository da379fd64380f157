"""The vectorized (Polars) validators agree with the scalar reference on every value of large random
samples of good, damaged and hostile values."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from govshare.standards import validators as ref
from govshare.standards import vectorized as vec
from govshare.standards.text import FULLWIDTH, HALFWIDTH, WHITESPACE

SAMPLE = 12_000
TODAY = date(2026, 6, 1)
FULL = dict(zip(HALFWIDTH, FULLWIDTH, strict=True))
NOISE = [*list("0123456789Xx -/.()+#年月日号万亿%‰元,，：:ａ１ＩOSZ转ext\u3000\xa0\ufeff\u200bß①"), "", "\t"]


def _mangle(rng: random.Random, value: str) -> str:
    """One of many real-world damages: full-width, spaces, case, a changed, dropped or added character."""
    choice = rng.randrange(12)
    if not value or choice == 0:
        return value
    position = rng.randrange(len(value))
    if choice == 1:
        return "".join(FULL.get(c, c) for c in value)
    if choice == 2:
        return value[:position] + rng.choice(WHITESPACE) + value[position:]
    if choice == 3:
        return rng.choice(WHITESPACE) + value + rng.choice(WHITESPACE)
    if choice == 4:
        return value.lower()
    if choice == 5:
        return value[:position] + rng.choice(NOISE) + value[position + 1 :]
    if choice == 6:
        return value[:position] + value[position + 1 :]
    if choice == 7:
        return value[:position] + rng.choice(NOISE) + value[position:]
    if choice == 8:
        return value[:position] + str(rng.randrange(10)) + value[position + 1 :]
    if choice == 9:
        return FULL.get(value[position], value[position]).join([value[:position], value[position + 1 :]])
    return value


def _blank_or_junk(rng: random.Random) -> str | None:
    return rng.choice(
        [None, "", " ", "\u3000", "abc", "零", "-", "0", "ﾃｽﾄ", "\u200b", "１", "x" * rng.randrange(1, 30)]
    )


def _sample(rng: random.Random, good: Callable[[random.Random], str]) -> list[str | None]:
    values: list[str | None] = []
    for _ in range(SAMPLE):
        roll = rng.random()
        if roll < 0.05:
            values.append(_blank_or_junk(rng))
        elif roll < 0.45:
            values.append(good(rng))
        else:
            value = good(rng)
            for _ in range(rng.randrange(1, 3)):
                value = _mangle(rng, value)
            values.append(value)
    return values


def _random_date(rng: random.Random) -> date:
    start = date(1890, 1, 1)
    return start + timedelta(days=rng.randrange((date(2030, 12, 31) - start).days))


def good_id(rng: random.Random) -> str:
    born = _random_date(rng)
    if rng.random() < 0.05:  # impossible dates: February 29 in any year, the 31st of any month
        day = rng.choice(["0229", "0431", "0230", "1301", "0100"])
        body = f"{rng.randint(100000, 999999)}{born.year}{day}{rng.randrange(1000):03d}"
    else:
        body = f"{rng.randint(100000, 999999)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    if rng.random() < 0.15 and 1900 <= born.year <= 1999:
        return body[:6] + body[8:17]  # a 15-digit first-generation number
    return body + ref.id_check_digit(body)


def good_uscc(rng: random.Random) -> str:
    alphabet = ref.USCC_ALPHABET
    body = rng.choice("123456789ANY") + rng.choice(alphabet) + f"{rng.randint(100000, 999999)}"
    body += "".join(rng.choice(alphabet) for _ in range(9))
    return body + ref.uscc_check_char(body)


def good_phone(rng: random.Random) -> str:
    if rng.random() < 0.5:
        number = f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"
        prefix = rng.choice(["", "", "+86 ", "0086", "86", "+86-", "(+86)"])
        if rng.random() < 0.4:
            number = f"{number[:3]}{rng.choice(' -.')}{number[3:7]}{rng.choice(' -')}{number[7:]}"
        return prefix + number
    area = rng.choice(["010", "021", "027", "0755", "0571", "0931", "0898"])
    local = f"{rng.randint(2, 9)}{rng.randrange(10**7):07d}"
    if len(area) == 4 and rng.random() < 0.3:
        local = local[:7]
    text = rng.choice(
        [f"{area}-{local}", f"{area}{local}", f"({area}){local}", f"{area} {local[:4]} {local[4:]}"]
    )
    if rng.random() < 0.2:
        text = "+86 " + text[1:] if text[0] == "0" else text
    if rng.random() < 0.25:
        text += rng.choice(["-", "转", " ext. ", "#", " 分机"]) + str(rng.randrange(1, 99999))
    return text


def good_date(rng: random.Random) -> str:
    d = _random_date(rng)
    form = rng.randrange(8)
    if form == 0:
        return d.isoformat()
    if form == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if form == 2:
        return f"{d.year}年{d.month}月{d.day}{rng.choice('日号')}"
    if form == 3:
        return f"{d:%Y%m%d}"
    if form == 4:
        return f"{d:%Y.%m.%d}"
    if form == 5:
        return f"{d.isoformat()}{rng.choice([' 08:30', ' 23:59:59', 'T12:00:00.5'])}"
    if form == 6:
        serial = rng.choice([0, 1, 59, 60, 61, rng.randrange(1, 100000)])
        return f"{serial}" + (f".{rng.randrange(1000)}" if rng.random() < 0.2 else "")
    return f"{d.year}-{d.month:02d}-{rng.choice([29, 30, 31, 0, 32])}"


def good_number(rng: random.Random) -> str:
    whole = rng.randrange(0, 10 ** rng.randrange(1, 10))
    text = f"{whole:,}" if rng.random() < 0.3 else str(whole)
    if rng.random() < 0.4:
        text += "." + str(rng.randrange(1000))
    text = rng.choice(["", "", "-", "+"]) + text
    text += rng.choice(["", "", "万", "亿", "千万", "百万", "万亿", "千", "百", "十万"])
    text += rng.choice(["", "", "%", "‰"])
    return text + rng.choice(["", "元", "元", "人", "亩"])


def good_text(rng: random.Random) -> str:
    pieces = [
        "张三",
        "ＡＢＣ",
        "abc",
        "（一）",
        "１２３",
        " ",
        "\u3000",
        "\t",
        "测试",
        "－",
        "①",
        "ﬁ",
        "　中心",
    ]
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))


ETHNIC = ref.CodeTable.build(
    "GB 3304",
    [(f"{i:02d}", f"民族{i}") for i in range(1, 57)] + [("97", "其他"), ("98", "外国血统中国籍人士")],
    {"HA": "01", "MG": "02"},
)


def good_code(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 60):02d}",
            str(rng.randint(1, 99)),
            f"民族{rng.randint(1, 60)}",
            "HA",
            "其他",
            "97",
        ]
    )


CASES: dict[
    str, tuple[Callable[[random.Random], str], Callable[..., Any], Callable[..., Any], dict[str, Any]]
] = {
    "id_number": (good_id, ref.id_number, vec.id_number, {"today": TODAY}),
    "uscc": (good_uscc, ref.uscc, vec.uscc, {}),
    "mobile": (good_phone, ref.mobile, vec.mobile, {}),
    "landline": (good_phone, ref.landline, vec.landline, {}),
    "phone": (good_phone, ref.phone, vec.phone, {}),
    "date": (good_date, ref.parse_date, vec.parse_date, {}),
    "number": (good_number, ref.parse_number, vec.parse_number, {"units": ("元", "人")}),
    "text": (good_text, ref.clean_text, vec.clean_text, {}),
    "text_nfkc": (good_text, ref.clean_text, vec.clean_text, {"nfkc": True}),
    "trim": (good_text, ref.trimmed, vec.trimmed, {}),
    "code": (good_code, ref.in_code_set, vec.in_code_set, {"table": ETHNIC}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_vectorized_agrees_with_scalar(name: str) -> None:
    generate, scalar, vector, options = CASES[name]
    rng = random.Random(f"agreement-{name}")
    values = _sample(rng, generate)
    frame = vector(pl.Series("v", values, dtype=pl.String), **options)
    got = list(zip(*(frame.get_column(c).to_list() for c in ("value", "error", "message")), strict=True))
    mismatches = []
    accepted = rejected = 0
    for raw, (value, error, message) in zip(values, got, strict=True):
        expected = scalar(raw, **options)
        if (expected.value, expected.error, expected.message) != (value, error, message):
            mismatches.append((raw, (expected.value, expected.error), (value, error)))
        accepted += expected.value is not None
        rejected += expected.error is not None
    assert mismatches[:10] == []
    # the sample really mixes good and bad values
    assert accepted > SAMPLE * 0.2
    if name not in ("text", "text_nfkc", "trim"):
        assert rejected > SAMPLE * 0.05


def test_warnings_agree() -> None:
    rng = random.Random("warnings")
    ids = _sample(rng, good_id)
    sexes = [rng.choice(["1", "2", "男", "女性", "0", "9", "", None, "X", " 女 "]) for _ in ids]
    births = []
    for number in ids:
        checked = ref.id_number(number, today=TODAY).value
        if checked and rng.random() < 0.7:
            births.append(f"{checked[6:10]}-{checked[10:12]}-{checked[12:14]}")
        else:
            births.append(good_date(rng))
    id_series = pl.Series("id", ids, dtype=pl.String)
    sex_warnings = vec.sex_vs_id(pl.Series("s", sexes, dtype=pl.String), id_series, today=TODAY).to_list()
    birth_warnings = vec.birth_vs_id(
        pl.Series("b", births, dtype=pl.String), id_series, today=TODAY
    ).to_list()
    assert sex_warnings == [ref.sex_vs_id(s, i, today=TODAY) for s, i in zip(sexes, ids, strict=True)]
    assert birth_warnings == [ref.birth_vs_id(b, i, today=TODAY) for b, i in zip(births, ids, strict=True)]
    assert sex_warnings.count("warn.sex_id") > 100
    assert birth_warnings.count("warn.birth_id") > 100
    messages = vec.warning_messages(pl.Series(["warn.sex_id", None]))
    assert messages.to_list() == [ref.WARNINGS["warn.sex_id"], None]
