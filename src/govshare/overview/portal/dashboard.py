"""Portal pages: 部门看板（图表）. Calls the same services as the API.

A department's staff see their own department; node-wide roles (the platform admin, the auditor, the
reviewer) pick one. Each section shows only what the viewer's permissions allow: the catalog figures
(catalog:read), the batches and update timeliness (collection:read), the data API usage and the open
applications (sharing:stats)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import stats_service as catalog_stats
from govshare.collection import stats_service as collection_stats
from govshare.core.clock import BEIJING, utcnow
from govshare.overview import service as overview
from govshare.sharing import stats_service as sharing_stats
from govshare.web import charts
from govshare.web.deps import DB_SESSION, require
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)

PERIODS = {7: "近 7 天", 30: "近 30 天", 90: "近 90 天", 365: "近一年"}


def beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(BEIJING).strftime(fmt) if value else "—"


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _column(per_day: dict[str, sharing_stats.UsageDay], labels: list[str], field: str) -> list[int]:
    """One figure per day of the period, 0 on a day without calls."""
    return [int(getattr(per_day[day], field)) if day in per_day else 0 for day in labels]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    department: str | None = Query(None, max_length=32, pattern=r"^[A-Za-z0-9_.-]*$"),
    days: int = Query(30, ge=1, le=366),
    session: Session = DB_SESSION,
    actor: Actor = require(*overview.DASHBOARD),
) -> HTMLResponse:
    if days not in PERIODS:
        days = 30
    choice = overview.dashboard_department(session, actor, department or None)
    shown = choice.shown
    context: dict[str, Any] = {
        "department": shown,
        "departments": choice.choices,
        "node_wide": choice.node_wide,
        "days": days,
        "periods": PERIODS,
        "beijing": beijing,
    }
    if shown is None:
        return render(request, "dashboard.html", actor, **context)
    until = utcnow().astimezone(BEIJING).date()
    since = until - timedelta(days=days - 1)
    context["period"] = f"{since:%Y-%m-%d} 至 {until:%Y-%m-%d}"
    if actor.scope_of(Permission.CATALOG_READ):
        catalog = catalog_stats.department_catalog(session, actor, shown.id)
        growth = catalog_stats.growth_by_month(session, department_id=shown.id)
        mixes = catalog_stats.share_mix_by_department(session, actor)
        shares = catalog.shares
        context.update(
            catalog=catalog,
            mix_chart=charts.share_mix_chart(
                shares.unconditional,
                shares.conditional,
                shares.not_shared,
                title=f"{shown.name}资源的共享类型",
            ),
            departments_chart=charts.stacked_bar_chart(
                "各部门已发布资源的共享类型",
                [m.name for m in mixes],
                [
                    ("无条件共享", [m.unconditional for m in mixes]),
                    ("有条件共享", [m.conditional for m in mixes]),
                    ("不予共享", [m.not_shared for m in mixes]),
                ],
                category_header="部门",
                label_chars=9,
            ),
            growth_chart=charts.catalog_growth_chart(
                [(m.month, m.published) for m in growth], title=f"{shown.name}目录增长"
            ),
        )
    if actor.scope_of(Permission.COLLECTION_READ):
        batches = collection_stats.batches_by_day(session, actor, department_id=shown.id, days=days)
        timeliness = collection_stats.update_timeliness(session, actor, department_id=shown.id)
        context.update(
            batches=batches,
            batch_totals={
                "batches": sum(b.batches for b in batches),
                "read": sum(b.read for b in batches),
                "rejected": sum(b.rejected for b in batches),
            },
            batch_chart=charts.stacked_bar_chart(
                "每日归集入库与拒收行数",
                [b.day for b in batches],
                [("入库", [b.loaded for b in batches]), ("拒收（隔离）", [b.rejected for b in batches])],
                category_header="日期",
                label_chars=10,
            ),
            rejection_chart=charts.line_chart(
                "每日拒收率（%）",
                [b.day for b in batches],
                [("拒收率", [round(b.rejection_rate * 100, 1) for b in batches])],
            ),
            timeliness=timeliness,
            timeliness_counts={
                state: sum(1 for t in timeliness if t.state == state)
                for state in ("按时", "逾期", "未归集", "不定期")
            },
            quarantined=collection_stats.quarantined_batches(session, actor, department_id=shown.id),
        )
    if actor.scope_of(Permission.SHARING_STATS):
        usage: dict[str, Any] = {}
        for side, title in (("provider", "本部门数据被调用"), ("consumer", "本部门应用调用他部门数据")):
            per_day = {
                u.day: u
                for u in sharing_stats.usage_by_day(
                    session, actor, department_id=shown.id, side=side, since=since, until=until
                )
            }
            counterparts = sharing_stats.usage_by_counterpart(
                session, actor, department_id=shown.id, side=side, since=since, until=until
            )
            labels = [d.isoformat() for d in _days(since, until)]

            usage[side] = {
                "title": title,
                "days": list(per_day.values()),
                "totals": {
                    field: sum(getattr(u, field) for u in per_day.values())
                    for field in ("calls", "rows", "refusals")
                },
                "line_chart": charts.line_chart(
                    f"{title}：每日调用与拒绝次数",
                    labels,
                    [
                        ("调用次数", _column(per_day, labels, "calls")),
                        ("拒绝次数", _column(per_day, labels, "refusals")),
                    ],
                ),
                "rows_chart": charts.line_chart(
                    f"{title}：每日返回行数",
                    labels,
                    [("返回行数", _column(per_day, labels, "rows"))],
                    area=True,
                ),
                "counterparts": counterparts,
                "bar_chart": charts.bar_chart(
                    f"{title}：按{'调用方应用' if side == 'provider' else '资源'}的调用次数",
                    [(c.name, c.calls) for c in counterparts[:15]],
                    label_header="调用方应用" if side == "provider" else "资源",
                    value_header="调用次数",
                    label_chars=9,
                ),
            }
        context["usage"] = usage
        context["open_requests"] = sharing_stats.open_as_provider(session, actor, department_id=shown.id)
    return render(request, "dashboard.html", actor, **context)
