"""Validators and normalizers, one value at a time: the reference implementation.

Every validator takes a raw value (text as found in a file; numbers are read as their text) and returns a
`Result`: the normalized value, or an error code with a Chinese message. A blank value (nothing left after
trimming) is neither: value and error are both None, since whether a field may be empty is the mapping's
business, not the format's. `govshare.standards.vectorized` implements the same rules over whole columns;
the tests hold the two to agreeing value for value.

Consistency checks (`sex_vs_id`, `birth_vs_id`) return a warning code or None: they never reject.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from govshare.core.clock import BEIJING, utcnow
from govshare.standards.text import (
    WHITESPACE,
    WHITESPACE_CLASS,
    ascii_lower,
    ascii_upper,
    drop_whitespace,
    halfwidth,
    trim,
)

MESSAGES: dict[str, str] = {
    "id.length": "公民身份号码应为18位（或15位的第一代号码）",
    "id.format": "公民身份号码只能由数字组成，18位号码的末位可以是X",
    "id.date": "公民身份号码中的出生日期不是有效日期",
    "id.too_old": "公民身份号码中的出生日期早于1900年",
    "id.future": "公民身份号码中的出生日期晚于今天",
    "id.check": "公民身份号码校验码错误",
    "uscc.length": "统一社会信用代码应为18位",
    "uscc.format": "统一社会信用代码只能由数字和大写字母组成（不使用I、O、S、V、Z）",
    "uscc.check": "统一社会信用代码校验码错误",
    "phone.mobile": "不是有效的手机号码（11位，以13–19开头，可带+86）",
    "phone.landline": "不是有效的固定电话号码（须带区号，如010-62345678、0755-2345678）",
    "phone.invalid": "不是有效的手机号码或固定电话号码",
    "date.format": "无法识别的日期格式",
    "date.invalid": "日期不存在",
    "date.excel_bug": "Excel 序列号60对应不存在的1900年2月29日",
    "date.serial": "Excel 日期序列号应在1到99999之间",
    "number.format": "无法识别的数值或单位",
    "code.unknown": "不在代码集中",
}

WARNINGS: dict[str, str] = {
    "warn.sex_id": "性别与公民身份号码第17位不一致（奇数为男，偶数为女）",
    "warn.birth_id": "出生日期与公民身份号码中的出生日期不一致",
}


@dataclass(frozen=True)
class Result:
    value: Any = None
    error: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def fail(cls, error: str, message: str | None = None) -> Result:
        return cls(None, error, message or MESSAGES[error])


BLANK = Result()


def as_text(value: object) -> str | None:
    """The text of a raw value; None for None. Whole floats lose their ".0" (Excel reads 13800138000 as a
    float); other values are `str()`."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _prepared(value: object) -> str | None:
    text = as_text(value)
    if text is None:
        return None
    text = trim(halfwidth(text))
    return text or None


def today_in_beijing() -> date:
    return utcnow().astimezone(BEIJING).date()


# --- 公民身份号码 (GB 11643) ---------------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID18 = re.compile(r"[0-9]{17}[0-9X]")
ID15 = re.compile(r"[0-9]{15}")


def id_check_digit(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def id_number(value: object, *, today: date | None = None) -> Result:
    """公民身份号码 → 18 characters. Full-width digits, spaces and a lowercase x are normalized; a 15-digit
    first-generation number is upgraded (19 inserted before the year, check digit computed). The birth
    date must be a real date, from 1900 to today; the check digit must match. The address code is not
    checked against GB/T 2260: numbers issued under abolished codes stay valid."""
    text = _prepared(value)
    if text is None:
        return BLANK
    text = drop_whitespace(text).replace("x", "X")
    if ID15.fullmatch(text):
        body = text[:6] + "19" + text[6:]
        checked: str | None = None
    elif ID18.fullmatch(text):
        body, checked = text[:17], text[17]
    elif len(text) not in (15, 18):
        return Result.fail("id.length")
    else:
        return Result.fail("id.format")
    if int(body[6:10]) < 1900:
        return Result.fail("id.too_old")
    born = _real_date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    if born is None:
        return Result.fail("id.date")
    if born > (today or today_in_beijing()):
        return Result.fail("id.future")
    check = id_check_digit(body)
    if checked is not None and checked != check:
        return Result.fail("id.check")
    return Result(body + check)


# --- 统一社会信用代码 (GB 32100) -------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}


def uscc_check_char(body17: str) -> str:
    total = sum(USCC_VALUES[c] * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_text(value: object) -> str | None:
    """A 统一社会信用代码 as people type it, made the code's own spelling before any check: full-width
    characters half-width, spaces and hyphens dropped, letters upper-cased; None for a blank value ("" when
    only separators were typed). The department forms of the API, the portal and the console read a code
    through this too."""
    text = _prepared(value)
    if text is None:
        return None
    return ascii_upper(drop_whitespace(text).replace("-", ""))


def uscc(value: object) -> Result:
    """统一社会信用代码 → 18 upper-case characters. Spaces and hyphens are dropped and letters upper-cased;
    every character must be in the GB 32100 alphabet and the check character must match. Codes that begin
    with letters (registration authorities such as Y, N, A…) are as valid as those beginning with 9."""
    text = uscc_text(value)
    if text is None:
        return BLANK
    if len(text) != 18:
        return Result.fail("uscc.length")
    if any(c not in USCC_VALUES for c in text):
        return Result.fail("uscc.format")
    if uscc_check_char(text[:17]) != text[17]:
        return Result.fail("uscc.check")
    return Result(text)


# --- 电话号码 ------------------------------------------------------------------------------------------

PHONE_SEPARATORS_CLASS = WHITESPACE_CLASS[:-1] + "().-]"
MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
LANDLINE_EXTENSION = re.compile(r"(.*?)(?:转|分机|ext\.?|[x#])" + WHITESPACE_CLASS + r"*([0-9]{1,6})")
LANDLINE_DASH_EXTENSION = re.compile(r"(.*[0-9].*-.*[0-9].*)-([0-9]{1,6})")
LANDLINE_DIGITS = re.compile(r"(\+86|0086)?([0-9]+)")
LANDLINE = re.compile(r"(0(?:10|2[0-9]|[3-9][0-9]{2}))([2-9][0-9]{6,7})")


def _phone_text(value: object) -> str | None:
    return _prepared(value)


def _strip_separators(text: str) -> str:
    return re.sub(PHONE_SEPARATORS_CLASS, "", text)


def mobile(value: object) -> Result:
    """Mainland mobile number → 11 digits. A +86 / 0086 / 86 prefix and separators (spaces, hyphens, dots,
    brackets) are dropped."""
    text = _phone_text(value)
    if text is None:
        return BLANK
    match = MOBILE.fullmatch(_strip_separators(text))
    return Result(match.group(1)) if match else Result.fail("phone.mobile")


def _landline_number(main: str, extension: str | None) -> str | None:
    digits = LANDLINE_DIGITS.fullmatch(_strip_separators(main))
    if digits is None:
        return None
    number = digits.group(2)
    if digits.group(1) and not number.startswith("0"):
        number = "0" + number  # +86 10 12345678: the trunk prefix 0 comes back
    parts = LANDLINE.fullmatch(number)
    if parts is None:
        return None
    return f"{parts.group(1)}-{parts.group(2)}" + (f"-{extension}" if extension else "")


def _landline(text: str) -> str | None:
    """The first reading that gives a valid number: an extension after 转/分机/ext/x/#, then an extension
    as a third hyphenated group, then the whole text as the number (0755-1234-5678)."""
    lowered = ascii_lower(text)
    for pattern in (LANDLINE_EXTENSION, LANDLINE_DASH_EXTENSION):
        match = pattern.fullmatch(lowered)
        if match:
            found = _landline_number(match.group(1), match.group(2))
            if found:
                return found
    return _landline_number(lowered, None)


def landline(value: object) -> Result:
    """Fixed-line number with its area code → "0AA-NNNNNNNN" or "0AAA-NNNNNNN[N]", then "-extension" if
    one was given (转 / 分机 / ext / x / # or a third hyphenated group). 010 and 020–029 are three-digit area
    codes, every other one has four digits; the local number has 7 or 8 digits and does not begin with 0
    or 1. A +86 / 0086 prefix is accepted (the 0 of the area code is restored)."""
    text = _phone_text(value)
    if text is None:
        return BLANK
    normalized = _landline(text)
    return Result(normalized) if normalized else Result.fail("phone.landline")


def phone(value: object) -> Result:
    """A mobile or a fixed-line number, normalized as by `mobile` or `landline`."""
    text = _phone_text(value)
    if text is None:
        return BLANK
    match = MOBILE.fullmatch(_strip_separators(text))
    if match:
        return Result(match.group(1))
    normalized = _landline(text)
    return Result(normalized) if normalized else Result.fail("phone.invalid")


# --- 日期 ----------------------------------------------------------------------------------------------

_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
DATE_PATTERN = (
    r"^(?:"
    r"(?P<y1>[1-9][0-9]{3})[-/.](?P<m1>[0-9]{1,2})[-/.](?P<d1>[0-9]{1,2})" + _TIME + "|"
    r"(?P<y2>[1-9][0-9]{3})年(?P<m2>[0-9]{1,2})月(?P<d2>[0-9]{1,2})[日号]" + _TIME + "|"
    r"(?P<y3>[1-9][0-9]{3})(?P<m3>[0-9]{2})(?P<d3>[0-9]{2})|"
    r"(?P<serial>[0-9]{1,5})(?:\.[0-9]+)?"
    r")$"
)
DATE = re.compile(DATE_PATTERN)
EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 = 1900-03-01; serials below 60 are one day later
EXCEL_LEAP_BUG = 60


def excel_serial_date(serial: int) -> Result:
    """Excel's 1900 date system: 1 = 1900-01-01 … 59 = 1900-02-28; 60 is Excel's 1900-02-29, a day that
    never was; 61 = 1900-03-01 onwards."""
    if serial < 1:
        return Result.fail("date.serial")
    if serial == EXCEL_LEAP_BUG:
        return Result.fail("date.excel_bug")
    offset = serial if serial > EXCEL_LEAP_BUG else serial + 1
    return Result(EXCEL_EPOCH + timedelta(days=offset))


def parse_date(value: object) -> Result:
    """A date as found in the wild → `datetime.date` (ISO yyyy-mm-dd as text). Accepted: 2020-01-02,
    2020-1-2, 2020/1/2, 2020.01.02 (any of - / . as separators, optionally followed by a time of day, which
    is dropped), 2020年1月2日 (or 号), 20200102, and Excel serial numbers of 1 to 5 digits (a fraction, the
    time of day, is dropped). Impossible dates (2021-02-29, 2020-13-01) are rejected."""
    text = _prepared(value)
    if text is None:
        return BLANK
    match = DATE.fullmatch(text)
    if match is None:
        return Result.fail("date.format")
    groups = match.groupdict()
    if groups["serial"] is not None:
        return excel_serial_date(int(groups["serial"]))
    for n in "123":
        if groups[f"y{n}"] is not None:
            parsed = _real_date(int(groups[f"y{n}"]), int(groups[f"m{n}"]), int(groups[f"d{n}"]))
            return Result(parsed) if parsed else Result.fail("date.invalid")
    raise AssertionError("unreachable: the pattern has four alternatives")


# --- 带单位的数值 ----------------------------------------------------------------------------------------

MULTIPLIERS: dict[str, float] = {
    "万亿": 1e12,
    "千万": 1e7,
    "百万": 1e6,
    "十万": 1e5,
    "亿": 1e8,
    "万": 1e4,
    "千": 1e3,
    "百": 1e2,
}
DIVISORS: dict[str, float] = {"%": 100.0, "‰": 1000.0}
DEFAULT_UNITS: tuple[str, ...] = ("元",)
_NUMBER = r"(?P<sign>[+-]?)(?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)"


def number_pattern(units: Sequence[str] = DEFAULT_UNITS) -> str:
    for unit in units:
        if not unit or any(c in WHITESPACE or c in r"\[](){}|.^$*+?-#&~" for c in unit):
            raise ValueError(f"unit {unit!r} must be non-empty, without spaces or regex punctuation")
    unit_group = "|".join(sorted(units, key=len, reverse=True))
    return (
        "^"
        + _NUMBER
        + "(?P<multiplier>"
        + "|".join(MULTIPLIERS)
        + ")?(?P<divisor>[%‰])?"
        + (f"(?:{unit_group})?" if units else "")
        + "$"
    )


def parse_number(value: object, *, units: Sequence[str] = DEFAULT_UNITS) -> Result:
    """A number written with a Chinese multiplier and/or a unit → float. "100万元" → 1000000.0,
    "1.5亿" → 150000000.0, "3,200元" → 3200.0, "12.5%" → 0.125, "-3‰" → -0.003. Thousands separators
    must group by three; spaces are ignored; the accepted units are `units` (default 元), dropped from
    the value. Values beyond 2**53 lose precision (a float)."""
    text = _prepared(value)
    if text is None:
        return BLANK
    match = re.fullmatch(number_pattern(units), drop_whitespace(text))
    if match is None:
        return Result.fail("number.format")
    number = float(match.group("number").replace(",", ""))
    number = number * MULTIPLIERS.get(match.group("multiplier") or "", 1.0)
    number = number / DIVISORS.get(match.group("divisor") or "", 1.0)
    return Result(-number if match.group("sign") == "-" else number)


# --- 文本 ----------------------------------------------------------------------------------------------


def clean_text(value: object, *, nfkc: bool = False, collapse: bool = True) -> Result:
    """Full-width ASCII to half-width, trimmed, inner runs of white space collapsed to one space. With
    `nfkc` the whole NFKC normalization is applied as well: it also rewrites circled digits, ligatures,
    units such as ㎡ and CJK compatibility ideographs, which may alter names, hence off by default."""
    text = _prepared(value)
    if text is None:
        return BLANK
    if nfkc:
        text = trim(unicodedata.normalize("NFKC", text)) or None
        if text is None:
            return BLANK
    if collapse:
        text = re.sub(WHITESPACE_CLASS + "+", " ", text)
    return Result(text)


def trimmed(value: object) -> Result:
    """Leading and trailing white space (including full-width and no-break spaces) removed; nothing else."""
    text = as_text(value)
    if text is None:
        return BLANK
    return Result(trim(text) or None)


# --- 代码集 --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeTable:
    """The codes a column may take: code → label, plus other accepted spellings (labels, short labels)
    → code; a spelling shared by several codes is not accepted. Numeric codes of one width are
    left-padded (Excel turns 民族 "01" into 1)."""

    name: str
    codes: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    pad_width: int | None = None

    @classmethod
    def build(
        cls, name: str, codes: Iterable[tuple[str, str]], extra_aliases: Mapping[str, str] | None = None
    ) -> CodeTable:
        table = dict(codes)
        candidates: dict[str, set[str]] = {}
        for code, label in table.items():
            candidates.setdefault(label, set()).add(code)
        for alias, code in (extra_aliases or {}).items():
            candidates.setdefault(alias, set()).add(code)
        # A name shared by several codes (GB/T 2260 has many a 朝阳区) is no alias: it would guess.
        aliases = {
            alias: next(iter(codes_))
            for alias, codes_ in candidates.items()
            if len(codes_) == 1 and alias not in table
        }
        widths = {len(c) for c in table}
        numeric = bool(table) and all(c.isascii() and c.isdigit() for c in table)
        pad = widths.pop() if numeric and len(widths) == 1 else None
        return cls(name, table, aliases, pad if pad and pad > 1 else None)

    def message(self) -> str:
        return f"不在代码集“{self.name}”中"


def in_code_set(value: object, table: CodeTable) -> Result:
    """A code of `table` → the code; its label (or another alias) → its code; otherwise an error."""
    text = _prepared(value)
    if text is None:
        return BLANK
    if table.pad_width and len(text) < table.pad_width and text.isascii() and text.isdigit():
        text = text.rjust(table.pad_width, "0")
    if text in table.codes:
        return Result(text)
    if text in table.aliases:
        return Result(table.aliases[text])
    return Result.fail("code.unknown", table.message())


# --- 一致性检查（只警告，不拒绝） -----------------------------------------------------------------------

SEX_CODES = {"1": "1", "2": "2", "男": "1", "男性": "1", "女": "2", "女性": "2"}


def sex_vs_id(sex: object, id_value: object, *, today: date | None = None) -> str | None:
    """warn.sex_id when a GB/T 2261.1 sex (1/2, 男/男性/女/女性) contradicts the ID's 17th digit (odd =
    male). Unknown sex (0, 9), an unrecognized value or an invalid ID number give no warning: their own
    validators report them."""
    given = SEX_CODES.get(_prepared(sex) or "")
    checked = id_number(id_value, today=today)
    if given is None or checked.value is None:
        return None
    expected = "1" if int(checked.value[16]) % 2 == 1 else "2"
    return None if given == expected else "warn.sex_id"


def birth_vs_id(birth: object, id_value: object, *, today: date | None = None) -> str | None:
    """warn.birth_id when a birth date (any form `parse_date` reads) differs from the ID's date part."""
    born = parse_date(birth).value
    checked = id_number(id_value, today=today)
    if born is None or checked.value is None:
        return None
    id_date = date(int(checked.value[6:10]), int(checked.value[10:12]), int(checked.value[12:14]))
    return None if born == id_date else "warn.birth_id"
