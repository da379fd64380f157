"""Portal page of 系统管理：节点设置 (read only). The node's settings in groups, each with the environment
variable that sets it, and the jurisdiction's rules with their key in the jurisdiction file; secrets are
shown as "set / not set" only, and a database URL without its password.

Readable by the node's officers (`department:manage` or `role:assign`, never department-scoped).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.settings import DEV_AUDIT_KEY, DEV_SECRET_KEY, Settings
from govshare.web.deps import require
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

SETTINGS_READERS = (Permission.DEPARTMENT_MANAGE, Permission.ROLE_ASSIGN)


def may_see_settings(actor: Actor) -> bool:
    return any(actor.scope_of(p) for p in SETTINGS_READERS)


def _masked_url(url: str) -> str:
    """A database URL without its password (in the authority or as a query parameter)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "（无法解析，不显示）"
    query = {k: ("***" if "pass" in k.lower() else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def _secret_state(value: str, default: str) -> str:
    return "使用开发环境默认值（不得用于生产）" if value == default else "已设置（不显示）"


@dataclass(frozen=True)
class SettingRow:
    label: str
    value: str
    source: str


def settings_rows(settings: Settings) -> list[tuple[str, list[SettingRow]]]:
    """The node's settings in groups, each with the environment variable that sets it; secrets as
    "set / not set" only."""

    def env(name: str) -> str:
        return f"GOVSHARE_{name.upper()}"

    def row(label: str, name: str, value: object = None) -> SettingRow:
        shown = getattr(settings, name) if value is None else value
        if isinstance(shown, bool):
            shown = "是" if shown else "否"
        return SettingRow(label, "未设置" if shown is None else str(shown), env(name))

    metrics = settings.metrics_token
    return [
        (
            "节点",
            [
                row("节点名称", "node_name"),
                row("行政区划代码", "node_division_code"),
                row("运行环境", "env"),
                row("数据目录", "data_dir"),
                row("数据库", "database_url", _masked_url(settings.resolved_database_url)),
                row("监听地址", "host"),
                row("监听端口", "port"),
                row("工作进程数", "workers"),
                row("日志级别", "log_level"),
                row("JSON 日志", "log_json"),
                row("可信反向代理", "trusted_proxies", settings.trusted_proxies or "未设置"),
            ],
        ),
        (
            "登录与会话",
            [
                row("会话有效期（分钟）", "session_ttl_minutes"),
                row("同一账号与地址登录失败几次后开始等待", "login_max_failures"),
                row("登录等待上限（分钟）", "login_lockout_minutes"),
                row("口令最短长度", "password_min_length"),
                row("口令强度下限（zxcvbn 0–4）", "password_min_score"),
                row(
                    "Cookie Secure 标志",
                    "cookie_secure",
                    "按请求自动" if settings.cookie_secure is None else None,
                ),
            ],
        ),
        (
            "密钥（不显示取值）",
            [
                row(
                    "会话与 CSRF 签名密钥",
                    "secret_key",
                    _secret_state(settings.secret_key.get_secret_value(), DEV_SECRET_KEY),
                ),
                row(
                    "审计日志密钥",
                    "audit_key",
                    _secret_state(settings.audit_key.get_secret_value(), DEV_AUDIT_KEY),
                ),
                row(
                    "监控指标访问令牌",
                    "metrics_token",
                    "已设置（不显示）" if metrics else "未设置（/metrics 公开）",
                ),
            ],
        ),
        (
            "应用接口与数据接口",
            [
                row("接口密钥默认有效期（天）", "api_key_default_days"),
                row("接口密钥最长有效期（天）", "api_key_max_days"),
                row("请求体上限（MB）", "api_max_body_mb"),
                row("列表单页最大条数", "api_page_max"),
                row("数据接口每应用每秒请求上限", "data_rate_per_second"),
                row("数据接口单页最多记录数", "data_page_max"),
                row("数据接口查询时限（毫秒）", "data_query_timeout_ms"),
                row("订阅默认配额：每日请求次数", "subscription_requests_per_day"),
                row("订阅默认配额：每日记录数", "subscription_rows_per_day"),
            ],
        ),
        (
            "数据归集",
            [
                row("批次内存预算（MB）", "collection_memory_mb"),
                row("每块行数", "collection_chunk_rows"),
                row("判定中断的无心跳时长（分钟）", "collection_dead_after_minutes"),
            ],
        ),
    ]


def jurisdiction_rows(request: Request) -> tuple[list[SettingRow], str]:
    rules = request.app.state.db.config.jurisdiction
    settings: Settings = request.app.state.settings
    source = str(settings.jurisdiction_file) if settings.jurisdiction_file else "未设置（国家默认规则）"
    sharing, catalog = rules.sharing, rules.catalog
    prereview = f"{sharing.prereview_days} 个工作日" if sharing.prereview_days else "不设该环节"
    holidays = "、".join(d.isoformat() for d in sharing.extra_holidays) or "无"
    workdays = "、".join(d.isoformat() for d in sharing.extra_workdays) or "无"
    return [
        SettingRow("辖区名称", rules.name, "name"),
        SettingRow("主管部门符合性审查时限", prereview, "sharing.prereview_days"),
        SettingRow("提供部门答复时限", f"{sharing.provider_days} 个工作日", "sharing.provider_days"),
        SettingRow("到期前提醒", f"{sharing.remind_before_days} 个工作日", "sharing.remind_before_days"),
        SettingRow("一次授权最长有效期", f"{sharing.max_grant_days} 日", "sharing.max_grant_days"),
        SettingRow("另行规定的放假日", holidays, "sharing.extra_holidays"),
        SettingRow("另行规定的调休上班日", workdays, "sharing.extra_workdays"),
        SettingRow("资源名称最长字数", str(catalog.name_max_length), "catalog.name_max_length"),
        SettingRow("摘要最长字数", str(catalog.summary_max_length), "catalog.summary_max_length"),
        SettingRow(
            "有条件共享须注明依据",
            "是" if catalog.conditional_requires_basis else "否",
            "catalog.conditional_requires_basis",
        ),
        SettingRow("安全级别（从低到高）", "、".join(g.label for g in catalog.grades), "catalog.grades"),
        SettingRow("资源代码方案", catalog.code_scheme, "catalog.code_scheme"),
        SettingRow("顺序码位数", str(catalog.sequence_digits), "catalog.sequence_digits"),
    ], source


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, actor: Actor = require(*SETTINGS_READERS)) -> HTMLResponse:
    rules, source = jurisdiction_rows(request)
    return render(
        request,
        "admin_settings.html",
        actor,
        groups=settings_rows(request.app.state.settings),
        rules=rules,
        rules_source=source,
    )
