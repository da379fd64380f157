"""/api/v1/sharing: applications (共享申请), decisions, 协商, grants, usage; and the auditor's
"who looked at me" under /api/v1/audit/subjects."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.models import ShareGrant, ShareRequest
from govshare.sharing import negotiation, service, stats_service, views
from govshare.sharing.schemas import (
    ApplyIn,
    DeadlineReport,
    DecisionIn,
    GrantOut,
    NegotiateIn,
    PrereviewIn,
    ReasonIn,
    RequestOut,
    SettleIn,
    SubscribeIn,
    Timeliness,
    UsageRow,
)
from govshare.sharing.vocabulary import RequestState
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/sharing", tags=["共享服务"])
trace_router = APIRouter(prefix="/api/v1/audit", tags=["安全审计"])

NUMBER = Path(
    min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$", description="申请编号，如 SQ-2026-000001"
)
GRANT = Path(ge=1, le=2**31 - 1)  # INTEGER ids


def _request_out(session: Session, actor: Actor, request: ShareRequest) -> RequestOut:
    return views.request_view(session, actor, request)


def _grant_out(session: Session, actor: Actor, grant: ShareGrant) -> GrantOut:
    return views.grant_view(session, actor, grant)


@router.post("/requests", status_code=201, summary="提出共享申请（有条件共享资源）")
def apply(
    body: ApplyIn, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_APPLY)
) -> RequestOut:
    return _request_out(session, actor, service.apply(session, actor, body))


@router.post("/negotiations", status_code=201, summary="发起协商（不予共享资源）")
def negotiate(
    body: NegotiateIn, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_APPLY)
) -> RequestOut:
    return _request_out(session, actor, negotiation.negotiate(session, actor, body))


@router.get("/requests", summary="共享申请列表")
def list_requests(
    side: Literal["all", "consumer", "provider", "supervise"] = Query(
        "all",
        description="consumer：本部门提出的；provider：向本部门申请的；supervise：待主管部门办理的"
        "（符合性审查、协商、协调）；all：全部",
    ),
    state: RequestState | None = None,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> list[RequestOut]:
    requests = service.list_requests(session, actor, side=side, state=state.value if state else None)
    return views.request_views(session, actor, requests)


@router.get("/requests/{number}", summary="共享申请详情")
def get_request(
    number: str = NUMBER, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_READ)
) -> RequestOut:
    return _request_out(session, actor, service.get_request(session, actor, number))


@router.post("/requests/{number}/prereview", summary="符合性审查（主管部门）")
def prereview(
    body: PrereviewIn,
    number: str = NUMBER,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_SUPERVISE),
) -> RequestOut:
    request = service.prereview(session, actor, number, passed=body.passed, comment=body.comment)
    return _request_out(session, actor, request)


@router.post("/requests/{number}/decision", summary="提供部门审批：同意（可部分同意）或不同意")
def decide(
    body: DecisionIn,
    number: str = NUMBER,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> RequestOut:
    return _request_out(session, actor, service.decide(session, actor, number, body))


@router.post("/requests/{number}/withdraw", summary="撤回申请")
def withdraw(
    number: str = NUMBER, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_APPLY)
) -> RequestOut:
    return _request_out(session, actor, service.withdraw(session, actor, number))


@router.post("/requests/{number}/dispute", summary="对答复有异议，发起协商")
def dispute(
    body: ReasonIn,
    number: str = NUMBER,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> RequestOut:
    return _request_out(session, actor, negotiation.dispute(session, actor, number, body.reason))


@router.post("/requests/{number}/answer", summary="提供部门答复协商")
def answer(
    body: ReasonIn,
    number: str = NUMBER,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE),
) -> RequestOut:
    return _request_out(session, actor, negotiation.answer_negotiation(session, actor, number, body.reason))


@router.post("/requests/{number}/escalate", summary="协商不成，提请主管部门协调")
def escalate(
    body: ReasonIn,
    number: str = NUMBER,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPLY),
) -> RequestOut:
    return _request_out(session, actor, negotiation.escalate(session, actor, number, body.reason))


@router.post("/requests/{number}/settle", summary="主管部门协调办结或责成重新审批")
def settle(
    body: SettleIn,
    number: str = NUMBER,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_SUPERVISE),
) -> RequestOut:
    request = negotiation.settle(session, actor, number, outcome=body.outcome, comment=body.comment)
    return _request_out(session, actor, request)


@router.post("/subscriptions", status_code=201, summary="订阅无条件共享信息项（即时授权）")
def subscribe(
    body: SubscribeIn, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_APPLY)
) -> GrantOut:
    return _grant_out(session, actor, service.subscribe(session, actor, body))


@router.get("/grants", summary="授权列表")
def list_grants(
    application: str | None = Query(None, max_length=64),
    resource: str | None = Query(None, max_length=64),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_READ),
) -> list[GrantOut]:
    grants = service.list_grants(session, actor, application=application, resource=resource)
    return views.grant_views(session, actor, grants)


@router.get("/grants/{grant_id}", summary="授权详情")
def get_grant(
    grant_id: int = GRANT, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_READ)
) -> GrantOut:
    return _grant_out(session, actor, service.get_grant(session, actor, grant_id))


@router.post("/grants/{grant_id}/revoke", summary="撤销授权（下一次调用即生效）")
def revoke_grant(
    body: ReasonIn,
    grant_id: int = GRANT,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_APPROVE, Permission.SHARING_APPLY),
) -> GrantOut:
    return _grant_out(session, actor, service.revoke_grant(session, actor, grant_id, body.reason))


@router.post("/deadlines/check", summary="检查审批时限：到期前提醒、超期上报")
def check_deadlines(
    session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_SUPERVISE)
) -> DeadlineReport:
    reminded, escalated = service.check_deadlines(session, actor)
    return DeadlineReport(reminded=reminded, escalated=escalated)


@router.get("/usage", summary="调用统计（按资源、提供部门、使用部门或应用）")
def usage(
    group: Literal["resource", "provider", "consumer", "application"] = "resource",
    since: date | None = None,
    until: date | None = None,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.SHARING_STATS),
) -> list[UsageRow]:
    first, last = stats_service.default_period(session, actor)
    return stats_service.usage(session, actor, since=since or first, until=until or last, group=group)


@router.get("/timeliness", summary="各提供部门的审批时效")
def timeliness(
    since: date | None = None, session: Session = DB_SESSION, actor: Actor = require(Permission.SHARING_STATS)
) -> list[Timeliness]:
    first, _ = stats_service.default_period(session, actor)
    return stats_service.timeliness(session, actor, since=since or first.replace(month=1, day=1))


@trace_router.get("/subjects/{number}", summary="谁查看了我：某人或某单位的数据被谁、何时、为何调用")
def who_looked(
    number: str = Path(min_length=15, max_length=20),
    limit: int = Query(200, ge=1, le=1000),
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.ACCESS_TRACE),
) -> dict[str, object]:
    return stats_service.who_looked(session, actor, number, limit=limit)
