"""Pydantic's validation errors in Chinese: the one translator, so a refused value reads the same from the
API (problem+json), a portal form, an Excel upload, a mapping file and the console.

Each edge adds only what it knows: the API strips FastAPI's `body`/`query` prefix from the field path, a
portal form leads each message with the field's Chinese label (`web/forms.py` `explain`), the Excel import
and the draft form name the expected shape of a coded cell (`pattern_hint`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from govshare.errors import FieldError

# Error kinds whose sentence needs no context (pydantic-core's `type` of an error).
MESSAGES: dict[str, str] = {
    "missing": "必填，不能为空",
    "extra_forbidden": "不允许的字段",
    "string_type": "必须是字符串",
    "string_unicode": "必须是合法的 Unicode 文本",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "decimal_type": "必须是数字",
    "decimal_parsing": "必须是数字",
    "bool_type": "必须是布尔值（是/否）",
    "bool_parsing": "必须是布尔值（是/否）",
    "list_type": "必须是数组",
    "dict_type": "必须是 JSON 对象",
    "model_type": "必须是 JSON 对象",
    "model_attributes_type": "必须是 JSON 对象",
    "json_invalid": "JSON 格式错误",
    "date_type": "日期格式不正确（应为 yyyy-mm-dd）",
    "date_parsing": "日期格式不正确（应为 yyyy-mm-dd）",
    "date_from_datetime_parsing": "日期格式不正确（应为 yyyy-mm-dd）",
    "datetime_type": "日期时间格式不正确",
    "datetime_parsing": "日期时间格式不正确",
    "datetime_from_date_parsing": "日期时间格式不正确",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
}
UNKNOWN = "取值无效"


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "'a'、'b'、'c'"."""
    return expected.replace(" or ", "、").replace(", ", "、")


def validation_message(error: Mapping[str, Any], *, pattern_hint: str | None = None) -> str:
    """One Pydantic validation error (an item of `ValidationError.errors()`) in Chinese, without the field
    name. `pattern_hint` replaces the bare "格式不正确" of a pattern mismatch with the shape expected."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and ctx.get("error"):
        return str(ctx["error"])  # our own validators' messages are Chinese already
    if kind == "string_too_short":
        if ctx.get("min_length") == 1 or error.get("input") == "":
            return "不能为空"
        return f"长度不能少于 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if kind in ("too_short", "list_too_short"):
        return "至少选择一项" if ctx.get("min_length") in (1, None) else f"至少 {ctx.get('min_length')} 项"
    if kind in ("too_long", "list_too_long"):
        return f"最多 {ctx.get('max_length')} 项"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "greater_than":
        return f"必须大于 {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "less_than":
        return f"必须小于 {ctx.get('lt')}"
    if kind == "string_pattern_mismatch" and pattern_hint:
        return pattern_hint
    if kind in ("enum", "literal_error") and ctx.get("expected"):
        return f"取值必须是 {_choices(str(ctx['expected']))} 之一"
    return MESSAGES.get(kind, UNKNOWN)


def error_path(loc: Sequence[str | int]) -> str:
    """A Pydantic location as a dotted field path: ("items", 2, "share") → "items.2.share"."""
    return ".".join(str(part) for part in loc)


def field_errors(
    exc: ValidationError, *, limit: int | None = None, default_field: str = ""
) -> list[FieldError]:
    """The errors of `exc` (at most `limit`) as field errors in Chinese, for `InvalidInput(errors=…)`."""
    return [
        FieldError(error_path(error["loc"]) or default_field, validation_message(error))
        for error in exc.errors()[:limit]
    ]


def describe(exc: ValidationError, *, limit: int | None = None, default_field: str = "") -> str:
    """The errors of `exc` as one Chinese sentence, "field：message；…" (the console's form)."""
    return "；".join(
        f"{e.field}：{e.message}" if e.field else e.message
        for e in field_errors(exc, limit=limit, default_field=default_field)
    )
