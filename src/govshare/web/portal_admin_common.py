"""What the 系统管理 pages share: the form state a failed form is re-shown with, the Chinese sentence for
invalid input or a conflict, the CSRF check, the 303 back, and Beijing dates.

Used by `portal_admin.py` (departments, users, roles), `portal_admin_code_sets.py` and
`portal_admin_settings.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from govshare.core.clock import BEIJING, utcnow
from govshare.errors import Conflict, CsrfFailed, InvalidInput
from govshare.web.deps import csrf_valid

FIELD_LABELS = {
    "code": "代码",
    "name": "名称",
    "division_code": "行政区划代码",
    "level": "层级",
    "parent_code": "上级部门",
    "uscc": "统一社会信用代码",
    "username": "用户名",
    "display_name": "姓名",
    "department_code": "所属部门",
    "password": "初始口令",
    "roles": "角色",
    "role": "角色",
    "version": "版本号",
    "label": "名称",
    "position": "排序",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "note": "备注",
    "file": "文件",
    "standard": "标准编号",
}


@dataclass
class FormState:
    """The form that failed (its name on the page), the message shown beside it, and what was typed."""

    name: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def check_csrf(request: Request, token: str) -> None:
    """The first thing every POST route does."""
    if not csrf_valid(request, token):
        raise CsrfFailed()


def see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def _label(name: str) -> str:
    return FIELD_LABELS.get(name.split(".")[0], name)


def explain(exc: Exception) -> str:
    """The Chinese sentence a form shows for invalid input or a conflict."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:5]:
            loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
            kind = error.get("type", "")
            if kind == "missing" or (kind == "string_too_short" and error.get("input") == ""):
                what = "必须填写"
            elif kind == "string_pattern_mismatch":
                what = "格式不正确"
            elif kind == "string_too_long":
                what = f"长度不能超过 {error.get('ctx', {}).get('max_length')} 个字符"
            elif kind == "string_too_short":
                what = f"长度不能少于 {error.get('ctx', {}).get('min_length')} 个字符"
            elif kind in ("enum", "literal_error"):
                what = "取值不在允许范围内"
            elif kind == "value_error":
                what = str(error.get("ctx", {}).get("error", "取值无效"))
            else:
                what = "取值无效"
            parts.append(f"{_label(loc[0])}：{what}" if loc else what)
        return "；".join(parts) or "输入不合法"
    if isinstance(exc, InvalidInput) and exc.errors:
        return "；".join(f"{_label(e.field)}：{e.message}" for e in exc.errors[:10])
    return str(getattr(exc, "message", exc))


def error_status(exc: Exception) -> int:
    """The status a form re-shown after `exc` answers with."""
    return 409 if isinstance(exc, Conflict) else 422


def beijing(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def beijing_today() -> date:
    """Today in Beijing."""
    return utcnow().astimezone(BEIJING).date()
