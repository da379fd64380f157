"""Errors as RFC 9457 problem documents: a stable machine `code`, a Chinese `detail`, the request id.

This is the one place where exceptions become HTTP responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from govshare.core.validation import validation_message
from govshare.errors import FieldError, GovshareError

log = structlog.get_logger("govshare.web")

PROBLEM_TYPE = "application/problem+json"

_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求无效"),
    401: ("authentication_required", "需要登录或提供有效的接口密钥"),
    403: ("forbidden", "禁止访问"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    406: ("not_acceptable", "无法提供所请求的格式"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的请求内容类型"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
}


def problem(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:govshare:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=dict(headers or {}))


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


def wants_html(request: Request) -> bool:
    """A person's browser on a portal page (not the API): errors become pages, not JSON."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    if status == 401:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    from govshare.web.rendering import TEMPLATES  # rendering imports deps, which imports this module

    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "actor": getattr(request.state, "actor", None),
            "node_name": request.app.state.settings.node_name,
            "title": title,
            "detail": detail,
            "status": status,
            "request_id": getattr(request.state, "request_id", ""),
        },
        status_code=status,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(GovshareError)
    async def _domain(request: Request, exc: GovshareError) -> Response:
        if wants_html(request) and exc.code == "password_change_required":
            return RedirectResponse("/me/password", status_code=303)
        if wants_html(request):
            return _page(request, exc.status, exc.title, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else dict(exc.headers)
        return problem(request, exc.status, exc.code, exc.title, exc.message, exc.errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(_field(tuple(e.get("loc", ()))), validation_message(e)) for e in exc.errors()]
        detail = "；".join(f"{e.field}：{e.message}" for e in errors[:5])
        return problem(request, 422, "invalid_input", "输入不合法", detail or "输入不合法", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "请求失败"))
        if wants_html(request) and exc.status_code != 401:
            return _page(request, exc.status_code, title, title)
        return problem(request, exc.status_code, code, title, title, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem(
            request, 500, "internal_error", "服务器内部错误", "服务器内部错误，请联系平台管理员并提供请求编号"
        )
