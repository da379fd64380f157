"""Typed domain errors. Services raise these; the web and CLI edges map them in one place each.

Every error has a stable machine ``code`` (English, for programs) and a Chinese ``message`` (for people).
``field`` names the input field, row or column at fault where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class GovshareError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "请求无效"

    def __init__(self, message: str | None = None, *, errors: list[FieldError] | None = None) -> None:
        self.message = message or self.title
        self.errors = errors or []
        self.headers: dict[str, str] = {}
        super().__init__(self.message)


class InvalidInput(GovshareError):
    status = 422
    code = "invalid_input"
    title = "输入不合法"

    @classmethod
    def on(cls, field_name: str, message: str) -> InvalidInput:
        return cls(f"{field_name}：{message}", errors=[FieldError(field_name, message)])


class NotFound(GovshareError):
    status = 404
    code = "not_found"
    title = "资源不存在"


class Conflict(GovshareError):
    status = 409
    code = "conflict"
    title = "与现有数据冲突"


class AuthenticationRequired(GovshareError):
    status = 401
    code = "authentication_required"
    title = "需要登录或提供有效的接口密钥"


class AuthenticationFailed(GovshareError):
    status = 401
    code = "authentication_failed"
    title = "用户名或口令错误"


class AccountLocked(GovshareError):
    status = 403
    code = "account_locked"
    title = "账号已锁定"


class CsrfFailed(GovshareError):
    status = 403
    code = "csrf_failed"
    title = "表单已失效，请刷新页面后重试"


@dataclass
class DenialContext:
    """What was refused, kept so the edge can audit the refusal after rolling back the action."""

    action: str
    permission: str
    target_type: str | None = None
    target_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class PermissionDenied(GovshareError):
    status = 403
    code = "permission_denied"
    title = "没有执行此操作的权限"

    def __init__(self, message: str | None = None, *, context: DenialContext | None = None) -> None:
        super().__init__(message)
        self.context = context


class PasswordChangeRequired(PermissionDenied):
    """The session's password was chosen by someone else: it may only change it, read /api/v1/me, log out."""

    code = "password_change_required"
    title = "须先修改口令"


class ServiceUnavailable(GovshareError):
    status = 503
    code = "service_unavailable"
    title = "服务暂不可用"


class PayloadTooLarge(GovshareError):
    status = 413
    code = "payload_too_large"
    title = "文件过大"


class UnsupportedMediaType(GovshareError):
    status = 415
    code = "unsupported_media_type"
    title = "不支持的请求内容类型"


class RateLimited(GovshareError):
    status = 429
    code = "rate_limited"
    title = "请求过于频繁或超出配额"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = str(max(1, retry_after))


class QueryTimeout(GovshareError):
    """A query that ran past its time limit (too broad a filter): the caller narrows it."""

    status = 400
    code = "query_timeout"
    title = "查询超时"
