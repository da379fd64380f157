"""What the sharing pages (共享服务) share: the outcome notices, Chinese field names and messages for invalid
input, the form-value parsers, the catalog look-ups and how a time is shown (`beijing`). The pages are listed
in `govshare.sharing.portal` (`__init__.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import service as catalog
from govshare.catalog.schemas import ResourceOut
from govshare.core.clock import BEIJING, utcnow
from govshare.errors import NotFound
from govshare.identity import service as identity
from govshare.sharing.schemas import RequestOut
from govshare.sharing.vocabulary import RequestState
from govshare.web import forms
from govshare.web.forms import FormState as FormState
from govshare.web.forms import beijing as beijing
from govshare.web.forms import check_csrf as check_csrf

TEXT = 2000  # the API's longest free text

_S = RequestState
STATE_TAGS = {
    _S.PREREVIEW: "tag-conditional",
    _S.PENDING: "tag-conditional",
    _S.APPROVED: "tag-unconditional",
    _S.PARTIAL: "tag-unconditional",
    _S.REFUSED: "tag-none",
    _S.PREREVIEW_REJECTED: "tag-none",
    _S.NEGOTIATING: "tag-open",
    _S.ESCALATED: "tag-open",
}
DONE = {
    "applied": "共享申请已提交，请等待提供部门答复。",
    "negotiating": "协商申请已提交，请等待提供部门答复。",
    "decided": "审批答复已办理。",
    "refused": "已答复不同意，申请方可以提出异议。",
    "withdrawn": "申请已撤回。",
    "disputed": "已提出异议，申请进入协商。",
    "escalated": "已提请主管部门协调。",
    "answered": "协商答复已提交。",
    "prereviewed": "符合性审查已办理。",
    "settled": "协调已办理。",
    "subscribed": "订阅成功，无条件信息项的授权已生成。",
    "revoked": "授权已撤销，下一次调用即生效。",
}
FIELD_LABELS = {
    "application": "应用系统",
    "resource": "信息资源",
    "purpose_kind": "使用用途",
    "purpose": "具体用途",
    "basis": "申请依据",
    "items": "信息项",
    "clear_items": "明文信息项",
    "row_scope": "记录范围",
    "period_start": "使用期限开始日期",
    "period_end": "使用期限结束日期",
    "requests_per_day": "每日请求次数",
    "rows_per_day": "每日记录数",
    "reason": "理由",
    "comment": "意见",
    "valid_to": "授权截止日期",
    "outcome": "办理结果",
    "passed": "审查结论",
    "decision": "审批结论",
    "existing_grant": "对已有授权的处理",
}
_SPLIT = re.compile(r"[,，、;；\s]+")


# ---------------------------------------------------------------- helpers


class FormError(Exception):
    """Input the page can name before calling a service (an unreadable date, a missing choice)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name, self.message = field_name, message


def _label(field_name: str) -> str:
    return FIELD_LABELS.get(field_name.split(".")[0].split("[")[0], field_name)


def explain(exc: Exception) -> str:
    """A readable Chinese sentence for a form's invalid input, with Chinese field names."""
    if isinstance(exc, FormError):
        return f"{_label(exc.field_name)}：{exc.message}"
    return forms.explain(exc, _label)


def parse_day(value: str, field_name: str) -> date:
    value = value.strip()
    if not value:
        raise FormError(field_name, "必须填写")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(field_name, "日期格式应为 年-月-日，如 2026-05-01") from None


def optional_day(value: str, field_name: str) -> date | None:
    return parse_day(value, field_name) if value.strip() else None


def parse_count(value: str, field_name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise FormError(field_name, "必须是整数") from None


def split_values(text: str) -> list[str]:
    return list(dict.fromkeys(v for v in _SPLIT.split(text.strip()) if v))


def department_names(session: Session, actor: Actor) -> dict[int, str]:
    if actor.scope_of(Permission.DEPARTMENT_READ):
        return {d.id: d.name for d in identity.list_departments(session, actor)}
    return identity.department_codes(session)


class Resources:
    """The catalog entries the page mentions, read once each through the catalog service."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self._seen: dict[str, ResourceOut | None] = {}

    def get(self, code: str | None) -> ResourceOut | None:
        if not code or not self.actor.scope_of(Permission.CATALOG_READ):
            return None
        if code not in self._seen:
            try:
                self._seen[code] = catalog.get_by_code(self.session, self.actor, code)
            except NotFound:
                self._seen[code] = None
        return self._seen[code]

    def name(self, code: str | None) -> str:
        found = self.get(code)
        return found.name if found else (code or "")

    def items(self, code: str | None) -> dict[str, str]:
        """Field name → the item's Chinese name."""
        found = self.get(code)
        version = found.current or found.pending if found else None
        return {i["field"]: i["name"] for i in version.definition["items"]} if version else {}


def items_text(names: dict[str, str], fields: Iterable[str]) -> str:
    return "、".join(f"{names[f]}（{f}）" if f in names else f for f in fields)


def scope_text(names: dict[str, str], scope: dict[str, list[str]] | None) -> str:
    if not scope:
        return "不限"
    return "；".join(f"{names.get(f, f)}：{'、'.join(v)}" for f, v in scope.items())


def countdown(r: RequestOut) -> str:
    """The request's deadline in words, for the inbox and the request page: the working days left come from
    the domain (`RequestOut.working_days_left`, the jurisdiction's calendar with Chinese holidays and 调休);
    the wording, and "today" in Beijing time, are the page's."""
    left = r.working_days_left
    if r.due_at is None or left is None:
        return ""
    if r.overdue:
        return f"已超期 {-left} 个工作日" if left < 0 else "已超期"
    if left > 0:
        return f"剩余 {left} 个工作日"
    due_day = r.due_at.astimezone(BEIJING).date()
    # no working day left: due today, or on a coming day off (a deadline moved onto a holiday)
    if due_day == utcnow().astimezone(BEIJING).date():
        return "今天到期"
    return f"{due_day.month}月{due_day.day}日到期，之前已无工作日"
