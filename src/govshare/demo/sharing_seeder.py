"""The demo sharing seeder: who acts for the demo city (the consuming department's 使用人员, the provider's
admin, the 共享主管部门's reviewer) and the steps every scenario takes. See `govshare.demo.sharing`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.core.clock import BEIJING, utcnow
from govshare.core.node import node_config
from govshare.demo.gen_city import CITY_COUNTIES
from govshare.demo.service import APPLICATIONS, CITY_DEPARTMENTS
from govshare.errors import Conflict
from govshare.identity import readers as identity_readers
from govshare.identity.service import actor_for_user
from govshare.models import ShareRequest
from govshare.sharing import service as sharing
from govshare.sharing.schemas import ApplyIn, DecisionIn
from govshare.sharing.vocabulary import PurposeKind, RequestState
from govshare.sharing.workdays import WorkCalendar

S = RequestState
REVIEWER = "reviewer"  # the 共享主管部门's account (目录审核员: sharing:supervise)
COUNTIES = [county.code for county in CITY_COUNTIES]  # the codes the demo population carries
_DEPARTMENT_OF_APP = {code: department for code, _, department in APPLICATIONS}
_SHORT = {code: short for code, _, short in CITY_DEPARTMENTS}


@dataclass
class SharingDemo:
    """What one run created: requests by the state they were left in, and subscriptions."""

    requests: dict[str, int] = field(default_factory=dict)  # RequestState value -> count
    subscriptions: int = 0
    backdated: list[str] = field(default_factory=list)  # request numbers whose clock was moved back
    skipped: list[str] = field(default_factory=list)  # what was not created, and why

    @property
    def created(self) -> int:
        return sum(self.requests.values()) + self.subscriptions

    def summary(self) -> str:
        if not self.created:
            return "共享申请：示例申请和订阅已存在，未新建"
        counts = "、".join(f"{s.label} {self.requests[s.value]}" for s in S if self.requests.get(s.value))
        return f"共享申请：{counts or '无'}；无条件订阅 {self.subscriptions} 个"


@dataclass(frozen=True)
class Ask:
    """An application (ApplyIn) of a demo application for a resource named by its provider and name."""

    application: str
    provider: str
    resource: str
    purpose_kind: PurposeKind
    purpose: str
    basis: str
    items: tuple[str, ...]
    clear_items: tuple[str, ...] = ()
    row_scope: dict[str, list[str]] = field(default_factory=dict)
    requests_per_day: int = 1000
    rows_per_day: int = 10_000
    days: int = 365

    def body(self, code: str, today: date) -> ApplyIn:
        return ApplyIn(
            application=self.application,
            resource=code,
            purpose_kind=self.purpose_kind,
            purpose=self.purpose,
            basis=self.basis,
            items=list(self.items),
            clear_items=list(self.clear_items),
            row_scope=self.row_scope,
            period_start=today,
            period_end=today + timedelta(days=self.days - 1),
            requests_per_day=self.requests_per_day,
            rows_per_day=self.rows_per_day,
        )


@dataclass(frozen=True)
class Target:
    id: int
    code: str


@dataclass(frozen=True)
class Scenario:
    """One consuming application and one resource, and the state the request is left in."""

    state: RequestState
    application: str
    provider: str
    resource: str
    run: Callable[[Seeder, str], ShareRequest]  # (seeder, resource code) -> the request
    needs_prereview: bool = False  # only possible when the jurisdiction has a 符合性审查 step


class Seeder:
    def __init__(self, session: Session, operator: Actor, result: SharingDemo) -> None:
        self.session, self.operator, self.result = session, operator, result
        self.rules = node_config(session).jurisdiction.sharing
        self.calendar = WorkCalendar(self.rules)
        self.today = utcnow().astimezone(BEIJING).date()
        self._actors: dict[str, Actor] = {}

    # --- who acts -------------------------------------------------------------------------------------

    def as_user(self, username: str) -> Actor:
        if username not in self._actors:
            user = identity_readers.user_by_username(self.session, username)
            if user is None or not user.is_active:
                raise Conflict(f"示例账号“{username}”不存在或已停用，请先运行 govshare demo 初始化示例市")
            self._actors[username] = actor_for_user(user)
        return self._actors[username]

    def consumer(self, application: str) -> Actor:
        """The consuming department's 使用人员 (sharing:apply for the department's applications)."""
        return self.as_user(f"{_SHORT[_DEPARTMENT_OF_APP[application]]}.user")

    def provider(self, department: str) -> Actor:
        """The providing department's admin (sharing:approve for the department's resources)."""
        return self.as_user(f"{_SHORT[department]}.admin")

    @property
    def reviewer(self) -> Actor:
        return self.as_user(REVIEWER)

    # --- steps ----------------------------------------------------------------------------------------

    def file(self, ask: Ask, code: str) -> ShareRequest:
        """Apply; with a 符合性审查 step the reviewer passes it, so the provider's clock runs."""
        request = sharing.apply(self.session, self.consumer(ask.application), ask.body(code, self.today))
        if request.state == S.PREREVIEW.value:
            request = sharing.prereview(
                self.session, self.reviewer, request.number, passed=True, comment="申请依据充分，用途明确"
            )
        return request

    def approve(self, request: ShareRequest, provider: str, decision: DecisionIn) -> ShareRequest:
        return sharing.decide(self.session, self.provider(provider), request.number, decision)

    def refuse(self, request: ShareRequest, provider: str, reason: str) -> ShareRequest:
        decision = DecisionIn(decision="refuse", reason=reason)
        return sharing.decide(self.session, self.provider(provider), request.number, decision)

    def backdate(self, request: ShareRequest, worked: int) -> ShareRequest:
        """Move the request's clock back so that `worked` working days of it have passed (the service
        stamps the current time; a demo needs requests that are about to fall due, or overdue)."""
        now = utcnow()
        day = now.astimezone(BEIJING).date()
        start = _local(day)
        while self.calendar.working_days_between(start, now) < worked:
            day -= timedelta(days=1)
            start = _local(day)
        while not self.calendar.is_workday(day)[0]:  # filed on a working day; the count stays the same
            day -= timedelta(days=1)
            start = _local(day)
        deadline = self.calendar.add_working_days(start, self.rules.provider_days)
        request.submitted_at = request.stage_started_at = start
        if request.prereview_at is not None:
            request.prereview_at = start
        request.due_at, request.provisional_calendar = deadline.due_at, deadline.provisional
        self.session.flush()
        audit.record(
            self.session,
            self.operator,
            "demo.backdate",
            target_type="share_request",
            target_id=request.number,
            detail={"submitted_at": start.isoformat(), "due_at": deadline.due_at.isoformat()},
        )
        self.result.backdated.append(request.number)
        return request


def _local(day: date) -> datetime:
    """09:30 Beijing time on `day`, in UTC: when the demo's back-dated applications were filed."""
    return datetime.combine(day, time(9, 30), tzinfo=BEIJING).astimezone(UTC)
