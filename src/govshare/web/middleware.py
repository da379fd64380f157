"""One ASGI middleware for what every response needs: a request id, security headers, metrics and an
access log line. Pure ASGI (not BaseHTTPMiddleware) so streaming responses pass straight through."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("govshare.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "govshare_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "govshare_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        # the job queue, read from the database when /metrics is scraped (web/health.py)
        self.jobs = Gauge(
            "govshare_jobs", "Jobs in the node's queue by state", ["state"], registry=self.registry
        )
        self.jobs_oldest_due = Gauge(
            "govshare_jobs_oldest_due_seconds",
            "How long the longest-waiting due job has waited for a worker (0: none waits)",
            registry=self.registry,
        )


class NodeMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int = 64 * 1024 * 1024) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        limit = self.max_body_bytes // 1024 // 1024
        too_large = f"请求体超过 {limit} MB 上限，请分批提交"
        body = _BodyLimit(receive, send_with_headers, self.max_body_bytes)
        try:
            if _has_control_characters(scope):
                await _reject(scope, send_with_headers, request_id)
            elif _declared_length(scope) > self.max_body_bytes:
                # refused before the body is read: a JSON body is parsed whole in memory
                await _reject(scope, send_with_headers, request_id, 413, "payload_too_large", too_large)
            else:
                with contextlib.suppress(BodyTooLarge):  # answered below; the rest is never read
                    await self.app(scope, body.receive, body.send)
                if body.exceeded and not body.answered:
                    body.answered = True
                    await _reject(scope, send_with_headers, request_id, 413, "payload_too_large", too_large)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(scope["method"], template).observe(elapsed)
            state: dict[str, Any] = scope.get("state", {})
            actor = state.get("actor")
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=template,
                status=status,
                ms=round(elapsed * 1000, 2),
                actor=getattr(actor, "name", None),
            )
            structlog.contextvars.unbind_contextvars("request_id")


class BodyTooLarge(Exception):
    """Raised into the application by `receive` once the body passes the limit: it stops reading."""


class _BodyLimit:
    """Counts the bytes of the request body as the application receives them, whatever Content-Length said
    (a chunked body has none). Past the limit `receive` raises BodyTooLarge, and whatever the application
    makes of that (FastAPI turns an error while reading a JSON body into a 400) is replaced by the 413."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.received = 0
        self.exceeded = False
        self.answered = False  # the 413 (or, before the limit was passed, the application's answer) began

    async def receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            return  # the application's answer to a body it could not finish reading is replaced by the 413
        if message["type"] == "http.response.start":
            self.answered = True
        await self._send(message)


def _has_control_characters(scope: Scope) -> bool:
    """NUL and other control characters in the path or query reach no handler: PostgreSQL refuses NUL in
    text, and no legitimate identifier contains them."""
    path: str = scope.get("path", "")
    query = unquote_to_bytes(scope.get("query_string", b""))
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in path) or any(b < 0x20 or b == 0x7F for b in query)


def _declared_length(scope: Scope) -> int:
    value = _header(scope, b"content-length")
    return int(value) if value and value.isdigit() else 0


async def _reject(
    scope: Scope,
    send: Send,
    request_id: str,
    status: int = 400,
    code: str = "bad_request",
    detail: str = "请求地址或查询参数中含有控制字符",
) -> None:
    body = json.dumps(
        {
            "type": f"urn:govshare:problem:{code}",
            "title": "请求无效" if status == 400 else "请求体过大",
            "status": status,
            "detail": detail,
            "code": code,
            "instance": scope.get("path", ""),
            "request_id": request_id,
        },
        ensure_ascii=False,
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if status == 413:  # the server closes the connection after answering instead of reading the rest
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
                return None
    return None
